/**
 * Runs a built operator tool as an operator does: `node dist/ops/<tool>.js` in a child process (the test run builds
 * first: `npm test` runs `npm run build`), from the repository root, with a hermetic environment: only
 * PATH/HOME/TMPDIR/LANG/SystemRoot of this process, then the test's variables. A developer's routing key or store never
 * reaches it.
 *
 * @example
 * const run = await runOpsTool('routes', ['alertname=HighCPU'], { PAGERDUTY_ROUTING_KEY: KEY });
 * expect(run.code).toBe(0);
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const INHERITED = ['PATH', 'HOME', 'TMPDIR', 'LANG', 'SystemRoot'] as const;

type OpsToolName = 'status' | 'redrive' | 'sendTest' | 'routes' | 'checkConfig' | 'trace';

interface ToolRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Fails early, with the fix, when a bundle is missing. */
function assertBuilt(tools: readonly OpsToolName[]): void {
  for (const tool of tools) {
    if (!existsSync(join(ROOT, 'dist', 'ops', `${tool}.js`))) {
      throw new Error(`dist/ops/${tool}.js is missing: run node scripts/build.mjs first`);
    }
  }
}

/** Runs a built tool to completion (bounded), whatever its exit code. */
function runOpsTool(
  tool: OpsToolName,
  args: string[],
  env: Record<string, string>,
  options: { cwd?: string } = {},
): Promise<ToolRun> {
  const base: Record<string, string> = {};
  for (const name of INHERITED) if (process.env[name] !== undefined) base[name] = process.env[name] as string;
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [join(ROOT, 'dist', 'ops', `${tool}.js`), ...args],
      { cwd: options.cwd ?? ROOT, env: { ...base, ...env }, timeout: 15_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : undefined;
        if (code === undefined) reject(error);
        else resolve({ code, stdout, stderr });
      },
    );
  });
}

export type { OpsToolName, ToolRun };
export { assertBuilt, runOpsTool };
