/**
 * Tablestore's batch limits (`reference/tablestore.md`: BatchWriteRow ≤ 200 rows and ≤ 4 MB, BatchGetRow ≤ 100 rows)
 * hold where the adapter builds its batches, whatever the caller hands it: the real SDK against the wire fake, each
 * request's rows and bytes read from the fake's request log.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { BATCH_GET_MAX_ROWS, BATCH_WRITE_MAX_BYTES, BATCH_WRITE_MAX_ROWS } from '../../shared/constants';
import { markSending } from '../../shared/delivery/transitions';
import { chunkGroups } from '../../shared/store/tablestore/calls';
import { deliveryRecord } from '../support/deliveryRecords';
import type { LoggedRequest } from '../support/fakeTablestore/types';
import { startTablestoreOverFake, type TablestoreOverFake } from '../support/tablestoreOverFake';

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
