/**
 * `docs/configuration.md` is the settings table: generated from `shared/config/settings.ts` (`npm run docs`), so it is
 * stale the moment a setting changes without a regeneration, and every variable the loader reads is documented there
 * with its default.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderConfigurationDoc } from '../../../scripts/docs/configurationDoc';
import { RULES } from '../../../shared/config/rules';
import { SETTINGS } from '../../../shared/config/settings';

const doc = readFileSync(new URL('../../../docs/configuration.md', import.meta.url), 'utf8');
const rows = new Map(
  doc
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .map((line) => [/^\| `([A-Z0-9_]+)`/.exec(line)?.[1] ?? '', line.split(' | ').map((cell) => cell.trim())]),
);

describe('docs/configuration.md', () => {
  it('is what npm run docs generates from settings.ts (run npm run docs when this fails)', () => {
    expect(doc).toBe(renderConfigurationDoc());
  });

  it.each(SETTINGS.map((setting) => [setting.env, setting] as const))(
    'documents %s with its default',
    (name, setting) => {
      // Assess
      const cells = rows.get(name);
      expect(cells, `docs/configuration.md has no row for ${name}`).toBeDefined();
      expect(cells?.[2]).toBe(setting.default === undefined ? '—' : `\`${setting.default}\``);
    },
  );

  it.each(RULES.map((rule) => [rule.line, rule] as const))('lists the rule "%s" with its code', (line, rule) => {
    // Assess
    const row = doc.split('\n').find((candidate) => candidate.startsWith(`| \`${line}\``));
    expect(row, `docs/configuration.md has no row for the rule "${line}"`).toBeDefined();
    expect(row).toContain(`\`${rule.code}\``);
  });

  it('marks every secret setting as one', () => {
    for (const setting of SETTINGS.filter((candidate) => candidate.type.startsWith('secret'))) {
      expect(rows.get(setting.env)?.[1]).toContain('**Secret.**');
    }
  });
});
