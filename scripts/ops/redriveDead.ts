/**
 * Which `DEAD` deliveries a redrive takes, and what each becomes: pure functions of the records and the clock, so
 * the choice is tested without a store.
 *
 * A redriven delivery is written as a fresh entry of the outbox, because the relay judges it by the same fields as
 * any other:
 *
 * | Field | Becomes | Why |
 * |---|---|---|
 * | `status`, `nextAttemptAt` | `PENDING`, now | the next delivery-health run takes it (or the run after, when paced) |
 * | `createdAt` | now | the give-up age (`MAX_DELIVERY_AGE_SECONDS`) and the health report's outbox age both count from `createdAt`: kept, an old dead delivery would die again on its first failure and read as "waiting for days" at once |
 * | `attempts` | `min(attempts, 1)` | a fresh `MAX_ATTEMPTS` budget, but "was attempted" survives: ordering sends a resolve after a trigger that may have reached PagerDuty, and holds back a resolve whose trigger never did |
 * | `expiresAt` | at least now + `DELIVERY_TTL_SECONDS` | a row near its TTL must not vanish while queued |
 * | `lastError` | kept | why it died, until the next attempt overwrites it |
 * | `version` | + 1 | compare-and-set: a row someone else moved since the read is left alone (a lost race) |
 *
 * The original arrival time is not kept: the event itself keeps the alert's time (`payload.timestamp`, the
 * occurrence); the bridge's receive time of a dead delivery matters to nobody once it is requeued.
 */
import { DeliveryStatus } from '../../shared/constants';
import { markPending } from '../../shared/delivery/transitions';
import { DeliveryFailureReason } from '../../shared/errors';
import type { DeliveryRecord } from '../../shared/store/DeliveryRecord';

/** Reasons a `--reason` filter accepts: `classifyResponse`'s labels, and `other` for a death with none. */
const REDRIVE_REASONS = [
  DeliveryFailureReason.AUTH,
  DeliveryFailureReason.CLIENT,
  DeliveryFailureReason.SERVER,
  DeliveryFailureReason.NETWORK,
  DeliveryFailureReason.RATE_LIMITED,
  'other',
] as const;
type RedriveReason = (typeof REDRIVE_REASONS)[number];

/** `sendRecord` writes `<reason>: <message>`; a delivery with no routing key dies with this text (reason auth). */
const NO_ROUTING_KEY = 'no routing key';

/**
 * The reason a delivery died, from the prefix of its `lastError`.
 *
 * @example
 * reasonOf({ lastError: 'client: Event object is invalid' }); // 'client'
 */
function reasonOf(record: Pick<DeliveryRecord, 'lastError'>): RedriveReason {
  const error = record.lastError ?? '';
  if (error.startsWith(NO_ROUTING_KEY)) return DeliveryFailureReason.AUTH;
  const prefix = error.slice(0, Math.max(0, error.indexOf(':')));
  return (REDRIVE_REASONS as readonly string[]).includes(prefix) ? (prefix as RedriveReason) : 'other';
}

/** Which dead deliveries to take; an absent field does not filter. Ages count from `createdAt`. */
interface RedriveFilter {
  reasons?: readonly RedriveReason[];
  /** Only deliveries created more than this many ms ago. */
  olderThanMs?: number;
  /** Only deliveries created less than this many ms ago. */
  newerThanMs?: number;
}

/** The `DEAD` records matching the filter, oldest first. */
function selectDead(records: readonly DeliveryRecord[], filter: RedriveFilter, now: number): DeliveryRecord[] {
  return records
    .filter((record) => {
      if (record.status !== DeliveryStatus.DEAD) return false;
      const age = now - record.createdAt;
      if (filter.reasons !== undefined && !filter.reasons.includes(reasonOf(record))) return false;
      if (filter.olderThanMs !== undefined && age <= filter.olderThanMs) return false;
      if (filter.newerThanMs !== undefined && age >= filter.newerThanMs) return false;
      return true;
    })
    .sort((a, b) => a.createdAt - b.createdAt);
}

/**
 * The record a dead delivery becomes when redriven (see the table at the top of this file).
 *
 * @param ttlMs - `DELIVERY_TTL_SECONDS` in ms
 */
function redriveRecord(record: DeliveryRecord, now: number, ttlMs: number): DeliveryRecord {
  return {
    ...markPending(record, now),
    createdAt: now,
    attempts: Math.min(record.attempts, 1),
    expiresAt: Math.max(record.expiresAt, now + ttlMs),
  };
}

export type { RedriveFilter, RedriveReason };
export { REDRIVE_REASONS, reasonOf, redriveRecord, selectDead };
