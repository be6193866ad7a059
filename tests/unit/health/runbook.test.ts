/**
 * `docs/runbook.md` has a section for every rule of the verdict, and the self-alert of each rule points at it (its
 * `custom_details.runbook`, and a link when `RUNBOOK_URL` says where the runbook is published).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RUNBOOK_PATH, selfAlertEvent } from '../../../shared/health/selfAlert';
import { type HealthRule, RULE_NAMES, Verdict } from '../../../shared/health/verdict';
import { eventProblems } from '../../../shared/pagerduty/eventProblems';
import { anchorsOf } from '../../support/markdown';

const ROOT = join(__dirname, '..', '..', '..');
const RUNBOOK_URL = 'https://github.com/example/arms-pagerduty-bridge/blob/main/docs/runbook.md';
const runbook = readFileSync(join(ROOT, RUNBOOK_PATH), 'utf8');
const anchors = anchorsOf(runbook);

const failingOn = (rule: HealthRule) => ({
  verdict: Verdict.FAILING,
  rule,
  rules: [rule],
  reasons: [`${rule} matched`],
});
const REPORT = { deliveries: {}, oldestWaitingSeconds: null };

describe('docs/runbook.md', () => {
  it('exists where the self-alert says', () => {
    expect(existsSync(join(ROOT, RUNBOOK_PATH))).toBe(true);
  });

  it.each(RULE_NAMES)(
    'has a section for the rule %s: what it means, what to check first, which tool, how it clears',
    (rule) => {
      // Assess
      expect(anchors.has(rule), `no "## ${rule}" heading`).toBe(true);
      const section = runbook.split(`\n## ${rule}\n`)[1]?.split('\n## ')[0] ?? '';
      expect(section).toMatch(/^\n\*\*(Failing|Degraded)\.\*\*/);
      expect(section).toContain('- Check first:');
      expect(section).toContain('- Tool:');
      expect(section).toContain('- Clears:');
    },
  );

  it('has no section for a rule the verdict does not have', () => {
    // Assess
    const sections = [...runbook.matchAll(/^## (\S+)$/gm)].map((match) => match[1]);
    expect(sections).toEqual([...RULE_NAMES]);
  });
});

describe('Function: selfAlertEvent links the runbook', () => {
  it.each(RULE_NAMES)('%s: custom_details.runbook names the section, and the link opens it', (rule) => {
    // Act
    const bare = selfAlertEvent(failingOn(rule), REPORT);
    const published = selfAlertEvent(failingOn(rule), REPORT, { runbookUrl: RUNBOOK_URL });

    // Assess
    const section = (bare.payload.custom_details as { runbook: string }).runbook;
    const [path, anchor] = section.split('#');
    expect(path).toBe(RUNBOOK_PATH);
    expect(anchors.has(anchor as string)).toBe(true);
    expect(bare.links).toBeUndefined();
    expect(published.links).toEqual([{ href: `${RUNBOOK_URL}#${rule}`, text: `Runbook: ${rule}` }]);
    expect(eventProblems(published)).toEqual([]);
  });

  it('replaces a fragment already on RUNBOOK_URL', () => {
    // Act
    const event = selfAlertEvent(failingOn('auth'), REPORT, { runbookUrl: `${RUNBOOK_URL}#top` });

    // Assess
    expect(event.links?.[0]?.href).toBe(`${RUNBOOK_URL}#auth`);
  });
});
