/**
 * What each invocation adds to the activity counters the health report judges (`shared/store/Counters.ts`): one
 * store write per invocation, never on the answer's critical path to failure (a counter that cannot be written is
 * logged and dropped: the alert matters, the statistic does not).
 */
import type { AlertGroup } from '../alerts/types';
import type { DeliverySummary } from '../delivery/CallbackDelivery';
import type { RelayResult } from '../delivery/relay';
import type { Logger } from '../logger';
import { Counter, type CounterDelta, LastSeen } from '../store/Counters';
import type { DeliveryStore } from '../store/DeliveryStore';

function failureCounts(failures: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(failures).map(([reason, count]) => [`${Counter.FAILED}.${reason}`, count]));
}

/** A callback the webhook accepted. */
function callbackActivity(summary: DeliverySummary, group: AlertGroup, now: number, watchdog?: string): CounterDelta {
  const latest: Record<string, number> = { [LastSeen.CALLBACK_AT]: now };
  if (summary.delivered > 0) latest[LastSeen.DELIVERED_AT] = now;
  if (watchdog !== undefined && group.alerts.some((alert) => alert.labels.alertname === watchdog)) {
    latest[LastSeen.WATCHDOG_AT] = now;
  }
  return {
    counts: {
      [Counter.CALLBACKS]: 1,
      [Counter.ALERTS_RECEIVED]: summary.received,
      [Counter.ALERTS_REJECTED]: summary.rejected.length,
      [Counter.DELIVERED]: summary.delivered,
      [Counter.DEAD]: summary.failed,
      [Counter.SUPERSEDED]: summary.superseded,
      ...failureCounts(summary.failures),
    },
    latest,
  };
}

/** A callback refused with a 4xx (by `error.code`), or an ARMS console test (`code` undefined). */
function refusalActivity(code: string | undefined, now: number): CounterDelta {
  const name = code === undefined ? Counter.CONSOLE_TESTS : `${Counter.CALLBACKS_REJECTED}.${code}`;
  return { counts: { [name]: 1 }, latest: { [LastSeen.CALLBACK_AT]: now } };
}

/** One relay run. */
function relayActivity(result: RelayResult, now: number): CounterDelta {
  return {
    counts: {
      [Counter.DELIVERED]: result.delivered,
      [Counter.DEAD]: result.dead,
      [Counter.SUPERSEDED]: result.superseded,
      ...failureCounts(result.failures),
    },
    latest: result.delivered > 0 ? { [LastSeen.DELIVERED_AT]: now } : {},
  };
}

/** Writes the counters; never throws. */
async function recordActivity(
  store: DeliveryStore,
  delta: CounterDelta,
  ttlSeconds: number,
  logger: Logger,
): Promise<void> {
  try {
    await store.addCounters(delta, ttlSeconds);
  } catch (error) {
    logger.warn('activity counters not recorded (the health report will miss them)', { error });
  }
}

/** Records one refused callback by its error code (for `countRefusals`); never throws. */
function refusalRecorder(store: DeliveryStore, ttlSeconds: number, logger: Logger): (code: string) => Promise<void> {
  return (code) => recordActivity(store, refusalActivity(code, Date.now()), ttlSeconds, logger);
}

export { callbackActivity, recordActivity, refusalActivity, refusalRecorder, relayActivity };
