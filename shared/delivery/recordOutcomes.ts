/**
 * Records a slice of send outcomes in one batch write, then frees the resolves that were waiting for those triggers:
 * a resolve held behind its trigger's send (`ordering.ts`: defer) is due at once when the trigger's outcome is
 * recorded, not when the trigger's lease would have ended. Freeing reads every trigger's counterpart; the relay skips
 * it (`freeWaitingResolves: false`) and waits for the resolve's recheck instead (`relay.ts`), which costs no read.
 */
import { DeliveryStatus, EventAction } from '../constants';
import type { Logger } from '../logger';
import type { CounterDelta } from '../store/Counters';
import type { DeliveryRecord } from '../store/DeliveryRecord';
import type { DeliveryStore } from '../store/DeliveryStore';
import { counterpartKeyOf } from './deliveryKey';
import type { SendOutcome } from './sendRecord';
import { markPending } from './transitions';

/**
 * Returns, per outcome, whether it was written (false: the row changed under us); undefined when the store failed.
 * `counters`: activity counters written in the same store write (`replaceManyCounting`); a failure of theirs is
 * logged like `recordActivity`'s, and they are never written again (a statistic may be lost, never doubled).
 */
async function recordOutcomes(
  outcomes: readonly SendOutcome[],
  store: DeliveryStore,
  logger: Logger,
  now: () => number,
  options: { freeWaitingResolves?: boolean; counters?: { delta: CounterDelta; ttlSeconds: number } } = {},
): Promise<boolean[] | undefined> {
  const records = outcomes.map((outcome) => outcome.record);
  const { counters } = options;
  let written: boolean[];
  try {
    if (counters === undefined) written = await store.replaceMany(records);
    else {
      const result = await store.replaceManyCounting(records, counters.delta, counters.ttlSeconds);
      written = result.written;
      if ('countersError' in result) countersNotRecorded(logger, result.countersError);
    }
  } catch (error) {
    // The rows stay SENDING with a lease: the relay re-sends them after it, and PagerDuty dedupes by dedup_key.
    logger.error('could not record delivery outcomes; the relay will retry them after their lease', { error });
    // Written or not with the failed write, they are not written again: a statistic may be lost, never doubled.
    if (counters !== undefined) logger.warn('activity counters maybe not recorded (the outcomes write failed)');
    return undefined;
  }
  const lost = written.filter((ok) => !ok).length;
  if (lost > 0) logger.warn('a delivery changed under its sender (taken over by the relay)', { count: lost });
  const triggers = records.filter((record, index) => written[index] && record.action === EventAction.TRIGGER);
  if (triggers.length > 0 && options.freeWaitingResolves !== false)
    await freeWaitingResolves(triggers, store, logger, now);
  return written;
}

function countersNotRecorded(logger: Logger, error: unknown): void {
  logger.warn('activity counters not recorded (the health report will miss them)', { error });
}

async function freeWaitingResolves(
  triggers: readonly DeliveryRecord[],
  store: DeliveryStore,
  logger: Logger,
  now: () => number,
): Promise<void> {
  try {
    const resolves = await store.get(triggers.map((trigger) => counterpartKeyOf(trigger)));
    const at = now();
    const waiting = [...resolves.values()].filter(
      (resolve) => resolve.status === DeliveryStatus.PENDING && (resolve.nextAttemptAt ?? 0) > at,
    );
    if (waiting.length > 0) await store.replaceMany(waiting.map((resolve) => markPending(resolve, at)));
  } catch (error) {
    // Harmless: the resolve is due anyway at its recheck time.
    logger.warn('could not free the resolves waiting for their triggers; they follow at their recheck', { error });
  }
}

export { recordOutcomes };
