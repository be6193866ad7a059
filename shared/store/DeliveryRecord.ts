/**
 * One row per delivery: the dedup record and the outbox entry in one (single-row writes are atomic, so "seen" and
 * "queued" cannot diverge; `reference/tablestore.md` §13). It holds the exact event to send, never the routing key:
 * the route's name is recorded instead, and the key is looked up when sending.
 */
import type { DeliveryStatus, EventAction } from '../constants';
import type { PagerDutyEventBody } from '../pagerduty/types';

interface DeliveryRecord {
  /** Primary key: hash of (identity, status, `startsAt` instant) (+ route in per-group mode). */
  deliveryKey: string;
  /** PagerDuty `dedup_key` of the event (the alert identity, or the group key). */
  dedupKey: string;
  /** `startsAt` as epoch ms, or -1 when the alert had none: which firing period of the identity this is. */
  occurrence: number;
  action: EventAction;
  /** Name of the route chosen when the delivery was created; a resolve follows its trigger's route. */
  routeName: string;
  status: DeliveryStatus;
  /** Incremented by every write; each write is conditional on the version it read (compare-and-set). */
  version: number;
  /** The event exactly as it will be sent, minus `routing_key`. */
  event: PagerDutyEventBody;
  attempts: number;
  /** Last failure, one line (never a secret). */
  lastError?: string;
  /** Epoch ms. */
  createdAt: number;
  updatedAt: number;
  /** When a PENDING or RETRY delivery is due. */
  nextAttemptAt?: number;
  /** When a SENDING delivery's lease ends (then the relay may take it over). */
  leaseUntil?: number;
  deliveredAt?: number;
  /** Epoch ms after which the row is gone (Tablestore TTL; the file and memory stores prune on read). */
  expiresAt: number;
}

export type { DeliveryRecord };
