/**
 * (4, 5) Storm drain: `alerts` alerts on one routing key in `callbacks` callbacks, posted back to back to the local
 * runtime, with the fake PagerDuty enforcing a sliding window of `limit` events per `windowMs` per key (PagerDuty's
 * documented limiter: 120 per 60 s look-back) and the bridge at its defaults plus `settings` (the delivery-health timer
 * on s.yaml's cron, as `npm start` runs it). Runs until every alert was accepted by PagerDuty or the time cap.
 *
 * The ideal is what PagerDuty's limiter allows: from an empty window the first `limit` events are accepted at once and
 * each further `limit` one window later, so the last of N is accepted at ⌊(N − 1) / limit⌋ × window at the earliest.
 * The achieved rate relative to the allowed one is that ideal time over the measured time (N / measured ÷ N / ideal).
 */
import type { FakePagerDuty } from '../../tests/support/fakePagerDuty';
import { startTimedPagerDuty, type TimedRequest, tally } from './pd';
import { type BenchStore, createStore } from './store';
import { armsCallback, postCallback, ROUTING_KEY, round, sleep, startLocalRuntime } from './support';

interface StormScenario {
  alerts: number;
  callbacks: number;
  /** Events the fake PagerDuty accepts per key within `windowMs`. */
  limit: number;
  windowMs: number;
  /** Bridge settings beyond its defaults. */
  settings: Record<string, string>;
  capSeconds: number;
}

interface StormOptions extends StormScenario {
  storeKind: BenchStore['kind'];
  storeNote: string;
  buildDir: string;
}

const WAITING = ['PENDING', 'RETRY', 'SENDING'];

/** Most requests that arrived within any `windowMs` (what PagerDuty's limiter would count, 429s included). */
function busiestWindow(pd: FakePagerDuty, windowMs: number): number {
  const times = (pd.events as TimedRequest[]).map((request) => request.at ?? 0).sort((a, b) => a - b);
  let most = 0;
  let first = 0;
  for (let last = 0; last < times.length; last++) {
    while ((times[last] as number) - (times[first] as number) >= windowMs) first++;
    most = Math.max(most, last - first + 1);
  }
  return most;
}

/**
 * Per window of `limit` distinct deliveries (the 1st to the limit-th accepted, then the next `limit`, …): seconds from
 * `started` to its first and to its last accepted event.
 */
