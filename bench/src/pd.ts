/**
 * The fake PagerDuty as the benchmark uses it: the test fake (`tests/support/fakePagerDuty.ts`), with the arrival time
 * of each request recorded, an outage switch (every request answered 500 while it is on), and the tallies the figures
 * need (accepted, 429s, duplicates per delivery).
 */
import { type FakePagerDuty, type ReceivedRequest, startFakePagerDuty } from '../../tests/support/fakePagerDuty';

type TimedRequest = ReceivedRequest & { at?: number };

/** Starts the fake and records `Date.now()` on every request as it arrives. */
async function startTimedPagerDuty(options: Parameters<typeof startFakePagerDuty>[0] = {}): Promise<FakePagerDuty> {
  const pd = await startFakePagerDuty(options);
  const requests = pd.requests as TimedRequest[];
  const push = requests.push.bind(requests);
  requests.push = (...items: TimedRequest[]) => {
    for (const item of items) item.at = Date.now();
    return push(...items);
  };
  return pd;
}

/** PagerDuty's answer during an incident of its own (the body is not documented; any 5xx is retried the same). */
const OUTAGE_REPLY = { status: 500, body: { status: 'error', message: 'Internal Server Error' } };

/**
 * Turns `pd` into a switchable outage: while `failing` is true, each request gets a scripted 500. The fake records a
 * request before it takes the next scripted answer, so scripting one answer per recorded request answers exactly the
 * requests that arrive during the outage.
 */
function outageSwitch(pd: FakePagerDuty): { set(failing: boolean): void } {
  let failing = false;
  const requests = pd.requests as TimedRequest[];
  const push = requests.push.bind(requests);
  requests.push = (...items: TimedRequest[]) => {
    if (failing) pd.script(items.map(() => OUTAGE_REPLY));
    return push(...items);
  };
  return {
    set(value) {
      failing = value;
    },
  };
}

interface Tally {
  requests: number;
  accepted: number;
  rateLimited: number;
  otherFailures: number;
  /** Distinct (dedup_key, event_action) accepted: one per delivery in these benchmarks (one occurrence each). */
  distinctAccepted: number;
  /** Accepted events beyond the first of their delivery, in total and at most for one delivery. */
  duplicatesTotal: number;
  duplicatesMaxPerKey: number;
  firstAt?: number;
  lastAcceptedAt?: number;
}

/** Tallies the alert events received in [from, to) (arrival time), or all of them. */
function tally(pd: FakePagerDuty, from = Number.NEGATIVE_INFINITY, to = Number.POSITIVE_INFINITY): Tally {
  const events = (pd.events as TimedRequest[]).filter((request) => (request.at ?? 0) >= from && (request.at ?? 0) < to);
  const perKey = new Map<string, number>();
  let accepted = 0;
  let rateLimited = 0;
  let otherFailures = 0;
  let lastAcceptedAt: number | undefined;
  for (const request of events) {
    if (request.outcome === 202) {
      accepted++;
      const body = request.body as { dedup_key?: string; event_action?: string };
      const key = `${body.dedup_key}|${body.event_action}`;
      perKey.set(key, (perKey.get(key) ?? 0) + 1);
      if (request.at !== undefined) lastAcceptedAt = Math.max(lastAcceptedAt ?? 0, request.at);
    } else if (request.outcome === 429) rateLimited++;
    else otherFailures++;
  }
  let duplicatesMaxPerKey = 0;
  for (const count of perKey.values()) duplicatesMaxPerKey = Math.max(duplicatesMaxPerKey, count - 1);
  return {
    requests: events.length,
    accepted,
    rateLimited,
    otherFailures,
    distinctAccepted: perKey.size,
    duplicatesTotal: accepted - perKey.size,
    duplicatesMaxPerKey,
    firstAt: events[0]?.at,
    lastAcceptedAt,
  };
}

export type { Tally, TimedRequest };
export { outageSwitch, startTimedPagerDuty, tally };
