/**
 * The relay's write paths in blocks (lease: due-index put, main put, old entry delete; outcome: main put, entry
 * delete) under a fault on one row of one batch, through delivery-health's real handler on the Tablestore store over
 * the wire fake. The invariant that makes a lost row impossible: **an unfinished row (PENDING, RETRY, SENDING) always
 * has a due entry at or before its next due time**. It is checked before every request the store receives (so at every
 * point a crash could stop the relay), and a later run (after the leases) delivers every alert.
 */

import { afterEach, describe, expect, it } from 'vitest';
import { handlerFor } from '../../../functions/delivery-health/index';
import { createBridge } from '../../../shared/app';
import { dueTimeOf } from '../../../shared/store/storeRules';
import { recordFromCells } from '../../../shared/store/tablestore/rowCodec';
import { deliveryRecord } from '../../support/deliveryRecords';
import { decodeRow, toJs } from '../../support/fakeTablestore/codec';
import type { FaultRequestInfo } from '../../support/fakeTablestore/types';
import { fcContext, timerEvent } from '../../support/fcEvents';
import { fakePagerDutyPerTest } from '../../support/pagerDutyPerFile';
import { startTablestoreOverFake, type TablestoreOverFake } from '../../support/tablestoreOverFake';

const ROUTING_KEY = 'REL4YFAULTROUTINGKEY000000000001';
const ROWS = 300;
/** A row in the second lease block (blocks of 192 at the defaults). */
const TARGET = 'q250';
const LEASE_MS = 30_000;
const PUT = 1;
const DELETE = 3;

let tablestore: TablestoreOverFake | undefined;
const pagerDuties = fakePagerDutyPerTest();

afterEach(async () => {
  await tablestore?.close();
  tablestore = undefined;
});

/** Unfinished delivery rows that have no due entry at or before their due time (must be none). */
function invisibleRows(server: TablestoreOverFake): string[] {
  const entries = new Map<string, number[]>();
  for (const row of server.fake.tables.rows(server.dueTable)) {
    const key = String(row.pk.pk);
    entries.set(key, [...(entries.get(key) ?? []), Number(row.pk.dueAt)]);
  }
  const invisible: string[] = [];
  for (const row of server.fake.tables.rows(server.table)) {
    const key = String(row.pk.pk);
    if (!key.startsWith('q')) continue;
    const record = recordFromCells(key, new Map(Object.entries(row.attrs)));
    const dueAt = dueTimeOf(record);
    if (dueAt === undefined) continue;
    if (!(entries.get(key) ?? []).some((at) => at <= dueAt)) invisible.push(`${key} ${record.status}`);
  }
  return invisible;
}

/** A request writing `type` to the target's row in `table` (and its retries). */
function writesTarget(table: () => string, type: number, target = TARGET) {
  return (info: FaultRequestInfo) => {
    const tables = (info.request.tables ?? []) as { tableName: string; rows: { type: number }[] }[];
    const index = info.keys.findIndex((key) => key.table === table() && key.pk.pk === target);
    if (index < 0) return false;
    const types = tables.flatMap((entry) => entry.rows.map((row) => row.type));
    return types[index] === type;
  };
}

/** `sentAtOnce`: alerts the faulty run itself gets accepted (the rest follow in the next run). */
const cases = [
  // No row of the target's block changed: the block waits for the next run; the first block went out.
  { path: 'lease: the due-index put', table: 'due', type: PUT, skip: 0, sentAtOnce: 192 },
  // The rows that did get their lease are sent at once, not left to their lease.
  { path: 'lease: the main row', table: 'main', type: PUT, skip: 0, sentAtOnce: ROWS - 1 },
  { path: 'lease: the old entry delete', table: 'due', type: DELETE, skip: 0, sentAtOnce: ROWS },
  // The one row whose outcome was not recorded is sent again after its lease (PagerDuty dedupes it).
  { path: 'outcome: the main row', table: 'main', type: PUT, skip: 1, sentAtOnce: ROWS },
  { path: 'outcome: the entry delete', table: 'due', type: DELETE, skip: 1, sentAtOnce: ROWS },
] as const;

/** delivery-health on the Tablestore store over the wire fake (pacing off, clock `now`), with `ROWS` rows due. */
async function relayWithDueRows(now: () => number) {
  tablestore = await startTablestoreOverFake({ now, timeoutMs: 5_000 });
  const server = tablestore;
  const pd = await pagerDuties.start();
  const env = { PAGERDUTY_ROUTING_KEY: ROUTING_KEY, PAGERDUTY_EVENTS_URL: pd.url, PAGERDUTY_RATE_PER_MINUTE: '100000' };
  const health = handlerFor(createBridge('delivery-health', env, { store: server.store, now }));
  const at = now();
  const records = Array.from({ length: ROWS }, (_, i) =>
    deliveryRecord(`q${i}`, at, { occurrence: at - 60_000, nextAttemptAt: at - 1, createdAt: at + i }),
  );
  await server.store.claim(records);
  return { server, health, records, pagerDuty: pd };
}

