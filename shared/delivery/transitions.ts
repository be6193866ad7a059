/**
 * The state changes of a delivery record, as pure functions: each returns the next record with `version + 1`, which
 * the store writes only if the stored version is still the one read (compare-and-set).
 *
 * ```
 *   claim ─► SENDING ──2xx──► DELIVERED
 *     │         │ ─retryable─► RETRY ──due──► SENDING …
 *     │         └─permanent / too many / too old──► DEAD
 *     ├─► DRY_RUN   (no routing key locally, or DRY_RUN=true: final, never sent later)
 *     ├─► SUPERSEDED (out of order: a stale occurrence, or resolved before it was sent; final)
 *     └─► PENDING   (queued, e.g. the webhook ran out of time before sending)
 * ```
 */
import { DeliveryStatus } from '../constants';
import type { DeliveryRecord } from '../store/DeliveryRecord';

function next(record: DeliveryRecord, now: number, changes: Partial<DeliveryRecord>): DeliveryRecord {
  const { nextAttemptAt: _nextAttemptAt, leaseUntil: _leaseUntil, ...rest } = record;
  return { ...rest, ...changes, version: record.version + 1, updatedAt: now };
}

/** Taken for sending until `now + leaseMs`; the attempt is counted now, so a crash mid-send still counts it. */
function markSending(record: DeliveryRecord, now: number, leaseMs: number): DeliveryRecord {
  return next(record, now, { status: DeliveryStatus.SENDING, leaseUntil: now + leaseMs });
}

function markDelivered(record: DeliveryRecord, now: number): DeliveryRecord {
  return next(record, now, {
    status: DeliveryStatus.DELIVERED,
    attempts: record.attempts + 1,
    deliveredAt: now,
    lastError: undefined,
  });
}

function markRetry(record: DeliveryRecord, now: number, error: string, delayMs: number): DeliveryRecord {
  return next(record, now, {
    status: DeliveryStatus.RETRY,
    attempts: record.attempts + 1,
    lastError: error,
    nextAttemptAt: now + delayMs,
  });
}

function markDead(record: DeliveryRecord, now: number, error: string, countAttempt = true): DeliveryRecord {
  return next(record, now, {
    status: DeliveryStatus.DEAD,
    attempts: record.attempts + (countAttempt ? 1 : 0),
    lastError: error,
  });
}

/**
 * Never to be sent: ordering made it stale or pointless (`ordering.ts`). Final. A delivery stopped while SENDING may
 * have reached PagerDuty, so that attempt is counted (unless the caller knows it was never sent): its resolve must then
 * still be sent.
 */
function markSuperseded(
  record: DeliveryRecord,
  now: number,
  reason: string,
  mayHaveBeenSent = record.status === DeliveryStatus.SENDING,
): DeliveryRecord {
  const inFlight = mayHaveBeenSent ? 1 : 0;
  return next(record, now, {
    status: DeliveryStatus.SUPERSEDED,
    lastError: reason,
    attempts: record.attempts + inFlight,
  });
}

/** Queued for the relay, due at once (the webhook ran out of time before it could send). */
function markPending(record: DeliveryRecord, now: number, dueAt: number = now): DeliveryRecord {
  return next(record, now, { status: DeliveryStatus.PENDING, nextAttemptAt: dueAt });
}

export { markDead, markDelivered, markPending, markRetry, markSending, markSuperseded };
