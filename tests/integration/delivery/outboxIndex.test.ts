/**
 * The health report's outbox view cannot miss an unfinished row (issue 16, item 6): on Tablestore the report counts
 * the outbox from the due index (`outboxSummary`), so it is complete only while the index invariant holds: **no
 * unfinished main row (PENDING, RETRY, SENDING) without its live due entry** (`TablestoreStore.ts`, "the main row is
 * the truth"). This test holds every write path of the store to it under single-row faults, exhaustively: for each
 * path, a dry run counts the rows it writes; then, once per written row, the same path runs on a fresh store with
 * exactly that row failing (refused, or landed and answered an error; not retried, or retried), and afterwards every
 * unfinished main row has its live entry, and the index view of the outbox equals a scan of the main table.
 *
 * A path that wrote a main row before its due entry fails here: the run whose fault hits the entry leaves the main
 * row unfinished and unindexed.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { markDelivered, markPending, markRetry, markSending } from '../../../shared/delivery/transitions';
import type { DeliveryRecord } from '../../../shared/store/DeliveryRecord';
import type { OutboxSummary } from '../../../shared/store/DeliveryStore';
import { dueTimeOf, WAITING_STATUSES } from '../../../shared/store/storeRules';
import type { TablestoreStore } from '../../../shared/store/TablestoreStore';
import { MAIN_PK } from '../../../shared/store/tablestore/rowCodec';
import { deliveryRecord } from '../../support/deliveryRecords';
import type { FakeTablestore, FaultRequestInfo } from '../../support/fakeTablestore';
import { startTablestoreOverFake, type TablestoreOverFake } from '../../support/tablestoreOverFake';

const T0 = Date.parse('2026-03-01T00:00:00.000Z');
const LEASE_MS = 30_000;

/** One write path: what the store holds before it, and the path itself (its errors are the caller's to handle). */
interface WritePath {
  name: string;
  prepare(store: TablestoreStore, clock: { at: number }, fake: FakeTablestore): Promise<DeliveryRecord[]>;
  act(store: TablestoreStore, clock: { at: number }, rows: DeliveryRecord[]): Promise<unknown>;
}

const fresh = (key: string, overrides: Partial<DeliveryRecord> = {}) => deliveryRecord(key, T0, overrides);
const leased = (key: string) => markSending(fresh(key), T0, LEASE_MS);

const PATHS: WritePath[] = [
  {
    name: 'the webhook claim (queued and leased rows, one batch over both tables)',
    prepare: async () => [],
    act: (store) => store.claim([fresh('queued-a'), leased('leased-b'), fresh('queued-c')]),
  },
  {
    name: 'a claim that meets an unfinished row (a repeat: re-indexed)',
    prepare: async (store) => {
      await store.claim([fresh('repeat-a'), leased('repeat-b')]);
      return [];
    },
    act: (store) => store.claim([fresh('repeat-a'), leased('repeat-b')]),
  },
  {
    name: 'a claim that takes over an expired row',
    prepare: async (store, clock) => {
      await store.claim([fresh('expired-a', { expiresAt: T0 + 1_000 }), fresh('expired-b', { expiresAt: T0 + 1_000 })]);
      clock.at = T0 + 2_000;
      return [];
    },
    act: (store, clock) =>
      store.claim([
        deliveryRecord('expired-a', clock.at),
        markSending(deliveryRecord('expired-b', clock.at), clock.at, LEASE_MS),
      ]),
  },
  {
    name: 'the relay lease (PENDING → SENDING)',
    prepare: async (store) => {
      const rows = [fresh('lease-a'), fresh('lease-b'), fresh('lease-c')];
      await store.claim(rows);
      return rows;
    },
    act: (store, clock, rows) => store.replaceMany(rows.map((row) => markSending(row, clock.at, LEASE_MS))),
  },
  {
    name: 'recording outcomes (SENDING → DELIVERED, RETRY, PENDING)',
    prepare: async (store) => {
      const rows = [leased('outcome-a'), leased('outcome-b'), leased('outcome-c')];
      await store.claim(rows);
      return rows;
    },
    act: (store, clock, [a, b, c]) =>
      store.replaceMany([
        markDelivered(a as DeliveryRecord, clock.at + 100),
        markRetry(b as DeliveryRecord, clock.at + 100, 'PagerDuty 500', 1_000),
        markPending(c as DeliveryRecord, clock.at + 100),
      ]),
  },
  {
    name: 'one transition (replace)',
    prepare: async (store) => {
      const rows = [leased('single-a')];
      await store.claim(rows);
      return rows;
    },
    act: (store, clock, [a]) => store.replace(markRetry(a as DeliveryRecord, clock.at + 100, 'timeout', 1_000)),
  },
  {
    name: 'the relay reading what is due (deletes stale entries)',
    prepare: async (store, clock, fake) => {
      // A transition whose old-entry deletes failed leaves stale entries, which listDue deletes when it meets them.
      const rows = [fresh('due-a'), fresh('due-b')];
      await store.claim(rows);
      const deletes = (info: FaultRequestInfo) => info.tables.length === 1 && info.tables[0]?.endsWith('_due') === true;
      fake.faults.add({
        op: 'BatchWriteRow',
        when: deletes,
        skip: 1,
        action: { kind: 'rowError', code: 'OTSParameterInvalid' },
      });
      await store.replaceMany(rows.map((row) => markRetry(row, T0 + 10, 'PagerDuty 500', 0)));
      fake.faults.clear();
      clock.at = T0 + 1_000;
      return [];
    },
    act: (store) => store.listDue(100),
  },
];

