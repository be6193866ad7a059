/**
 * (7) Relay drain: `rows` due deliveries drained by delivery-health, once per PagerDuty latency, each on a fresh store.
 *
 * Seeding: a first runtime takes the alerts in callbacks of `perCallback` with WEBHOOK_DEADLINE_MS=500, which leaves
 * the webhook no room for a send (one needs PAGERDUTY_TIMEOUT_MS = 2,500 ms plus the answer reserve), so every alert is
 * stored and queued, never sent; its kick goes to a function that does not exist (HEALTH_FUNCTION_NAME) and its timer
 * never fires, so nothing drains yet. Draining: a second runtime on the same store, at the defaults with pacing off
 * (PAGERDUTY_RATE_PER_MINUTE=100000) and the timer idle, gets one invocation of delivery-health through the emulated
 * FC invoke API (as a kick would); chained runs follow on their own. Measured until every row was accepted and the
 * store has been quiet for a second: drain time and rate, and store round trips per delivered alert (requests counted
 * by the fake Tablestore; n/a on the file store), the health report's own reads included.
 */
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import type { LoggedRequest } from '../../tests/support/fakeTablestore/types';
import { startTimedPagerDuty, type TimedRequest, tally } from './pd';
import { type BenchStore, createStore } from './store';
import { armsCallback, invokeFunction, postCallback, ROUTING_KEY, round, sleep, startLocalRuntime } from './support';

interface RelayDrainOptions {
  rows: number;
  perCallback: number;
  latencies: number[];
  capSeconds: number;
  storeKind: BenchStore['kind'];
  storeNote: string;
  buildDir: string;
}

const PACING_OFF = { PAGERDUTY_RATE_PER_MINUTE: '100000', LOCAL_TIMER_SECONDS: '3600' };
/** The store counts as quiet after this long without a request (the run and its chained runs are over). */
const QUIET_MS = 1_000;

/** Posts `rows` alerts to a runtime that cannot send or drain them; returns what PagerDuty saw meanwhile. */
async function seed(store: BenchStore, pdUrl: string, rows: number, perCallback: number) {
  const runtime = await startLocalRuntime({
    ...store.env,
    ...PACING_OFF,
    PAGERDUTY_ROUTING_KEY: ROUTING_KEY,
    PAGERDUTY_EVENTS_URL: pdUrl,
    WEBHOOK_DEADLINE_MS: '500',
    HEALTH_FUNCTION_NAME: 'bench-no-such-function',
  });
  const answers: Record<string, number> = {};
  try {
    for (let posted = 0; posted < rows; posted += perCallback) {
      const response = await postCallback(runtime.url, armsCallback(Math.min(perCallback, rows - posted)));
      answers[response.status] = (answers[response.status] ?? 0) + 1;
    }
  } finally {
    await runtime.stop();
  }
  return answers;
}

/** Waits until the store has answered no request for {@link QUIET_MS} (or `capMs`); undefined counts are quiet. */
async function storeQuiet(store: BenchStore, capMs: number): Promise<void> {
  const until = Date.now() + capMs;
  let last = store.roundTrips();
  let since = Date.now();
  while (Date.now() < until && Date.now() - since < QUIET_MS) {
    await sleep(100);
    const now = store.roundTrips();
    if (now !== last) {
      last = now;
      since = Date.now();
    }
  }
}

/** CPU time (user + system, ms) of a process and all its threads so far, from /proc; undefined where unavailable. */
function processCpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th, in clock ticks.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? ticks * 10 : undefined;
  } catch {
    return undefined;
  }
}

/** Store requests by operation and tables, with the rows they carried (batch operations) per request. */
function breakdown(entries: readonly LoggedRequest[]) {
  const rows: Record<string, { requests: number; rows: number }> = {};
  for (const entry of entries) {
    const name = `${entry.op} ${entry.tables.join('+')}`;
    const item = rows[name] ?? { requests: 0, rows: 0 };
    rows[name] = item;
    item.requests++;
    const tables = (entry.request?.tables ?? []) as { primaryKey?: unknown[]; rows?: unknown[] }[];
    const carried = tables.reduce((sum, table) => sum + (table.primaryKey?.length ?? table.rows?.length ?? 0), 0);
    item.rows += carried;
  }
  return Object.entries(rows)
    .sort((a, b) => b[1].requests - a[1].requests)
    .map(([request, { requests, rows: carried }]) => ({
      request,
      requests,
      // Rows carried are counted for batch operations only (a GetRange's rows are in its answer, not its request).
      rowsPerRequest: request.startsWith('Batch') ? round(carried / requests, 1) : null,
    }));
}

function delta(before: Record<string, number> | undefined, after: Record<string, number> | undefined) {
  if (before === undefined || after === undefined) return undefined;
  const out: Record<string, number> = {};
  for (const [kind, count] of Object.entries(after)) {
    const diff = count - (before[kind] ?? 0);
    if (diff > 0) out[kind] = diff;
  }
  return out;
}

