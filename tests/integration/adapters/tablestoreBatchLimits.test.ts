/**
 * Tablestore's batch limits (`reference/tablestore.md`: BatchWriteRow ≤ 200 rows and ≤ 4 MB, BatchGetRow ≤ 100 rows)
 * hold where the adapter builds its batches, whatever the caller hands it: the real SDK against the wire fake, each
 * request's rows and bytes read from the fake's request log.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  BATCH_GET_MAX_ROWS,
  BATCH_WRITE_MAX_BYTES,
  BATCH_WRITE_MAX_ROWS,
  DeliveryStatus,
} from '../../../shared/constants';
import { markSending } from '../../../shared/delivery/transitions';
import { chunkGroups } from '../../../shared/store/tablestore/calls';
import { deliveryRecord } from '../../support/deliveryRecords';
import { decodeRow, toJs } from '../../support/fakeTablestore/codec';
import type { LoggedRequest } from '../../support/fakeTablestore/types';
import { startTablestoreOverFake, type TablestoreOverFake } from '../../support/tablestoreOverFake';

let tablestore: TablestoreOverFake | undefined;

afterEach(async () => {
  await tablestore?.close();
  tablestore = undefined;
});

/** Rows and bytes (encoded row changes) of one logged batch request. */
function carried(entry: LoggedRequest): { rows: number; bytes: number } {
  const tables = (entry.request?.tables ?? []) as { primaryKey?: Uint8Array[]; rows?: { rowChange: Uint8Array }[] }[];
  let rows = 0;
  let bytes = 0;
  for (const table of tables) {
    rows += table.primaryKey?.length ?? table.rows?.length ?? 0;
    for (const row of table.rows ?? []) bytes += row.rowChange.length;
  }
  return { rows, bytes };
}

describe('Tablestore batch limits', () => {
  it('splits writes of large events under 4 MB a request and keeps every row', async () => {
    // Prepare: 40 deliveries of ~300 KB each, 12 MB in all (an event may be up to 512 KB).
    const clock = Date.now();
    tablestore = await startTablestoreOverFake({ now: () => clock, timeoutMs: 10_000 });
    const { fake, store } = tablestore;
    const details = 'x'.repeat(300_000);
    const records = Array.from({ length: 40 }, (_, i) => {
      const record = deliveryRecord(`d1-big-${i}`, clock, { nextAttemptAt: clock - 1 });
      return {
        ...record,
        event: { ...record.event, payload: { ...record.event.payload, custom_details: { details } } },
      };
    });

    // Act: a claim and a transition of all of them at once.
    const claims = await store.claim(records);
    const leased = await store.replaceMany(records.map((record) => markSending(record, clock, 30_000)));

    // Assess
    expect(claims.every((outcome) => outcome.claimed)).toBe(true);
    expect(leased.every(Boolean)).toBe(true);
    const writes = fake.stats.log.filter((entry) => entry.op === 'BatchWriteRow').map(carried);
    expect(writes.length).toBeGreaterThan(3);
    for (const write of writes) {
      expect(write.bytes).toBeLessThanOrEqual(BATCH_WRITE_MAX_BYTES);
      expect(write.rows).toBeLessThanOrEqual(BATCH_WRITE_MAX_ROWS);
    }
    expect((await store.get(records.map((record) => record.deliveryKey))).size).toBe(40);
  });

  it('keeps 450 rows to 200 per write and 100 per read', async () => {
    // Prepare
    const clock = Date.now();
    tablestore = await startTablestoreOverFake({ now: () => clock, timeoutMs: 10_000 });
    const { fake, store } = tablestore;
    const records = Array.from({ length: 450 }, (_, i) => deliveryRecord(`d1-row-${i}`, clock));

    // Act
    await store.claim(records);
    const found = await store.get(records.map((record) => record.deliveryKey));

    // Assess
    expect(found.size).toBe(450);
    const batches = fake.stats.log.filter((entry) => entry.op.startsWith('Batch'));
    for (const entry of batches) {
      const limit = entry.op === 'BatchGetRow' ? BATCH_GET_MAX_ROWS : BATCH_WRITE_MAX_ROWS;
      expect(carried(entry).rows).toBeLessThanOrEqual(limit);
    }
    expect(batches.filter((entry) => entry.op === 'BatchGetRow').length).toBe(5);
  });
});

/** The delivery keys (the `pk` column) each table of one logged BatchWriteRow writes. */
function keysByTable(entry: LoggedRequest): Map<string, string[]> {
  const tables = (entry.request?.tables ?? []) as { tableName: string; rows: { rowChange: Uint8Array }[] }[];
  return new Map(
    tables.map((table) => [
      table.tableName,
      table.rows.map((row) => {
        const pk = decodeRow(row.rowChange).pk.find((column) => column.name === 'pk');
        return String(pk === undefined ? '' : toJs(pk.value));
      }),
    ]),
  );
}