/** A single-row fault: which written row (counted from 0 across the path's BatchWriteRow calls), and how it fails. */
interface RowFault {
  row: number;
  code: 'OTSParameterInvalid' | 'OTSServerBusy';
  land: boolean;
}

/** The unfinished main rows without their live entry, and the two views of the outbox. */
async function invariantOf(tablestore: TablestoreOverFake) {
  const { fake, store, dueTable } = tablestore;
  const rows = await store.list();
  const entries = new Set(
    fake.tables.rows(dueTable).map((entry) => `${String(entry.pk[MAIN_PK])}@${String(entry.pk.dueAt)}`),
  );
  const unindexed = rows
    .filter((row) => WAITING_STATUSES.has(row.status))
    .filter((row) => !entries.has(`${row.deliveryKey}@${dueTimeOf(row)}`))
    .map((row) => `${row.deliveryKey} ${row.status} v${row.version}`);
  const scanned: OutboxSummary = { waiting: {} };
  for (const row of rows) {
    if (!WAITING_STATUSES.has(row.status)) continue;
    scanned.waiting[row.status] = (scanned.waiting[row.status] ?? 0) + 1;
    scanned.oldestCreatedAt = Math.min(scanned.oldestCreatedAt ?? row.createdAt, row.createdAt);
  }
  return { unindexed, indexed: await store.outboxSummary(), scanned };
}

/** Fails exactly the `fault.row`-th row the store writes from now on (every BatchWriteRow call counts its rows). */
function failOneRow(fake: FakeTablestore, fault: RowFault): { fired: () => boolean } {
  let seen = 0;
  let fired = false;
  fake.faults.add({
    op: 'BatchWriteRow',
    times: Number.POSITIVE_INFINITY,
    action: {
      kind: 'rowError',
      code: fault.code,
      land: fault.land,
      rows: () => {
        const hit = seen++ === fault.row;
        fired ||= hit;
        return hit;
      },
    },
  });
  return { fired: () => fired };
}

/** An outbox summary in a canonical form, to compare two of them. */
const viewOf = (summary: OutboxSummary) =>
  JSON.stringify([Object.entries(summary.waiting).sort(), summary.oldestCreatedAt ?? null]);

let open: TablestoreOverFake | undefined;
afterEach(async () => {
  await open?.close();
  open = undefined;
});

async function run(path: WritePath, fault?: RowFault) {
  const clock = { at: T0 };
  const tablestore = await startTablestoreOverFake({ now: () => clock.at });
  open = tablestore;
  const rows = await path.prepare(tablestore.store, clock, tablestore.fake);
  const injected = fault ? failOneRow(tablestore.fake, fault) : undefined;
  const error = await path.act(tablestore.store, clock, rows).then(
    () => undefined,
    (failure: unknown) => failure,
  );
  // The path's writes, the old entries' deletes beside it included, have all landed once the store is settled.
  await tablestore.store.settle();
  tablestore.fake.faults.clear();
  const result = { ...(await invariantOf(tablestore)), error, fired: injected?.fired() ?? false };
  await tablestore.close();
  open = undefined;
  return result;
}

/** Rows a path writes without faults: counted by a fault that never fails a row. */
async function rowsWritten(path: WritePath): Promise<number> {
  const clock = { at: T0 };
  const tablestore = await startTablestoreOverFake({ now: () => clock.at });
  open = tablestore;
  const rows = await path.prepare(tablestore.store, clock, tablestore.fake);
  let count = 0;
  tablestore.fake.faults.add({
    op: 'BatchWriteRow',
    times: Number.POSITIVE_INFINITY,
    action: {
      kind: 'rowError',
      code: 'OTSParameterInvalid',
      rows: () => {
        count++;
        return false;
      },
    },
  });
  await path.act(tablestore.store, clock, rows);
  await tablestore.store.settle();
  await tablestore.close();
  open = undefined;
  return count;
}

const FAULT_KINDS: Omit<RowFault, 'row'>[] = [
  { code: 'OTSParameterInvalid', land: false }, // refused, not retried
  { code: 'OTSParameterInvalid', land: true }, // applied, answered an error
  { code: 'OTSServerBusy', land: false }, // refused, retried by the adapter
  { code: 'OTSServerBusy', land: true }, // applied, answered an error, retried
];

describe('the due-index invariant under single-row faults on every write path (Tablestore)', () => {
  it.each(PATHS)('$name: no unfinished row without its entry, the index view equals the scan', async (path) => {
    // Prepare: the rows this path writes when nothing fails.
    const total = await rowsWritten(path);
    const clean = await run(path);
    expect(total).toBeGreaterThan(0);
    expect(clean.error).toBeUndefined();
    expect(clean.unindexed).toEqual([]);

    // Act: once per written row and kind of fault, that row alone fails.
    const broken: string[] = [];
    let fired = 0;
    for (let row = 0; row < total; row++) {
      for (const kind of FAULT_KINDS) {
        const fault = { ...kind, row };
        const result = await run(path, fault);
        if (result.fired) fired++;
        const where = `row ${row} ${kind.code}${kind.land ? ' (landed)' : ''}`;
        if (result.unindexed.length > 0) broken.push(`${where}: unindexed ${result.unindexed.join(', ')}`);
        if (viewOf(result.indexed) !== viewOf(result.scanned)) {
          broken.push(`${where}: index view ${JSON.stringify(result.indexed)}, scan ${JSON.stringify(result.scanned)}`);
        }
      }
    }

    // Assess: every fault hit its row, and none left an unfinished row the report cannot see.
    expect(fired).toBe(total * FAULT_KINDS.length);
    expect(broken).toEqual([]);
    expect(clean.indexed).toEqual(clean.scanned);
  });
});
