// A relative PAGERDUTY_ROUTES_FILE is read from the function's code package (dist/<function>/ locally, the uploaded
// folder on FC), which every build empties. So the build packages it: the file at that path under the repository root
// is copied to the same path in each function's folder. `s deploy` runs the build with the same environment it passes
// to the functions, and `npm start` builds first, so both find the file where the configuration says.
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { dirname, isAbsolute, join, normalize, sep } from 'node:path';

/**
 * What the build does with `file` (the PAGERDUTY_ROUTES_FILE value) for these function folders.
 * @returns {{ copies: Array<{ from: string, to: string }>, note?: string }}
 */
export function planRoutesFile(file, root, functionDirs) {
  if (file === undefined || file.trim() === '') return { copies: [] };
  if (isAbsolute(file))
    return { copies: [], note: `PAGERDUTY_ROUTES_FILE is absolute (${file}): read as it is, not packaged` };
  const path = normalize(file);
  if (path === '..' || path.startsWith(`..${sep}`)) {
    return { copies: [], note: `PAGERDUTY_ROUTES_FILE (${file}) points outside the repository: not packaged` };
  }
  const from = join(root, path);
  if (!existsSync(from)) {
    return {
      copies: [],
      note: `PAGERDUTY_ROUTES_FILE (${file}) is not in the repository: the functions will answer 503 config_invalid`,
    };
  }
  return { copies: functionDirs.map((dir) => ({ from, to: join(dir, path) })) };
}

/** Carries out {@link planRoutesFile}; returns the lines to print. */
export function packageRoutesFile(file, root, functionDirs) {
  const plan = planRoutesFile(file, root, functionDirs);
  for (const { from, to } of plan.copies) {
    mkdirSync(dirname(to), { recursive: true });
    copyFileSync(from, to);
  }
  const lines = plan.copies.length > 0 ? [`routes: ${file} packaged into ${plan.copies.length} function(s)`] : [];
  if (plan.note !== undefined) lines.push(`routes: ${plan.note}`);
  return lines;
}