/** Every logged batch request within its limit of rows (BatchWriteRow 200, BatchGetRow 100) and bytes. */
function expectWithinLimits(log: readonly LoggedRequest[]): void {
  const batches = log.filter((entry) => entry.op.startsWith('Batch'));
  expect(batches.length).toBeGreaterThan(1);
  for (const entry of batches) {
    const { rows, bytes } = carried(entry);
    expect(rows).toBeLessThanOrEqual(entry.op === 'BatchGetRow' ? BATCH_GET_MAX_ROWS : BATCH_WRITE_MAX_ROWS);
    expect(bytes).toBeLessThanOrEqual(BATCH_WRITE_MAX_BYTES);
  }
}

describe('Tablestore batch limits of each builder', () => {
  it('claims: a delivery and its due entry share one request, whichever chunk they fall in', async () => {
    // Prepare: 450 deliveries, three of four due (main row + due entry) and one final (main row only), so the pairs
    // do not line up with the 200-row chunks by themselves.
    const clock = Date.now();
    tablestore = await startTablestoreOverFake({ now: () => clock, timeoutMs: 10_000 });
    const { fake, store, table, dueTable } = tablestore;
    const records = Array.from({ length: 450 }, (_, i) =>
      deliveryRecord(`d1-pair-${i}`, clock, i % 4 === 0 ? { status: DeliveryStatus.DELIVERED } : {}),
    );
    const due = new Set(records.filter((_, i) => i % 4 !== 0).map((record) => record.deliveryKey));

    // Act
    const claims = await store.claim(records);

    // Assess
    expect(claims.every((outcome) => outcome.claimed)).toBe(true);
    expectWithinLimits(fake.stats.log);
    const writes = fake.stats.log.filter((logged) => logged.op === 'BatchWriteRow').map(keysByTable);
    for (const keys of writes) {
      const mainsDue = (keys.get(table) ?? []).filter((key) => due.has(key));
      expect([...(keys.get(dueTable) ?? [])].sort()).toEqual(mainsDue.sort());
    }
    expect(writes.flatMap((keys) => keys.get(dueTable) ?? [])).toHaveLength(337);
  });

  it('outbox summary, markers, key states and counters: 450 of each within the limits', async () => {
    // Prepare
    const clock = Date.now();
    tablestore = await startTablestoreOverFake({ now: () => clock, timeoutMs: 10_000 });
    const { fake, store } = tablestore;
    const many = Array.from({ length: 450 }, (_, i) => i);
    await store.claim(many.map((i) => deliveryRecord(`d1-wait-${i}`, clock)));
    const before = fake.stats.log.length;
    const expiresAt = clock + 3_600_000;

    // Act
    const summary = await store.outboxSummary();
    const markers = await store.putMarkers(
      many.map((i) => ({ dedupKey: `dedup-${i}`, latestOccurrence: i, version: 1, updatedAt: clock, expiresAt })),
    );
    const readMarkers = await store.getMarkers(many.map((i) => `dedup-${i}`));
    const states = await store.putKeyStates(
      many.map((i) => ({
        keyId: i.toString(16).padStart(16, '0'),
        version: 1,
        updatedAt: clock,
        expiresAt,
        data: { i },
      })),
    );
    await store.addCounters({ counts: Object.fromEntries(many.map((i) => [`count.${i}`, 1])) }, 3_600);

    // Assess
    expect(summary.waiting).toEqual({ PENDING: 450 });
    expect(markers.every(Boolean) && states.every(Boolean)).toBe(true);
    expect(readMarkers.size).toBe(450);
    expect(Object.keys((await store.readCounters(clock)).counts)).toHaveLength(450);
    expectWithinLimits(fake.stats.log.slice(before));
  });
});

describe('Function: chunkGroups', () => {
  it.each([
    { name: 'rows only', groups: [[0], [1], [2]], maxRows: 2, sizes: [1, 1, 1], maxBytes: 100, chunks: [[0, 1], [2]] },
    {
      name: 'bytes first',
      groups: [[0], [1], [2]],
      maxRows: 10,
      sizes: [60, 50, 40],
      maxBytes: 100,
      chunks: [[0], [1, 2]],
    },
    {
      name: 'a group is never split',
      groups: [
        [0, 1],
        [2, 3],
      ],
      maxRows: 3,
      sizes: [1, 1, 1, 1],
      maxBytes: 100,
      chunks: [
        [0, 1],
        [2, 3],
      ],
    },
    {
      name: 'an oversized row stands alone',
      groups: [[0], [1], [2]],
      maxRows: 10,
      sizes: [10, 500, 10],
      maxBytes: 100,
      chunks: [[0], [1], [2]],
    },
  ])('$name', ({ groups, maxRows, sizes, maxBytes, chunks }) => {
    expect(chunkGroups(groups, maxRows, (index) => sizes[index] as number, maxBytes)).toEqual(chunks);
  });
});