async function drainOnce(latencyMs: number, options: RelayDrainOptions) {
  const pd = await startTimedPagerDuty({ latencyMs });
  const store = await createStore(options.storeKind, options.buildDir, options.storeNote, { logRequests: true });
  try {
    const seedAnswers = await seed(store, pd.url, options.rows, options.perCallback);
    const sentWhileSeeding = pd.events.length;
    const dueAtStart = store.statuses();
    const runtime = await startLocalRuntime({
      ...store.env,
      ...PACING_OFF,
      PAGERDUTY_ROUTING_KEY: ROUTING_KEY,
      PAGERDUTY_EVENTS_URL: pd.url,
    });
    let drained = false;
    const cpu = { runtimeMs: Number.NaN, harnessMs: Number.NaN, wallMs: Number.NaN };
    let firstRun: { status: number; relay?: Record<string, unknown> } = { status: 0 };
    const byKindBefore = store.roundTripsByKind();
    const tripsBefore = store.roundTrips();
    const logBefore = store.requestLog().length;
    const runtimeCpuBefore = processCpuMs(runtime.child.pid);
    const harnessCpuBefore = process.cpuUsage();
    const started = Date.now();
    try {
      const invoked = await invokeFunction(runtime.url, 'delivery-health', { async: false, payload: 'bench-drain' });
      try {
        firstRun = { status: invoked.status, relay: JSON.parse(invoked.text).relay };
      } catch {
        firstRun = { status: invoked.status };
      }
      while (Date.now() - started < options.capSeconds * 1000) {
        if (tally(pd).distinctAccepted >= options.rows) {
          drained = true;
          break;
        }
        await sleep(50);
      }
      // CPU up to the last send (within one poll): the wait for a quiet store would only dilute it.
      cpu.runtimeMs = (processCpuMs(runtime.child.pid) ?? Number.NaN) - (runtimeCpuBefore ?? Number.NaN);
      const harness = process.cpuUsage(harnessCpuBefore);
      cpu.harnessMs = (harness.user + harness.system) / 1000;
      cpu.wallMs = Date.now() - started;
      await storeQuiet(store, 10_000);
    } finally {
      await runtime.stop();
    }
    const tripsAfter = store.roundTrips();
    const byKind = delta(byKindBefore, store.roundTripsByKind());
    const counts = tally(pd);
    const firstAt = (pd.events as TimedRequest[])[sentWhileSeeding]?.at;
    const drainSeconds = counts.lastAcceptedAt !== undefined ? (counts.lastAcceptedAt - started) / 1000 : null;
    const sendSeconds =
      counts.lastAcceptedAt !== undefined && firstAt !== undefined ? (counts.lastAcceptedAt - firstAt) / 1000 : null;
    const trips = tripsBefore !== undefined && tripsAfter !== undefined ? tripsAfter - tripsBefore : undefined;
    const statuses = store.statuses();
    return {
      pagerdutyLatencyMs: latencyMs,
      rows: options.rows,
      seedAnswers,
      sentWhileSeeding,
      storeStatusesAtStart: dueAtStart,
      drained,
      drainSeconds: drainSeconds === null ? null : round(drainSeconds, 2),
      firstSendSeconds: firstAt !== undefined ? round((firstAt - started) / 1000, 2) : null,
      sendSeconds: sendSeconds === null ? null : round(sendSeconds, 2),
      ratePerSecond: drainSeconds ? round(counts.distinctAccepted / drainSeconds, 0) : null,
      healthRuns: runtime.counts(),
      firstRun,
      storeRoundTrips: trips ?? null,
      storeRoundTripsByKind: byKind ?? null,
      storeRequests: options.storeKind === 'tablestore' ? breakdown(store.requestLog().slice(logBefore)) : null,
      cpuMs: {
        bridge: Number.isFinite(cpu.runtimeMs) ? Math.round(cpu.runtimeMs) : null,
        fakesAndHarness: Math.round(cpu.harnessMs),
        wall: cpu.wallMs,
      },
      storeRoundTripsPerDelivered:
        trips !== undefined && counts.distinctAccepted > 0 ? round(trips / counts.distinctAccepted, 3) : null,
      pagerdutyRequests: counts.requests,
      distinctAccepted: counts.distinctAccepted,
      duplicatesTotal: counts.duplicatesTotal,
      duplicatesMaxPerKey: counts.duplicatesMaxPerKey,
      storeStatusesAtEnd: statuses,
      lost: options.rows - counts.distinctAccepted,
    };
  } finally {
    await store.close();
    await pd.close();
  }
}

async function measureRelayDrain(options: RelayDrainOptions) {
  const rows = [];
  for (const latencyMs of options.latencies) rows.push(await drainOnce(latencyMs, options));
  return {
    method:
      `${options.rows} due deliveries on one routing key, queued by callbacks of ${options.perCallback} to a runtime ` +
      'with WEBHOOK_DEADLINE_MS=500 (no send fits), no kick and no timer; then a fresh runtime on the same store ' +
      '(defaults, pacing off: PAGERDUTY_RATE_PER_MINUTE=100000, timer idle) and one synchronous invocation of ' +
      'delivery-health through the emulated FC invoke API, chained runs following on their own; drain time from the ' +
      'invocation to the last accepted event; store round trips from the invocation until the store was quiet for ' +
      `${QUIET_MS / 1000} s (health report included)`,
    store: options.storeKind,
    storeNote: options.storeNote,
    cores: cpus().length,
    cpuNote:
      'CPU from the invocation to the last send (polled every 50 ms): bridge = the local runtime process with its function ' +
      'workers (/proc), fakes and harness = this process (the fake PagerDuty and the fake Tablestore live here)',
    roundTripsCountedBy:
      options.storeKind === 'tablestore'
        ? 'the fake Tablestore (requests received, every operation type)'
        : 'not counted (file store: the fake Tablestore counts round trips)',
    rows,
  };
}

export { measureRelayDrain };
