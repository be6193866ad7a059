/**
 * The build packages a relative PAGERDUTY_ROUTES_FILE into each function's folder (`scripts/build/routesFile.mjs`),
 * because the functions read it relative to their code package and every build empties that. Real files in a
 * temporary repository; then the configuration reads the packaged file as a function would.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { packageRoutesFile, planRoutesFile } from '../../../scripts/build/routesFile.mjs';
import { loadConfig } from '../../../shared/config/config';

const ROUTES = JSON.stringify([{ name: 'db', match: ['team=db'], routingKey: 'R0UTESF1LEKEY0000000000000000001' }]);
let root: string | undefined;
afterEach(() => {
  if (root !== undefined) rmSync(root, { recursive: true, force: true });
  root = undefined;
});

function repository(): { root: string; functionDirs: string[] } {
  root = mkdtempSync(join(tmpdir(), 'routes-file-'));
  mkdirSync(join(root, 'config'));
  writeFileSync(join(root, 'config', 'routes.json'), ROUTES);
  const functionDirs = ['alert-webhook', 'delivery-health'].map((name) => join(root as string, 'dist', name));
  for (const dir of functionDirs) mkdirSync(dir, { recursive: true });
  return { root, functionDirs };
}

describe('Function: planRoutesFile', () => {
  it.each([
    { file: undefined, copies: 0, note: undefined },
    { file: '', copies: 0, note: undefined },
    { file: 'config/routes.json', copies: 2, note: undefined },
    { file: './config/routes.json', copies: 2, note: undefined },
    { file: '/etc/bridge/routes.json', copies: 0, note: /absolute/ },
    { file: '../routes.json', copies: 0, note: /outside the repository/ },
    { file: 'config/missing.json', copies: 0, note: /503 config_invalid/ },
  ])('$file → $copies copies', ({ file, copies, note }) => {
    // Prepare
    const repo = repository();

    // Act
    const plan = planRoutesFile(file, repo.root, repo.functionDirs);

    // Assess
    expect(plan.copies).toHaveLength(copies);
    if (note === undefined) expect(plan.note).toBeUndefined();
    else expect(plan.note).toMatch(note);
  });
});

describe('Function: packageRoutesFile', () => {
  it('puts the file where each function reads it, and the configuration loads its rules from there', () => {
    // Prepare
    const repo = repository();

    // Act
    const lines = packageRoutesFile('config/routes.json', repo.root, repo.functionDirs);

    // Assess
    expect(lines).toEqual(['routes: config/routes.json packaged into 2 function(s)']);
    for (const dir of repo.functionDirs) {
      expect(readFileSync(join(dir, 'config', 'routes.json'), 'utf8')).toBe(ROUTES);
      const config = loadConfig({ PAGERDUTY_ROUTES_FILE: 'config/routes.json' }, { codeDir: dir });
      expect(config.pagerduty.routesText).toBe(ROUTES);
    }
  });
});
