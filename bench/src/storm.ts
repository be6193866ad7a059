/**
 * (4) Storm drain: `alerts` alerts in `callbacks` callbacks, posted back to back to the local runtime, with the fake
 * PagerDuty enforcing PagerDuty's per-key limit scaled up by `scale` (120 events per 60 s → 120 per 60/scale s) and
 * the bridge's `PAGERDUTY_RATE_PER_MINUTE` set to the same scaled rate; its retry delays are scaled down alike
 * (RETRY_BASE_SECONDS 30 → 30/scale, at least 1; RETRY_MAX_SECONDS 1800 → 1800/scale). The relay runs every second
 * (`LOCAL_TIMER_SECONDS=1`) until every alert was accepted by PagerDuty or the time cap.
 */
import { startTimedPagerDuty, tally } from './pd';
import { type BenchStore, createStore } from './store';
import { armsCallback, postCallback, ROUTING_KEY, round, sleep, startLocalRuntime } from './support';

interface StormOptions {
  alerts: number;
  callbacks: number;
  scale: number;
  capSeconds: number;
  storeKind: BenchStore['kind'];
  storeNote: string;
  buildDir: string;
}

/** PagerDuty's documented default: about 120 events per minute per integration key. */
const PD_LIMIT_PER_MINUTE = 120;
const WAITING = ['PENDING', 'RETRY', 'SENDING'];

async function measureStorm(options: StormOptions) {
  const windowMs = Math.round(60_000 / options.scale);
  const allowedPerSecond = (PD_LIMIT_PER_MINUTE / windowMs) * 1000;
  const settings = {
    PAGERDUTY_RATE_PER_MINUTE: String(PD_LIMIT_PER_MINUTE * options.scale),
    RETRY_BASE_SECONDS: String(Math.max(1, Math.round(30 / options.scale))),
    RETRY_MAX_SECONDS: String(Math.max(1, Math.round(1800 / options.scale))),
    LOCAL_TIMER_SECONDS: '1',
  };
  const pd = await startTimedPagerDuty({ rateLimit: { limit: PD_LIMIT_PER_MINUTE, windowMs } });
  const store = await createStore(options.storeKind, options.buildDir, options.storeNote);
  const runtime = await startLocalRuntime({
    ...store.env,
    ...settings,
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
  const statuses = store.statuses();
  await store.close();
  await pd.close();
  const waiting = WAITING.reduce((sum, status) => sum + (statuses[status] ?? 0), 0);
  const drainSeconds = ((counts.lastAcceptedAt ?? started) - started) / 1000;
  const achievedPerSecond = drainSeconds > 0 ? counts.distinctAccepted / drainSeconds : 0;
  return {
    method:
      `${options.alerts} alerts in ${bodies.length} callbacks posted back to back; fake PagerDuty limit ` +
      `${PD_LIMIT_PER_MINUTE} per ${windowMs} ms per key (PagerDuty's 120/min scaled ×${options.scale}); ` +
      `bridge ${Object.entries(settings)
        .map(([name, value]) => `${name}=${value}`)
        .join(', ')}; time cap ${options.capSeconds} s after the last callback`,
    store: store.kind,
    storeNote: store.note,
    alerts: options.alerts,
    callbacks: bodies.length,
    callbackAnswers: answers,
    slowestCallbackMs: round(callbackMsMax, 0),
    drained,
    drainSeconds: round(drainSeconds, 1),
    idealDrainSeconds: round(options.alerts / allowedPerSecond, 1),
    allowedPerSecond: round(allowedPerSecond, 1),
    achievedPerSecond: round(achievedPerSecond, 1),
    achievedRatio: round(achievedPerSecond / allowedPerSecond, 3),
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

export { measureStorm };