describe('relay write paths under a single-row fault', () => {
  it.each(cases)('$path: no row is left unfinished without a due entry', async ({ table, type, skip, sentAtOnce }) => {
    // Prepare
    let clock = Date.now();
    const { server, health, records, pagerDuty } = await relayWithDueRows(() => clock);
    const tableName = () => (table === 'due' ? server.dueTable : server.table);
    // Before each request: the state a crash at this point would leave.
    const violations = new Set<string>();
    server.fake.faults.add({
      when: () => {
        for (const row of invisibleRows(server)) violations.add(row);
        return false;
      },
      times: Number.POSITIVE_INFINITY,
      action: { kind: 'delay', ms: 0 },
    });
    // Every attempt of that write fails (the adapter retries a row twice): the fault is for good in that operation.
    const fault = server.fake.faults.add({
      op: 'BatchWriteRow',
      when: writesTarget(tableName, type),
      skip,
      times: 3,
      action: {
        kind: 'rowError',
        code: 'OTSServerBusy',
        rows: (name, pk) => name === tableName() && pk.pk === TARGET,
      },
    });

    // Act 1: the faulty run.
    await health(timerEvent() as never, fcContext('delivery-health')).catch(() => undefined);

    // Assess 1
    const accepted = () =>
      new Set(pagerDuty.requests.map((request) => (request.body as { dedup_key?: string }).dedup_key));
    expect(fault.fired).toBe(3);
    expect([...violations, ...invisibleRows(server)]).toEqual([]);
    expect(accepted().size).toBe(sentAtOnce);

    // Act 2: after the leases, clean runs until nothing is due.
    clock += LEASE_MS + 1_000;
    for (let run = 0; run < 3; run++) await health(timerEvent() as never, fcContext('delivery-health'));

    // Assess 2: every alert accepted, nothing left unfinished.
    expect(accepted().size).toBe(ROWS);
    expect([...violations, ...invisibleRows(server)]).toEqual([]);
    const unfinished = (await server.store.get(records.map((record) => record.deliveryKey))).values();
    expect([...unfinished].filter((record) => dueTimeOf(record) !== undefined)).toEqual([]);
  });
});

describe('relay crash cost', () => {
  it('re-sends once each, after their lease, exactly the sends whose outcome could not be recorded', async () => {
    // Prepare
    let clock = Date.now();
    const { server, health, records, pagerDuty } = await relayWithDueRows(() => clock);
    // Every outcome write of the faulty run fails (a main-table write of a DELIVERED row): nothing is recorded.
    const fault = server.fake.faults.add({
      op: 'BatchWriteRow',
      when: (info) => {
        const tables = (info.request.tables ?? []) as { tableName: string; rows: { rowChange: Uint8Array }[] }[];
        return tables.some(
          (entry) =>
            entry.tableName === server.table &&
            entry.rows.some((row) =>
              decodeRow(row.rowChange).cells.some(
                (cell) => cell.name === 'status' && cell.value !== undefined && toJs(cell.value) === 'DELIVERED',
              ),
            ),
        );
      },
      times: Number.POSITIVE_INFINITY,
      action: { kind: 'error', code: 'OTSServerBusy' },
    });
    // Act: the faulty run, then runs after the lease.
    await health(timerEvent() as never, fcContext('delivery-health')).catch(() => undefined);
    fault.remove();
    const stored = await server.store.get(records.map((record) => record.deliveryKey));
    const unrecorded = [...stored.values()].filter((record) => record.status === 'SENDING').map((r) => r.dedupKey);
    const sentBefore = pagerDuty.requests.length;
    clock += LEASE_MS + 1_000;
    for (let run = 0; run < 3; run++) await health(timerEvent() as never, fcContext('delivery-health'));

    // Assess: nothing lost; what was sent again is exactly what had no recorded outcome, once each.
    const dedupKeyOf = (request: { body: unknown }) => (request.body as { dedup_key?: string }).dedup_key;
    const keys = pagerDuty.requests.map(dedupKeyOf);
    const again = pagerDuty.requests.slice(sentBefore).map(dedupKeyOf);
    expect(fault.fired).toBeGreaterThan(0);
    expect(unrecorded.length).toBeGreaterThan(0);
    expect(new Set(keys).size).toBe(ROWS);
    expect(again.sort()).toEqual([...unrecorded].sort());
    expect(invisibleRows(server)).toEqual([]);
  });
});
