/**
 * (1) Cold start: a fresh `node` process requires a bundle and answers one invocation against loopback fakes, vs a
 * bare `node -e 0`. Runs are interleaved (bare, webhook, health, …) so drift of the shared machine hits all alike.
 * Two figures per process: "to the answer" (what ARMS waits for; on FC the instance does not exit) from the child's
 * own clock, and "to exit" (spawn to exit, as this process measures it). After the timed runs, one more run of each
 * webhook variant under `--cpu-prof`: its top self-time entries are the section's profile summary.
 *
 * `BENCH_COLD_BASE=<dir>` (a copy of an earlier `dist/`) adds, beside each webhook variant, its twin running that
 * build's bundle, interleaved with it: a change's before → after, measured in one session.
 */
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';
import { startFakePagerDuty } from '../../tests/support/fakePagerDuty';
import { httpEvent, timerEvent } from '../../tests/support/fcEvents';
import { type CpuProfile, summarizeProfile } from './profile';
import { type BenchStore, createStore } from './store';
import { armsCallback, childEnv, median, RESULT_PREFIX, ROOT, ROUTING_KEY, resultOf, round, runNode } from './support';

interface ColdStartOptions {
  runs: number;
  storeKind: BenchStore['kind'];
  storeNote: string;
  buildDir: string;
  /** Where the profile summaries are also written, as `cold-start-profile.json` (beside `latest.json`). */
  resultsDir?: string;
}

/** Entries of each cold-start profile summary. */
const PROFILE_TOP = 10;

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
  /** Requests its store has served so far (the fake Tablestore counts them). */
  storeRequests?: () => number | undefined;
}

interface Sample {
  wallMs: number;
  loadedMs?: number;
  answeredMs?: number;
  /** Store round trips the run made (Tablestore only). */
  storeRoundTrips?: number;
}

function bundleSize(file: string) {
  return { bytes: statSync(file).size, gzipBytes: gzipSync(readFileSync(file)).length };
}

/** Every script of each function's code package (`dist/<fn>/`, the lazily loaded FC SDK included), by path. */
function packageScripts() {
  const sizes: Record<string, { bytes: number; gzipBytes: number }> = {};
  for (const fn of ['alert-webhook', 'delivery-health']) {
    const dir = join(ROOT, 'dist', fn);
    for (const name of readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort()) {
      if (name.endsWith('.js') || name.endsWith('.cache'))
        sizes[relative(ROOT, join(dir, name))] = bundleSize(join(dir, name));
    }
  }
  return sizes;
}

