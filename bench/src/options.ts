/**
 * Options of `npm run bench`, from the environment or argv (argv wins):
 *
 *   BENCH_QUICK=1        / --quick          tiny sizes and few runs: a smoke run of every section (seconds, not minutes)
 *   BENCH_ONLY=a,b       / --only=a,b       sections to run: cold, warm, e2e, storm, storm-scaled, outage, relay,
 *                                           memory, alertmanager
 *   BENCH_STORE=auto     / --store=auto     store of the end-to-end sections: auto (Tablestore fake when the adapter
 *                                           works, else file), tablestore, file
 *   BENCH_OUT=<dir>      / --out=<dir>      write latest.json and BENCHMARKS.md there instead of bench/results/ and the
 *                                           repository root (the smoke test uses this)
 *                          --render        measure nothing: re-render BENCHMARKS.md (and the targets) from latest.json
 */
import type { StoreChoice } from './store';
import type { StormScenario } from './storm';

const SECTIONS = ['cold', 'warm', 'e2e', 'storm', 'storm-scaled', 'outage', 'relay', 'memory', 'alertmanager'] as const;
type Section = (typeof SECTIONS)[number];

interface BenchOptions {
  quick: boolean;
  sections: Section[];
  store: StoreChoice;
  outDir?: string;
  render: boolean;
}

function parseOptions(argv: readonly string[], env: NodeJS.ProcessEnv): BenchOptions {
  const values: Record<string, string | undefined> = {
    quick: env.BENCH_QUICK,
    only: env.BENCH_ONLY,
    store: env.BENCH_STORE,
    out: env.BENCH_OUT,
    render: undefined,
  };
  for (const arg of argv) {
    const match = /^--(quick|only|store|out|render)(?:=(.*))?$/.exec(arg);
    if (!match) throw new Error(`unknown argument ${arg} (expected --quick, --only=…, --store=…, --out=…, --render)`);
    values[match[1] as string] = match[2] ?? '1';
  }
  const quick = values.quick !== undefined && !['', '0', 'false'].includes(values.quick);
  const only = values.only?.trim() ? values.only.split(',').map((name) => name.trim()) : [...SECTIONS];
  for (const name of only) {
    if (!(SECTIONS as readonly string[]).includes(name)) {
      throw new Error(`unknown section "${name}" (expected some of ${SECTIONS.join(', ')})`);
    }
  }
  const store = (values.store?.trim() || 'auto') as StoreChoice;
  if (!['auto', 'tablestore', 'file'].includes(store)) {
    throw new Error(`BENCH_STORE must be auto, tablestore or file (got "${store}")`);
  }
  return {
    quick,
    sections: only as Section[],
    store,
    outDir: values.out?.trim() || undefined,
    render: values.render !== undefined,
  };
}

/** PagerDuty's documented limiter: 120 events per key over a sliding 60 s look-back. */
const PD_LIMIT = { limit: 120, windowMs: 60_000 };

/**
 * Sizes per mode. The full run takes about 15 minutes on a 2-core machine, most of it waiting on PagerDuty's window
 * (two storms of about 2 minutes each) and on the two outages (a minute each). Quick mode keeps every storm inside one
 * window and every outage to seconds: it checks that each section runs and accounts for every alert, not the figures.
 */
function plan(quick: boolean) {
  const storm: StormScenario = { alerts: 300, callbacks: 30, ...PD_LIMIT, settings: {}, capSeconds: 200 };
  const stormScaled: StormScenario = {
    alerts: 3000,
    callbacks: 30,
    limit: PD_LIMIT.limit * 10,
    windowMs: PD_LIMIT.windowMs,
    settings: { PAGERDUTY_RATE_PER_MINUTE: String(PD_LIMIT.limit * 10) },
    capSeconds: 200,
  };
  return quick
    ? {
        coldRuns: 2,
        warm: { sizes: [1, 10], samples: 2, profile: { size: 10, callbacks: 2, top: 10 } },
        e2e: { latencies: [0], sizes: [1, 5], reps: () => 2 },
        storm: { ...storm, alerts: 40, callbacks: 4, capSeconds: 10 },
        stormScaled: { ...stormScaled, alerts: 60, callbacks: 3, capSeconds: 10 },
        outage: { queued: [10], outageSeconds: 2, callbacks: 2, capSeconds: 15 },
        relay: { rows: 50, perCallback: 25, latencies: [0], capSeconds: 15 },
        memory: { runs: 1, alerts: 50 },
        alertmanager: { alerts: 20, latencies: [0], capSeconds: 10 },
      }
    : {
        coldRuns: 15,
        warm: { sizes: [1, 100, 1000], samples: 21, profile: { size: 1000, callbacks: 20, top: 40 } },
        e2e: {
          latencies: [0, 50],
          sizes: [1, 10, 100],
          reps: (size: number) => (size >= 100 ? 25 : size >= 10 ? 50 : 100),
        },
        storm,
        stormScaled,
        outage: { queued: [50, 200], outageSeconds: 60, callbacks: 5, capSeconds: 60 },
        relay: { rows: 1000, perCallback: 100, latencies: [0, 50], capSeconds: 60 },
        memory: { runs: 5, alerts: 1000 },
        alertmanager: { alerts: 1000, latencies: [0, 50], capSeconds: 60 },
      };
}

export type { BenchOptions, Section };
export { parseOptions, plan, SECTIONS };
