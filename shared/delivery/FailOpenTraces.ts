/**
 * What the webhook sent straight to PagerDuty while the store was down (fail open) and must still record: a resolve
 * sent that way is recorded nowhere, so its trigger, queued for retry before the outage, would be sent by the relay
 * afterwards and the incident left open for good. The webhook keeps each such resolve as the row it would have
 * written (DELIVERED) and writes it at its next invocation that reaches the store, before anything else: from then
 * on the relay judges the trigger against it and never sends it after its resolve. Per FC instance and in memory, so
 * the durable trace is the callback's replay line, which the webhook logs whenever a resolve went out this way.
 */
import type { Logger } from '../logger';
import type { DeliveryRecord } from '../store/DeliveryRecord';
import type { DeliveryStore } from '../store/DeliveryStore';

/** Traces kept at most (a long outage with a storm of resolves): the oldest are dropped first, their replay lines stay. */
const MAX_TRACES = 10_000;

class FailOpenTraces {
  #records: DeliveryRecord[] = [];

  public get size(): number {
    return this.#records.length;
  }

  public keep(record: DeliveryRecord): void {
    this.#records.push(record);
    if (this.#records.length > MAX_TRACES) this.#records.splice(0, this.#records.length - MAX_TRACES);
  }

  /**
   * Writes the kept traces (a row that exists by now is left as it is: someone recorded the delivery). What the store
   * does not take (the call fails, or single rows of it: claims fail row by row) is kept for the next invocation.
   */
  public async flush(store: DeliveryStore, logger: Logger): Promise<void> {
    if (this.#records.length === 0) return;
    const records = this.#records;
    try {
      const outcomes = await store.claim(records);
      const unwritten = outcomes.flatMap((outcome, index) =>
        !outcome.claimed && 'failed' in outcome ? [records[index] as DeliveryRecord] : [],
      );
      this.#records = [...unwritten, ...this.#records.slice(records.length)];
      const written = records.length - unwritten.length;
      if (written > 0) logger.info('recorded the resolves sent while the store was down', { count: written });
      if (unwritten.length > 0) {
        logger.warn('the store still fails: the resolves sent while it was down stay unrecorded for now', {
          count: unwritten.length,
        });
      }
    } catch (error) {
      logger.warn('the store still fails: the resolves sent while it was down stay unrecorded for now', {
        count: records.length,
        error,
      });
    }
  }
}

export { FailOpenTraces };