/** One run of `variant` under `--cpu-prof`, summarized (not timed: the profiler slows the process down). */
async function profileOnce(variant: Variant) {
  const dir = mkdtempSync(join(tmpdir(), 'bench-cold-prof-'));
  try {
    const { code, stderr } = await runNode(
      ['--cpu-prof', '--cpu-prof-interval=100', `--cpu-prof-dir=${dir}`, ...variant.args],
      variant.env,
      30_000,
    );
    const file = readdirSync(dir).find((name) => name.endsWith('.cpuprofile'));
    if (code !== 0 || file === undefined) return { error: `profiled run exited ${code}: ${stderr.trim().slice(-300)}` };
    // BENCH_COLD_PROFILES=<dir> keeps the raw profiles (for DevTools), one per variant.
    const keep = process.env.BENCH_COLD_PROFILES;
    if (keep) copyFileSync(join(dir, file), join(keep, `${variant.name.replace(/\W+/g, '-')}.cpuprofile`));
    return summarizeProfile(JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile, PROFILE_TOP);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Medians of the child's own clock: bundle loaded, answered, and the answer as a ratio to bare node's exit; and the
 * store round trips of a run (spawn to exit), where its store counts them.
 */
function answerFigures(list: readonly Sample[], bareMs: number) {
  const answered = median(list.map((sample) => sample.answeredMs ?? Number.NaN));
  const trips = list.flatMap((sample) => (sample.storeRoundTrips === undefined ? [] : [sample.storeRoundTrips]));
  return {
    medianLoadedMs: round(median(list.map((sample) => sample.loadedMs ?? Number.NaN)), 1),
    medianAnsweredMs: round(answered, 1),
    answeredRatioToBare: round(answered / bareMs, 2),
    ...(trips.length > 0 ? { medianStoreRoundTrips: median(trips) } : {}),
  };
}

async function measureColdStart(options: ColdStartOptions) {
  const pd = await startFakePagerDuty();
  const stores: BenchStore[] = [];
  const fileStorePath = mkdtempSync(join(tmpdir(), 'bench-cold-file-'));
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
        name: 'alert-webhook (file)',
        args: ['-e', childScript(bundle('alert-webhook'), 'alert-webhook')],
        env: childEnv({ ...pdEnv, STORE: 'file', STORE_PATH: fileStorePath, BENCH_EVENT_B64: webhookEvent }),
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
        storeRequests: () => store.roundTrips(),
      });
    }
    const base = process.env.BENCH_COLD_BASE;
    if (base) {
      const baseBundle = join(base, 'alert-webhook', 'index.js');
      for (const variant of variants.filter((each) => each.name.startsWith('alert-webhook'))) {
        variants.push({
          ...variant,
          name: `${variant.name} [base]`,
          args: ['-e', childScript(baseBundle, 'alert-webhook')],
          env: { ...variant.env },
        });
      }
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
        const requestsBefore = variant.storeRequests?.();
        const { code, stdout, stderr, wallMs } = await runNode(variant.args, variant.env, 30_000);
        const sample: Sample = { wallMs };
        const requestsAfter = variant.storeRequests?.();
        if (requestsBefore !== undefined && requestsAfter !== undefined) {
          sample.storeRoundTrips = requestsAfter - requestsBefore;
        }
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
          ...(variant.reports ? answerFigures(list, bare) : {}),
        };
      });
    const profiles: Record<string, Awaited<ReturnType<typeof profileOnce>>> = {};
    for (const variant of variants) {
      if (variant.name.startsWith('alert-webhook') && !variant.name.endsWith('[base]') && !failures.has(variant.name)) {
        variant.env.BENCH_EVENT_B64 = httpEvent({ body: armsCallback(1) }).toString('base64');
        profiles[variant.name] = await profileOnce(variant);
      }
    }
    if (options.resultsDir !== undefined) {
      writeFileSync(join(options.resultsDir, 'cold-start-profile.json'), `${JSON.stringify(profiles, null, 2)}\n`);
    }
    return {
      method:
        'wall time from spawn to exit of a fresh node process that requires dist/<fn>/index.js and invokes handler once ' +
        '(webhook: a new 1-alert callback delivered to the fake PagerDuty at 0 ms, on STORE=memory and, when the ' +
        'Tablestore store works, on the fake Tablestore as deployed; delivery-health: a timer event on an empty ' +
        'memory store), vs `node -e 0`; runs interleaved after one unmeasured round. "Loaded at" and "answered at" ' +
        'are ms since the child process started, as it measured them; "× bare node" is to exit, "answer × bare" is ' +
        "answered at / bare node's wall time to exit",
      pagerdutyRequests: pd.requests.length,
      failures: Object.fromEntries(failures),
      bundles: {
        // The bundle itself: index.js is the loader that runs it with its V8 code cache (app.cache).
        'alert-webhook': bundleSize(join(ROOT, 'dist', 'alert-webhook', 'app.js')),
        'delivery-health': bundleSize(join(ROOT, 'dist', 'delivery-health', 'app.js')),
      },
      packageScripts: packageScripts(),
      rows,
      profiles,
    };
  } finally {
    rmSync(fileStorePath, { recursive: true, force: true });
    await pd.close();
    for (const store of stores) await store.close();
  }
}

export { measureColdStart };
