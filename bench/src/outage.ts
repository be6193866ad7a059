/**
 * (6) Outage recovery: the fake PagerDuty answers 500 to every request for `outageSeconds`; meanwhile `queued` alerts
 * arrive in `callbacks` callbacks spread over the first two thirds of the outage; then PagerDuty recovers. One run per
 * queue size, each on a fresh runtime and store. The bridge runs at its defaults (RETRY_BASE_SECONDS, RETRY_MAX_SECONDS,
 * delivery-health on s.yaml's cron) except pacing, which is off (PAGERDUTY_RATE_PER_MINUTE=100000, the fake sets no
 * limit): the figure is the circuit's recovery, not PagerDuty's rate limit (at the default 120/min a backlog above 120
 * waits for the window whatever the circuit does).
 *
 * Figures per run: seconds from the recovery to the last queued alert accepted, and the PagerDuty requests made
 * during the outage, with how they came (bursts: requests less than 100 ms apart), which should grow with the outage's
 * length, not with the queue.
 */
import { outageSwitch, startTimedPagerDuty, type TimedRequest, tally } from './pd';
import { type BenchStore, createStore } from './store';
import { armsCallback, postCallback, ROUTING_KEY, round, sleep, startLocalRuntime } from './support';

interface OutageOptions {
  queued: number[];
  outageSeconds: number;
  callbacks: number;
  capSeconds: number;
  storeKind: BenchStore['kind'];
  storeNote: string;
  buildDir: string;
}

const WAITING = ['PENDING', 'RETRY', 'SENDING'];
/** Requests closer together than this count as one burst (one send window, or one probe). */
const BURST_GAP_MS = 100;

/** The requests of [from, to) grouped into bursts: the size of each and its start in seconds from `from`. */
function bursts(events: TimedRequest[], from: number, to: number): { atSeconds: number; requests: number }[] {
  const times = events
    .map((request) => request.at ?? 0)
    .filter((at) => at >= from && at < to)
    .sort((a, b) => a - b);
  const groups: { atSeconds: number; requests: number }[] = [];
  let previous = Number.NEGATIVE_INFINITY;
  for (const at of times) {
    const last = groups[groups.length - 1];
    if (last !== undefined && at - previous < BURST_GAP_MS) last.requests++;
    else groups.push({ atSeconds: round((at - from) / 1000, 1), requests: 1 });
    previous = at;
  }
  return groups;
}

async function runOutage(queued: number, options: OutageOptions) {
  const pd = await startTimedPagerDuty();
  const outage = outageSwitch(pd);
  const store = await createStore(options.storeKind, options.buildDir, options.storeNote);
  const settings = { PAGERDUTY_RATE_PER_MINUTE: '100000' };
  const runtime = await startLocalRuntime({
    ...store.env,
    ...settings,
    PAGERDUTY_ROUTING_KEY: ROUTING_KEY,
    PAGERDUTY_EVENTS_URL: pd.url,
  });
  const perCallback = Math.ceil(queued / options.callbacks);
  const answers: Record<string, number> = {};
  const outageMs = options.outageSeconds * 1000;
  const spacingMs = (outageMs * 2) / 3 / options.callbacks;
  let drained = false;
  let outageStart = Date.now();
  let recoveredAt = outageStart;
  try {
    outage.set(true);
    outageStart = Date.now();
    for (let posted = 0, index = 0; posted < queued; posted += perCallback, index++) {
      await sleep(outageStart + index * spacingMs - Date.now());
      const response = await postCallback(runtime.url, armsCallback(Math.min(perCallback, queued - posted)));
      answers[response.status] = (answers[response.status] ?? 0) + 1;
    }
    await sleep(outageStart + outageMs - Date.now());
    outage.set(false);
    recoveredAt = Date.now();
    while (Date.now() - recoveredAt < options.capSeconds * 1000) {
      if (tally(pd).distinctAccepted >= queued) {
        drained = true;
        break;
      }
      await sleep(100);
    }
    await sleep(2_000);
  } finally {
    outage.set(false);
    await runtime.stop();
  }
  const counts = tally(pd);
  const during = tally(pd, outageStart, recoveredAt);
  const after = tally(pd, recoveredAt);
  const groups = bursts(pd.events as TimedRequest[], outageStart, recoveredAt);
  const statuses = store.statuses();
  const runs = runtime.counts();
  await store.close();
  await pd.close();
  const waiting = WAITING.reduce((sum, status) => sum + (statuses[status] ?? 0), 0);
  const firstAfter = (pd.events as TimedRequest[]).find((request) => (request.at ?? 0) >= recoveredAt);
  return {
    queued,
    callbacks: Math.ceil(queued / perCallback),
    callbackAnswers: answers,
    drained,
    recoverySeconds:
      drained && counts.lastAcceptedAt !== undefined ? round((counts.lastAcceptedAt - recoveredAt) / 1000, 1) : null,
    firstRequestAfterRecoverySeconds: firstAfter ? round(((firstAfter.at ?? 0) - recoveredAt) / 1000, 2) : null,
    requestsDuringOutage: during.requests,
    outageBursts: groups.length,
    largestBurst: groups.reduce((most, group) => Math.max(most, group.requests), 0),
    bursts: groups,
    requestsAfterRecovery: after.requests,
    pagerdutyRequests: counts.requests,
    distinctAccepted: counts.distinctAccepted,
    duplicatesTotal: counts.duplicatesTotal,
    duplicatesMaxPerKey: counts.duplicatesMaxPerKey,
    healthRuns: runs,
    storeStatusesAtEnd: statuses,
    waitingAtEnd: waiting,
    dead: statuses.DEAD ?? 0,
    lost: Math.max(0, queued - counts.distinctAccepted - waiting),
  };
}

async function measureOutage(options: OutageOptions) {
  const rows = [];
  for (const queued of options.queued) rows.push(await runOutage(queued, options));
  return {
    method:
      `the fake PagerDuty answers 500 to every request for ${options.outageSeconds} s; the alerts arrive in ` +
      `${options.callbacks} callbacks spread over the first two thirds of the outage; then it recovers. Bridge ` +
      "defaults (RETRY_BASE_SECONDS=1, RETRY_MAX_SECONDS=5, delivery-health on s.yaml's cron) except pacing off " +
      '(PAGERDUTY_RATE_PER_MINUTE=100000, no limit in the fake); one fresh runtime and store per run; time cap ' +
      `${options.capSeconds} s after the recovery`,
    store: options.storeKind,
    storeNote: options.storeNote,
    outageSeconds: options.outageSeconds,
    rows,
  };
}

export { measureOutage };
