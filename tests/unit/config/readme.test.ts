/** The README's configuration table is the settings table: every variable the loader reads is documented there. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SETTINGS } from '../../../shared/config/settings';

const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
const rows = new Map(
  readme
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .map((line) => [/^\| `([A-Z0-9_]+)`/.exec(line)?.[1] ?? '', line.split('|').map((cell) => cell.trim())]),
);

describe('README configuration table', () => {
  it.each(SETTINGS.map((setting) => [setting.env, setting] as const))(
    'documents %s with its default',
    (name, setting) => {
      // Assess
      const cells = rows.get(name);
      expect(cells, `README has no row for ${name}`).toBeDefined();
      const defaultCell = cells?.[3] ?? '';
      expect(defaultCell).toBe(setting.default === undefined ? '—' : `\`${setting.default}\``);
    },
  );
});