function windows(pd: FakePagerDuty, limit: number, alerts: number, started: number) {
  const seen = new Set<string>();
  const firsts: number[] = [];
  const lasts: number[] = [];
  for (const request of pd.events as TimedRequest[]) {
    if (request.outcome !== 202) continue;
    const body = request.body as { dedup_key?: string; event_action?: string };
    const key = `${body.dedup_key}|${body.event_action}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const at = round(((request.at ?? started) - started) / 1000, 1);
    if (seen.size % limit === 1 || limit === 1) firsts.push(at);
    if (seen.size % limit === 0 || seen.size === alerts) lasts.push(at);
  }
  return { firsts, lasts };
}

async function measureStorm(options: StormOptions) {
  const pd = await startTimedPagerDuty({ rateLimit: { limit: options.limit, windowMs: options.windowMs } });
  const store = await createStore(options.storeKind, options.buildDir, options.storeNote);
  const runtime = await startLocalRuntime({
    ...store.env,
    ...options.settings,
    PAGERDUTY_ROUTING_KEY: ROUTING_KEY,
    PAGERDUTY_EVENTS_URL: pd.url,
  });
  const perCallback = Math.ceil(options.alerts / options.callbacks);
  const bodies: string[] = [];
  for (let sent = 0; sent < options.alerts; sent += perCallback) {
    bodies.push(armsCallback(Math.min(perCallback, options.alerts - sent)));
  }
  const answers: Record<string, number> = {};
  let notStored = 0;
  let callbackMsMax = 0;
  let drained = false;
  const started = Date.now();
  let postedAt = started;
  try {
    for (const body of bodies) {
      const response = await postCallback(runtime.url, body);
      answers[response.status] = (answers[response.status] ?? 0) + 1;
      callbackMsMax = Math.max(callbackMsMax, response.ms);
      if (response.status >= 300) notStored += perCallback;
      else notStored += Number(response.json?.lost ?? 0);
    }
    postedAt = Date.now();
    while (Date.now() - postedAt < options.capSeconds * 1000) {
      if (tally(pd).distinctAccepted >= options.alerts) {
        drained = true;
        break;
      }
      await sleep(200);
    }
    // Let anything still in flight land, so late duplicates are counted too.
    await sleep(2_000);
  } finally {
    await runtime.stop();
  }
  const counts = tally(pd);
  const inline = tally(pd, started, postedAt).distinctAccepted;
  const statuses = store.statuses();
  const runs = runtime.counts();
  const timeline = runtime.runs().map((run) => ({
    kind: run.kind,
    startSeconds: round((run.startedAt - started) / 1000, 1),
    endSeconds: round((run.endedAt - started) / 1000, 1),
  }));
  const steps = windows(pd, options.limit, options.alerts, started);
  await store.close();
  await pd.close();
  const waiting = WAITING.reduce((sum, status) => sum + (statuses[status] ?? 0), 0);
  const drainSeconds = ((counts.lastAcceptedAt ?? started) - started) / 1000;
  const idealSeconds = (Math.floor((options.alerts - 1) / options.limit) * options.windowMs) / 1000;
  const settings = Object.entries(options.settings).map(([name, value]) => `${name}=${value}`);
  return {
    method:
      `${options.alerts} alerts on one routing key in ${bodies.length} callbacks posted back to back; fake PagerDuty ` +
      `limit ${options.limit} events per sliding ${options.windowMs / 1000} s per key; bridge defaults` +
      `${settings.length > 0 ? ` except ${settings.join(', ')}` : ''} (delivery-health on s.yaml's cron, ` +
      `chained runs between ticks); time cap ${options.capSeconds} s after the last callback`,
    store: store.kind,
    storeNote: store.note,
    alerts: options.alerts,
    callbacks: bodies.length,
    limit: options.limit,
    windowSeconds: options.windowMs / 1000,
    bridgeRatePerMinute: Number(options.settings.PAGERDUTY_RATE_PER_MINUTE ?? 120),
    callbackAnswers: answers,
    slowestCallbackMs: round(callbackMsMax, 0),
    postingSeconds: round((postedAt - started) / 1000, 1),
    acceptedWhilePosting: inline,
    drained,
    drainSeconds: round(drainSeconds, 1),
    idealDrainSeconds: idealSeconds,
    milestonesSeconds: steps.lasts,
    windowFirstSeconds: steps.firsts,
    allowedPerSecond: round((options.limit / options.windowMs) * 1000, 2),
    /** Ideal time over measured time; null when the storm fits in one window (no pacing to measure). */
    achievedRatio: drained && idealSeconds > 0 ? round(idealSeconds / Math.max(drainSeconds, 0.001), 3) : null,
    busiestWindowRequests: busiestWindow(pd, options.windowMs),
    healthRuns: runs,
    healthRunTimeline: timeline,
    pagerdutyRequests: counts.requests,
    accepted: counts.accepted,
    distinctAccepted: counts.distinctAccepted,
    rateLimited: counts.rateLimited,
    otherFailures: counts.otherFailures,
    requestsPerAcceptedEvent: counts.accepted > 0 ? round(counts.requests / counts.accepted, 3) : null,
    duplicatesTotal: counts.duplicatesTotal,
    duplicatesMaxPerKey: counts.duplicatesMaxPerKey,
    storeStatusesAtEnd: statuses,
    waitingAtEnd: waiting,
    dead: statuses.DEAD ?? 0,
    notStored,
    lost: Math.max(0, options.alerts - counts.distinctAccepted - waiting),
  };
}

export type { StormScenario };
export { measureStorm };
