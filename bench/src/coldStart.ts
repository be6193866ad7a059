/**
 * (1) Cold start: a fresh `node` process requires a bundle and answers one invocation against loopback fakes, vs a
 * bare `node -e 0`. Runs are interleaved (bare, webhook, health, …) so drift of the shared machine hits all alike.
 * The figure is the wall time from spawn to exit, as measured by this process; the child also reports when the
 * bundle was loaded and when it answered (ms since its own start).
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { startFakePagerDuty } from '../../tests/support/fakePagerDuty';
import { httpEvent, timerEvent } from '../../tests/support/fcEvents';
import { type BenchStore, createStore } from './store';
import { armsCallback, childEnv, median, RESULT_PREFIX, ROOT, ROUTING_KEY, resultOf, round, runNode } from './support';

interface ColdStartOptions {
  runs: number;
  storeKind: BenchStore['kind'];
  storeNote: string;
  buildDir: string;
}

/** The script the child runs: require, invoke once, print when it loaded and answered, exit. */
function childScript(bundle: string, functionName: string): string {
  return `
const loadStart = performance.now();
const bundle = require(${JSON.stringify(bundle)});
const loadedMs = performance.now();
const context = { requestId: 'bench-cold', credentials: {}, function: { name: ${JSON.stringify(functionName)} } };
bundle.handler(Buffer.from(process.env.BENCH_EVENT_B64, 'base64'), context).then(
  (result) => {
    const answeredMs = performance.now();
    process.stdout.write(${JSON.stringify(RESULT_PREFIX)} + JSON.stringify({
      ok: true, statusCode: result && result.statusCode, loadStart, loadedMs, answeredMs,
    }) + '\\n');
    process.exit(0);
  },
  (error) => {
    process.stdout.write(${JSON.stringify(RESULT_PREFIX)} + JSON.stringify({ ok: false, error: String(error) }) + '\\n');
    process.exit(1);
  },
);`;
}

interface Variant {
  name: string;
  args: string[];
  env: Record<string, string>;
  /** Whether the child prints a result line (not bare node). */
  reports: boolean;
}

interface Sample {
  wallMs: number;
  loadedMs?: number;
  answeredMs?: number;
}

function bundleSize(fn: string) {
  const file = join(ROOT, 'dist', fn, 'index.js');
  return { bytes: statSync(file).size, gzipBytes: gzipSync(readFileSync(file)).length };
}

async function measureColdStart(options: ColdStartOptions) {
  const pd = await startFakePagerDuty();
  const stores: BenchStore[] = [];
  try {
    const pdEnv = { PAGERDUTY_ROUTING_KEY: ROUTING_KEY, PAGERDUTY_EVENTS_URL: pd.url, LOG_LEVEL: 'WARN' };
    const webhookEvent = httpEvent({ body: armsCallback(1) }).toString('base64');
    const timerB64 = timerEvent().toString('base64');
    const bundle = (fn: string) => join(ROOT, 'dist', fn, 'index.js');
    const variants: Variant[] = [
      { name: 'bare', args: ['-e', '0'], env: childEnv({}), reports: false },
      {
        name: 'alert-webhook',
        args: ['-e', childScript(bundle('alert-webhook'), 'alert-webhook')],
        env: childEnv({ ...pdEnv, STORE: 'memory', BENCH_EVENT_B64: webhookEvent }),
        reports: true,
      },
      {
        name: 'delivery-health',
        args: ['-e', childScript(bundle('delivery-health'), 'delivery-health')],
        env: childEnv({ ...pdEnv, STORE: 'memory', BENCH_EVENT_B64: timerB64 }),
        reports: true,
      },
    ];
    if (options.storeKind === 'tablestore') {
      const store = await createStore('tablestore', options.buildDir, options.storeNote);
      stores.push(store);
      variants.push({
        name: 'alert-webhook (Tablestore)',
        args: ['-e', childScript(bundle('alert-webhook'), 'alert-webhook')],
        env: childEnv({ ...pdEnv, ...store.env, BENCH_EVENT_B64: '' }),
        reports: true,
      });
    }
    const samples = new Map<string, Sample[]>(variants.map((variant) => [variant.name, []]));
    const failures = new Map<string, string>();
    // One unmeasured round first: file-system caches warm for every variant alike.
    for (let run = -1; run < options.runs; run++) {
      for (const variant of variants) {
        // Each webhook run gets a new alert, so no run is a duplicate of an earlier one.
        if (variant.env.BENCH_EVENT_B64 !== undefined && variant.name.startsWith('alert-webhook')) {
          variant.env.BENCH_EVENT_B64 = httpEvent({ body: armsCallback(1) }).toString('base64');
        }
        if (failures.has(variant.name)) continue;
        const { code, stdout, stderr, wallMs } = await runNode(variant.args, variant.env, 30_000);
        const sample: Sample = { wallMs };
        let failure: string | undefined;
        if (code !== 0) failure = `exited ${code}: ${(stderr || stdout).trim().split('\n').slice(-3).join(' ')}`;
        else if (variant.reports) {
          const result = resultOf<{ ok: boolean; statusCode?: number; loadedMs: number; answeredMs: number }>(
            stdout,
            variant.name,
          );
          if (!result.ok || (result.statusCode !== undefined && result.statusCode >= 300)) {
            failure = `did not answer 2xx: ${JSON.stringify(result).slice(0, 300)}`;
          }
          sample.loadedMs = result.loadedMs;
          sample.answeredMs = result.answeredMs;
        }
        if (failure !== undefined) {
          // The deployed-store variant depends on an adapter still being built: report it, keep the other figures.
          if (variant.name === 'bare' || variant.name === 'alert-webhook')
            throw new Error(`${variant.name} ${failure}`);
          failures.set(variant.name, failure);
          continue;
        }
        if (run >= 0) samples.get(variant.name)?.push(sample);
      }
    }
    const bare = median((samples.get('bare') ?? []).map((sample) => sample.wallMs));
    const rows = variants
      .filter((variant) => !failures.has(variant.name))
      .map((variant) => {
        const list = samples.get(variant.name) ?? [];
        const wall = median(list.map((sample) => sample.wallMs));
        return {
          name: variant.name,
          runs: list.length,
          medianMs: round(wall, 1),
          ratioToBare: round(wall / bare, 2),
          ...(variant.reports
            ? {
                medianLoadedMs: round(median(list.map((sample) => sample.loadedMs ?? Number.NaN)), 1),
                medianAnsweredMs: round(median(list.map((sample) => sample.answeredMs ?? Number.NaN)), 1),
              }
            : {}),
        };
      });
    return {
      method:
        'wall time from spawn to exit of a fresh node process that requires dist/<fn>/index.js and invokes handler once ' +
        '(webhook: a new 1-alert callback delivered to the fake PagerDuty at 0 ms, on STORE=memory and, when the ' +
        'Tablestore store works, on the fake Tablestore as deployed; delivery-health: a timer event on an empty ' +
        'memory store), vs `node -e 0`; runs interleaved after one unmeasured round. "Loaded at" and "answered at" ' +
        'are ms since the child process started, as it measured them',
      pagerdutyRequests: pd.requests.length,
      failures: Object.fromEntries(failures),
      bundles: { 'alert-webhook': bundleSize('alert-webhook'), 'delivery-health': bundleSize('delivery-health') },
      rows,
    };
  } finally {
    await pd.close();
    for (const store of stores) await store.close();
  }
}

export { measureColdStart };
