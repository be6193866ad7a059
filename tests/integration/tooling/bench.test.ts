/**
 * `npm run bench` in its quickest mode (tiny sizes, every section), written to a temporary directory: checks that the
 * harness runs, writes well-formed results, and that every delivery scenario (storms, outage, relay drain) drained
 * and accounted for each alert: none lost, none accepted twice, the outage really failed requests, the seeding of the
 * relay drain really sent nothing. No timing is asserted: timings belong to the benchmark, not to tests (the machine
 * is shared and noisy). Needs the built bundles (`npm test` builds first).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(__dirname, '..', '..', '..');
const run = promisify(execFile);
const outDir = mkdtempSync(join(tmpdir(), 'bench-smoke-'));

/** A finite number (the figures vary; their presence and type do not). */
const finite = expect.any(Number);

describe('npm run bench --quick', () => {
  afterAll(() => rmSync(outDir, { recursive: true, force: true }));

  it('writes latest.json and BENCHMARKS.md with every section and target', async () => {
    // Act
    await run(process.execPath, [join(root, 'bench/run.mjs'), '--quick', `--out=${outDir}`], {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', TMPDIR: tmpdir() },
      timeout: 150_000,
      maxBuffer: 16 * 1024 * 1024,
    });

    // Assess
    const result = JSON.parse(readFileSync(join(outDir, 'latest.json'), 'utf8'));
    expect(result).toMatchObject({
      schema: 1,
      quick: true,
      errors: {},
      machine: { cores: finite, node: process.version },
    });
    expect(['tablestore', 'file']).toContain(result.store.kind);
    const { coldStart, warmCpu, endToEnd, storm, stormScaled, outage, relayDrain, memory, alertmanager } =
      result.sections;
    expect(coldStart.rows.map((row: { name: string }) => row.name)).toEqual(
      expect.arrayContaining(['bare', 'alert-webhook', 'alert-webhook (file)', 'delivery-health']),
    );
    for (const row of coldStart.rows)
      expect(row).toMatchObject({ runs: finite, medianMs: finite, ratioToBare: finite });
    for (const row of coldStart.rows.filter((candidate: { name: string }) => candidate.name !== 'bare'))
      expect(row).toMatchObject({ medianAnsweredMs: finite, answeredRatioToBare: finite });
    expect(coldStart.bundles['alert-webhook']).toMatchObject({ bytes: finite, gzipBytes: finite });
    expect(coldStart.packageScripts['dist/delivery-health/index.js']).toMatchObject({ bytes: finite });
    // One profiled cold start per webhook variant, summarized beside latest.json too.
    const profiles = JSON.parse(readFileSync(join(outDir, 'cold-start-profile.json'), 'utf8'));
    expect(profiles).toEqual(coldStart.profiles);
    expect(profiles['alert-webhook'].top).toHaveLength(10);
    expect(profiles['alert-webhook'].top[0]).toMatchObject({
      entry: expect.any(String),
      selfMs: finite,
      share: finite,
    });
    for (const row of warmCpu.rows) {
      expect(row).toMatchObject({
        alertsPerCallback: finite,
        bridgeUsPerAlert: finite,
        floorUsPerAlert: finite,
        ratio: finite,
        fcEnvelopeUsPerAlert: finite,
      });
    }
    for (const row of warmCpu.storeCalls) expect(row).toMatchObject({ status: 200, storeCalls: finite });
    for (const row of endToEnd.rows) {
      expect(row).toMatchObject({ p50Ms: finite, p99Ms: finite, pagerdutyRequestsPerCallback: finite });
    }
    for (const scenario of [storm, stormScaled]) {
      expect(scenario).toMatchObject({ drained: true, lost: 0, duplicatesTotal: 0, drainSeconds: finite });
      expect(scenario.distinctAccepted).toBe(scenario.alerts);
      expect(scenario.requestsPerAcceptedEvent).toEqual(finite);
    }
    expect(outage.rows.length).toBeGreaterThan(0);
    for (const row of outage.rows) {
      expect(row).toMatchObject({ drained: true, lost: 0, duplicatesTotal: 0, recoverySeconds: finite });
      expect(row.distinctAccepted).toBe(row.queued);
      expect(row.requestsDuringOutage).toBeGreaterThan(0);
    }
    expect(relayDrain.rows.length).toBeGreaterThan(0);
    for (const row of relayDrain.rows) {
      expect(row).toMatchObject({
        drained: true,
        lost: 0,
        duplicatesTotal: 0,
        sentWhileSeeding: 0,
        drainSeconds: finite,
      });
      expect(row.distinctAccepted).toBe(row.rows);
      if (result.store.kind === 'tablestore') expect(row.storeRoundTripsPerDelivered).toEqual(finite);
    }
    expect(memory).toMatchObject({ peakRssMb: finite, bareNodeMb: finite });
    expect(typeof alertmanager.available).toBe('boolean');
    const ids = result.targets.map((target: { id: string }) => target.id);
    expect(ids).toEqual(
      expect.arrayContaining(['storm-time', 'storm-scaled-time', 'outage-lost', 'relay-lost', 'relay-drain-0']),
    );
    for (const target of result.targets) {
      expect(target).toMatchObject({ id: expect.any(String), figure: expect.any(String), value: expect.any(String) });
      expect([true, false, null]).toContain(target.pass);
    }
    const markdown = readFileSync(join(outDir, 'BENCHMARKS.md'), 'utf8');
    expect(markdown.startsWith('# Benchmarks\n')).toBe(true);
    expect(markdown).toContain('## Targets');
  }, 160_000);
});
