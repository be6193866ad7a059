/**
 * `npm run bench` in its quickest mode (tiny sizes, every section), written to a temporary directory, checked for what
 * a reader of BENCHMARKS.md relies on: the delivery promises hold in every scenario the bench drives (none lost, none
 * accepted twice, every queue drained), every target of every section has its row, each row's verdict is the one its
 * figure gives, the page shows the figures of `latest.json`, and `--render` (how BENCHMARKS.md is regenerated from a
 * saved run) writes the same page again. No timing is asserted: timings belong to the benchmark, not to tests (the
 * machine is shared and noisy); only the verdicts drawn from them are. Needs the built bundles (`npm test` builds
 * first).
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = join(__dirname, '..', '..', '..');
const run = promisify(execFile);
const outDir = mkdtempSync(join(tmpdir(), 'bench-smoke-'));

// biome-ignore lint/suspicious/noExplicitAny: latest.json is the bench's own JSON, read as it is written.
type Json = any;

interface Target {
  id: string;
  figure: string;
  value: string;
  target: string;
  pass: boolean | null;
  note?: string;
}

/** A finite number (the figures vary; their presence and type do not). */
const finite = expect.any(Number);

async function bench(...args: string[]): Promise<void> {
  await run(process.execPath, [join(root, 'bench/run.mjs'), ...args], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', TMPDIR: tmpdir() },
    timeout: 150_000,
    maxBuffer: 16 * 1024 * 1024,
  });
}

/** The rows of the markdown table under `heading`, each as its cells (`\|` unescaped). */
function tableUnder(markdown: string, heading: string): string[][] {
  const start = markdown.indexOf(`\n${heading}\n`);
  expect(start, `${heading} in BENCHMARKS.md`).toBeGreaterThan(-1);
  const lines = markdown.slice(start + heading.length + 2).split('\n');
  const table = lines.slice(lines.findIndex((line) => line.startsWith('|')));
  const rows = table
    .slice(
      0,
      table.findIndex((line) => !line.startsWith('|')),
    )
    .slice(2);
  return rows.map((line) =>
    line
      .slice(2, -2)
      .split(/ (?<!\\)\| /)
      .map((cell) => cell.replace(/\\\|/g, '|')),
  );
}

const sum = (rows: Json[], field: string) => rows.reduce((total, row) => total + row[field], 0);

/**
 * Each target's verdict from its figure in `latest.json`, as the issues state the target (written here again, not
 * taken from `bench/src/targets.ts`, so a verdict drawn from the wrong figure or the wrong bound shows).
 */
function expectedVerdicts(sections: Json): Record<string, boolean | null> {
  const { coldStart, warmCpu, storm, stormScaled, outage, relayDrain, memory } = sections;
  const verdicts: Record<string, boolean | null> = {
    'cold-start-memory': coldStart.rows.find((row: Json) => row.name === 'alert-webhook').answeredRatioToBare <= 2,
    'store-calls-constant': new Set(warmCpu.storeCalls.map((row: Json) => row.storeCalls)).size === 1,
    'outage-lost': sum(outage.rows, 'lost') === 0 && sum(outage.rows, 'duplicatesTotal') === 0,
    'relay-lost': sum(relayDrain.rows, 'lost') === 0 && sum(relayDrain.rows, 'duplicatesTotal') === 0,
    memory: memory.peakRssMb <= 128,
  };
  for (const [id, scenario] of [
    ['storm', storm],
    ['storm-scaled', stormScaled],
  ]) {
    verdicts[`${id}-lost`] = scenario.lost === 0;
    verdicts[`${id}-duplicates`] = scenario.duplicatesTotal === 0;
    verdicts[`${id}-requests`] = scenario.requestsPerAcceptedEvent <= 1.02;
  }
  for (const row of warmCpu.rows) {
    verdicts[`warm-cpu-${row.alertsPerCallback}`] = row.ratio <= (row.alertsPerCallback === 1 ? 5 : 3);
  }
  for (const row of outage.rows) {
    verdicts[`outage-recovery-${row.queued}`] = row.recoverySeconds !== null && row.recoverySeconds <= 10;
  }
  for (const row of relayDrain.rows) {
    verdicts[`relay-drain-${row.pagerdutyLatencyMs}`] = row.drained && row.drainSeconds <= 4;
  }
  return verdicts;
}

