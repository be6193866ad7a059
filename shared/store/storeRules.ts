/**
 * The rules every store adapter applies alike (memory, file, Tablestore): when a delivery is due, which ones wait, the
 * due view and the outbox summary over a set of records, and the write rule of versioned rows. Pure; table-tested in
 * `tests/unit/store/storeRules.test.ts`.
 */
import { DeliveryStatus } from '../constants';
import type { DeliveryRecord } from './DeliveryRecord';
import type { OutboxSummary } from './DeliveryStore';

/** States of a delivery still waiting to be delivered. */
const WAITING_STATUSES: ReadonlySet<string> = new Set([
  DeliveryStatus.PENDING,
  DeliveryStatus.RETRY,
  DeliveryStatus.SENDING,
]);

/** States the relay picks up when due. */
const DUE_STATUSES: ReadonlySet<string> = new Set([DeliveryStatus.PENDING, DeliveryStatus.RETRY]);

/** When a delivery is due (epoch ms): PENDING/RETRY at `nextAttemptAt`, SENDING when its lease ends; else never. */
function dueTimeOf(record: DeliveryRecord): number | undefined {
  if (DUE_STATUSES.has(record.status)) return record.nextAttemptAt ?? 0;
  return record.status === DeliveryStatus.SENDING ? (record.leaseUntil ?? 0) : undefined;
}

function isDue(record: DeliveryRecord, now: number): boolean {
  const dueAt = dueTimeOf(record);
  return dueAt !== undefined && dueAt <= now;
}

/**
 * `listDue` over every record (the adapters without a due index): the live ones due by `until`, oldest-created first,
 * at most `limit`.
 */
function dueAmong(records: Iterable<DeliveryRecord>, now: number, until: number, limit: number): DeliveryRecord[] {
  const due: DeliveryRecord[] = [];
  for (const record of records) if (record.expiresAt > now && isDue(record, until)) due.push(record);
  return due.sort((a, b) => a.createdAt - b.createdAt).slice(0, limit);
}

/** `outboxSummary` over every live record (the adapters without a due index). */
function summaryOf(records: Iterable<DeliveryRecord>): OutboxSummary {
  const waiting: OutboxSummary['waiting'] = {};
  let oldestCreatedAt: number | undefined;
  for (const record of records) {
    if (!WAITING_STATUSES.has(record.status)) continue;
    waiting[record.status] = (waiting[record.status] ?? 0) + 1;
    oldestCreatedAt = Math.min(oldestCreatedAt ?? record.createdAt, record.createdAt);
  }
  return { waiting, oldestCreatedAt };
}

/**
 * The write rule of versioned rows (occurrence markers, key states): version 1 only where no live row is (none, or
 * an expired one), version N only over a live N - 1. Backends that check it themselves (memory, file) call this.
 */
function followsVersion(
  existing: { version: number; expiresAt: number } | undefined,
  version: number,
  now: number,
): boolean {
  const live = existing !== undefined && existing.expiresAt > now;
  return version === 1 ? !live : live && existing.version === version - 1;
}

export { dueAmong, dueTimeOf, followsVersion, isDue, summaryOf, WAITING_STATUSES };
