/**
 * Activity counters for the health report: what happened since the last run, across every instance of both
 * functions. Each invocation adds its counts to the bucket of the current minute (summed atomically by the store)
 * and its times to the one all-time bucket (the largest kept), in one store write. The health run reads the buckets
 * of its window plus the all-time bucket: a fixed number of rows whatever the history.
 */

/** Counter names. Dynamic parts (`<code>`, `<reason>`) are error codes and failure reasons, never free text. */
const Counter = {
  CALLBACKS: 'callbacks',
  ALERTS_RECEIVED: 'alerts.received',
  ALERTS_REJECTED: 'alerts.rejected',
  /** + `.<error.code>`: callbacks refused with a 4xx (401s mean a wrong or rotated token). */
  CALLBACKS_REJECTED: 'callbacks.rejected',
  CONSOLE_TESTS: 'callbacks.console-test',
  DELIVERED: 'deliveries.delivered',
  /** + `.<reason>`: failed attempts by reason (auth, rate-limited, client, server, network, store). */
  FAILED: 'deliveries.failed',
  DEAD: 'deliveries.dead',
  SUPERSEDED: 'deliveries.superseded',
} as const;

/**
 * When a callback, a delivery and the Watchdog were last seen (epoch ms): each invocation reports its times, the store
 * keeps the largest, across every instance.
 */
const LastSeen = {
  CALLBACK_AT: 'lastCallbackAt',
  DELIVERED_AT: 'lastDeliveredAt',
  WATCHDOG_AT: 'watchdogSeenAt',
} as const;

interface CounterDelta {
  counts?: Record<string, number>;
  latest?: Record<string, number>;
}

interface CounterTotals {
  counts: Record<string, number>;
  latest: Record<string, number>;
}

const MINUTE_MS = 60_000;

/** The bucket of the latest times: one row for all time, so a Watchdog an hour apart is still seen. */
const LATEST_BUCKET = 0;

/** The start of the minute bucket holding `time`. */
function bucketOf(time: number): number {
  return Math.floor(time / MINUTE_MS) * MINUTE_MS;
}

/** Every bucket start from `since` to `now`, inclusive. */
function bucketsBetween(since: number, now: number): number[] {
  const buckets: number[] = [];
  for (let bucket = bucketOf(since); bucket <= now; bucket += MINUTE_MS) buckets.push(bucket);
  return buckets;
}

/** Adds `delta` into `totals` (counts summed, latest maximised). Mutates and returns `totals`. */
function mergeCounters(totals: CounterTotals, delta: CounterDelta): CounterTotals {
  for (const [name, value] of Object.entries(delta.counts ?? {})) {
    if (Number.isFinite(value) && value !== 0) totals.counts[name] = (totals.counts[name] ?? 0) + value;
  }
  for (const [name, value] of Object.entries(delta.latest ?? {})) {
    if (Number.isFinite(value)) totals.latest[name] = Math.max(totals.latest[name] ?? 0, value);
  }
  return totals;
}

/** The counts under a prefix, keyed by the rest of the name (`deliveries.failed.auth` → `{ auth: n }`). */
function countsUnder(totals: CounterTotals, prefix: string): Record<string, number> {
  const found: Record<string, number> = {};
  for (const [name, value] of Object.entries(totals.counts)) {
    if (name.startsWith(`${prefix}.`)) found[name.slice(prefix.length + 1)] = value;
  }
  return found;
}

export type { CounterDelta, CounterTotals };
export { bucketOf, bucketsBetween, Counter, countsUnder, LATEST_BUCKET, LastSeen, MINUTE_MS, mergeCounters };
