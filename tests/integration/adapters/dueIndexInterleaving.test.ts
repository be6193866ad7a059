/**
 * The due index's write order under a controlled interleaving of two instances on one table (the real SDK on the
 * wire fake, one instance's calls held through the injected client): while one instance's transition has put its new
 * entry but not yet moved the main row, the other instance's `listDue` meets that entry unmatched, and must keep it
 * (it is young: a write in flight), or the row, once moved, would be due with no entry the relay can see.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { markRetry } from '../../../shared/delivery/transitions';
import { TablestoreStore } from '../../../shared/store/TablestoreStore';
import { deliveryRecord } from '../../support/deliveryRecords';
import { holdCalls } from '../../support/heldCalls';
import { connectionTo, startTablestoreOverFake, type TablestoreOverFake } from '../../support/tablestoreOverFake';

let tablestore: TablestoreOverFake | undefined;
const others: TablestoreStore[] = [];

afterEach(async () => {
  for (const store of others.splice(0)) await store.close();
  await tablestore?.close();
  tablestore = undefined;
});

/** Whether a BatchWriteRow writes the main table: a transition's compare-and-set (its index put writes `_due` only). */
function writesTo(table: string) {
  return (params: { tables: Array<{ tableName: string }> }) => params.tables.some((entry) => entry.tableName === table);
}

describe('Due index: a transition in flight seen by another instance', () => {
  it('keeps the entry of a transition between its index put and main put: the moved row stays visible', async () => {
    // Prepare: instance A (held calls) and instance B on the same two tables; a delivery due now, claimed by A.
    let clock = Date.UTC(2026, 0, 1);
    const now = () => clock;
    tablestore = await startTablestoreOverFake({ now });
    const { fake, store: b, table, dueTable } = tablestore;
    const held = holdCalls(connectionTo(fake));
    const a = new TablestoreStore({ client: held.source, table, timeoutMs: 2_000, now });
    others.push(a);
    const record = deliveryRecord('d1-interleaved', clock, { nextAttemptAt: clock });
    await a.claim([record]);
    const retry = markRetry(record, clock, 'server: 503', 60_000);

    // Act: A's transition to RETRY (due in a minute) stops between its two writes; B reads the due index meanwhile,
    // a minute ahead (as the relay does for a resolve due again soon), so it meets A's new entry unmatched.
    const compareAndSet = held.next('batchWriteRow', writesTo(table) as never);
    const moving = a.replace(retry);
    await compareAndSet.reached;
    const seenMeanwhile = await b.listDue(10, 60_000);
    compareAndSet.release();
    const moved = await moving;
    clock += 60_000;
    const dueLater = await b.listDue(10);

    // Assess
    expect(seenMeanwhile.map((row) => [row.deliveryKey, row.version])).toEqual([['d1-interleaved', 1]]);
    expect(moved).toBe(true);
    expect(dueLater.map((row) => [row.deliveryKey, row.version])).toEqual([['d1-interleaved', 2]]);
    expect(fake.tables.rows(dueTable).map((row) => Number(row.pk.dueAt))).toEqual([retry.nextAttemptAt]);
  });
});