describe('npm run bench --quick', () => {
  let result: Json;
  let markdown: string;

  beforeAll(async () => {
    await bench('--quick', `--out=${outDir}`);
    result = JSON.parse(readFileSync(join(outDir, 'latest.json'), 'utf8'));
    markdown = readFileSync(join(outDir, 'BENCHMARKS.md'), 'utf8');
  }, 160_000);
  afterAll(() => rmSync(outDir, { recursive: true, force: true }));

  it('runs every section without an error', () => {
    expect(result).toMatchObject({
      schema: 1,
      quick: true,
      errors: {},
      machine: { cores: finite, node: process.version },
    });
    expect(['tablestore', 'file']).toContain(result.store.kind);
    expect(Object.keys(result.sections).sort()).toEqual([
      'alertmanager',
      'coldStart',
      'endToEnd',
      'memory',
      'outage',
      'relayDrain',
      'storm',
      'stormScaled',
      'warmCpu',
    ]);
    expect(markdown).not.toContain('## Sections that failed');
  });

  it('keeps the delivery promises in every scenario it drives: none lost, none accepted twice, all drained', () => {
    const { storm, stormScaled, outage, relayDrain } = result.sections;
    for (const scenario of [storm, stormScaled]) {
      expect(scenario).toMatchObject({ drained: true, lost: 0, duplicatesTotal: 0 });
      expect(scenario.distinctAccepted).toBe(scenario.alerts);
    }
    expect(outage.rows.length).toBeGreaterThan(0);
    for (const row of outage.rows) {
      expect(row).toMatchObject({ drained: true, lost: 0, duplicatesTotal: 0 });
      expect(row.distinctAccepted).toBe(row.queued);
      // The outage really failed PagerDuty's answers: otherwise the recovery figure measures nothing.
      expect(row.requestsDuringOutage).toBeGreaterThan(0);
    }
    expect(relayDrain.rows.length).toBeGreaterThan(0);
    for (const row of relayDrain.rows) {
      // Seeding the due rows sent nothing: the relay drained them all.
      expect(row).toMatchObject({ drained: true, lost: 0, duplicatesTotal: 0, sentWhileSeeding: 0 });
      expect(row.distinctAccepted).toBe(row.rows);
    }
  });

  it('has a target for every section, none of them left unmeasured for want of its section', () => {
    const ids: string[] = result.targets.map((target: Target) => target.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const pattern of [
      /^cold-start$/,
      /^cold-start-file$/,
      /^cold-start-memory$/,
      /^warm-cpu-\d+$/,
      /^store-calls-constant$/,
      /^e2e-latency-\d+$/,
      /^e2e-store-trips-\d+$/,
      ...['time', 'rate', 'requests', 'lost', 'duplicates'].map((part) => new RegExp(`^storm-${part}$`)),
      ...['time', 'rate', 'requests', 'lost', 'duplicates'].map((part) => new RegExp(`^storm-scaled-${part}$`)),
      /^outage-recovery-\d+$/,
      /^outage-requests$/,
      /^outage-lost$/,
      /^relay-drain-\d+$/,
      /^relay-trips-\d+$/,
      /^relay-lost$/,
      /^memory$/,
      /^alertmanager(-\d+)?$/,
    ]) {
      expect(
        ids.some((id) => pattern.test(id)),
        `a target ${pattern}`,
      ).toBe(true);
    }
    for (const target of result.targets as Target[]) {
      expect([true, false, null]).toContain(target.pass);
      expect(target.note ?? '').not.toBe('section not run');
      // A target not judged says why.
      if (target.pass === null) expect(target.note).toEqual(expect.any(String));
    }
  });

  it('gives each target the verdict its figure gives', () => {
    const expected = expectedVerdicts(result.sections);
    const byId = new Map((result.targets as Target[]).map((target) => [target.id, target]));
    for (const [id, pass] of Object.entries(expected)) {
      expect(byId.get(id)?.pass, id).toBe(pass);
    }
    // The safety targets, whatever the machine: the promises above are what they judge.
    for (const id of ['storm-lost', 'storm-duplicates', 'storm-scaled-lost', 'outage-lost', 'relay-lost']) {
      expect(byId.get(id)?.pass, id).toBe(true);
    }
  });

  it('renders one Targets row per target: its figure, measured value, target and verdict', () => {
    const rows = tableUnder(markdown, '## Targets');
    const verdict = (pass: boolean | null) => (pass === null ? 'n/a' : pass ? 'PASS' : 'FAIL');
    expect(rows).toEqual(
      (result.targets as Target[]).map((target) => [
        target.figure,
        target.value,
        target.target,
        `${verdict(target.pass)}${target.note ? ` (${target.note})` : ''}`,
      ]),
    );
    // Every target missed is explained below the table, and only those.
    const missed = (result.targets as Target[]).filter((target) => target.pass === false);
    const notMetSection = markdown.split('\n### Targets not met, and what limits them\n')[1]?.split('\n## ')[0] ?? '';
    const explained = notMetSection.match(/^- \*\*.+?\*\*:/gm) ?? [];
    expect(explained).toEqual(missed.map((target) => `- **${target.figure}**:`));
  });

  it('shows the figures of latest.json in its sections', () => {
    const { coldStart, memory, relayDrain } = result.sections;
    const bare = coldStart.rows.find((row: Json) => row.name === 'bare');
    expect(markdown).toContain(`${bare.medianMs} ms`);
    expect(markdown).toContain(`${memory.peakRssMb} MB`);
    for (const row of relayDrain.rows) expect(markdown).toContain(`${row.drainSeconds} s`);
  });

  it('re-renders the same BENCHMARKS.md from latest.json (`--render`, how the page is regenerated)', async () => {
    // Prepare
    const again = mkdtempSync(join(tmpdir(), 'bench-render-'));
    try {
      cpSync(join(outDir, 'latest.json'), join(again, 'latest.json'));

      // Act
      await bench('--render', `--out=${again}`);

      // Assess
      expect(readFileSync(join(again, 'BENCHMARKS.md'), 'utf8')).toBe(markdown);
      expect(JSON.parse(readFileSync(join(again, 'latest.json'), 'utf8')).targets).toEqual(result.targets);
    } finally {
      rmSync(again, { recursive: true, force: true });
    }
  }, 60_000);
});
