/**
 * The Tablestore adapter through the real SDK against the wire-compatible fake (loopback): batching limits, per-row
 * outcomes, compare-and-set, INTEGER round trips, the due index's flat cost, faults and ambiguity, occurrence
 * markers, the wiring in `createBridge`, and the create-table script (in-process and as the built bundle).
 */

import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { ensureTables } from '../../../infra/tablestore';
import { createBridge } from '../../../shared/app';
import { loadConfig } from '../../../shared/config/config';
import { Secret } from '../../../shared/config/Secret';
import { DeliveryStatus } from '../../../shared/constants';
import { markDelivered, markRetry, markSending } from '../../../shared/delivery/transitions';
import { StoreError } from '../../../shared/errors';
import type { DeliveryRecord } from '../../../shared/store/DeliveryRecord';
import { dueTimeOf } from '../../../shared/store/storeRules';
import { type TablestoreConnectOptions, TablestoreStore } from '../../../shared/store/TablestoreStore';
import {
  DUE_PRIMARY_KEY,
  dueTableName,
  MAIN_PRIMARY_KEY,
  recordCells,
  shardOf,
} from '../../../shared/store/tablestore/rowCodec';
import { invokeBundle } from '../../support/bundle';
import { deliveryRecord } from '../../support/deliveryRecords';
import { type FakeTablestore, type FakeTablestoreOptions, startFakeTablestore } from '../../support/fakeTablestore';
import { httpEvent, timerEvent } from '../../support/fcEvents';

const DAY = 86_400_000;
const TABLE = 'alert_delivery';
const DUE = dueTableName(TABLE);
const AK = 'test-ak';
const SK = 'test-sk-do-not-print';
const root = join(__dirname, '..', '..', '..');
const run = promisify(execFile);

let fake: FakeTablestore | undefined;
let clock = 1_700_000_000_000;
const stores: TablestoreStore[] = [];

afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
  await fake?.close();
  fake = undefined;
});

async function start(options: FakeTablestoreOptions = {}, createTables = true): Promise<FakeTablestore> {
  clock = 1_700_000_000_000;
  fake = await startFakeTablestore({ now: () => clock, ...options });
  if (createTables) {
    fake.tables.create(TABLE, MAIN_PRIMARY_KEY, { timeToLive: 7 * 86_400 });
    fake.tables.create(DUE, DUE_PRIMARY_KEY, { timeToLive: 7 * 86_400 });
  }
  return fake;
}

function storeOn(server: FakeTablestore, options: Partial<TablestoreConnectOptions> = {}): TablestoreStore {
  const credentials = { accessKeyId: new Secret(AK), accessKeySecret: new Secret(SK) };
  const store = TablestoreStore.connect({
    endpoint: server.endpoint,
    instance: server.instance,
    table: TABLE,
    timeoutMs: 2_000,
    credentials: () => credentials,
    now: () => clock,
    ...options,
  });
  stores.push(store);
  return store;
}

function record(key: string, overrides: Partial<DeliveryRecord> = {}): DeliveryRecord {
  return deliveryRecord(key, clock, { status: DeliveryStatus.SENDING, leaseUntil: clock + 30_000, ...overrides });
}

/** Rows sent per BatchWriteRow request, from the fake's request log. */
function batchWriteSizes(server: FakeTablestore): number[] {
  return server.stats.log
    .filter((entry) => entry.op === 'BatchWriteRow')
    .map((entry) => {
      const tables = (entry.request?.tables ?? []) as Array<{ rows: unknown[] }>;
      return tables.reduce((n, table) => n + table.rows.length, 0);
    });
}

/** The StoreError of a call: thrown, or (a claim, whose rows stand alone) reported for its failed row. */
async function failure(promise: Promise<unknown>): Promise<StoreError> {
  let value: unknown;
  try {
    value = await promise;
  } catch (error) {
    return error as StoreError;
  }
  const failed = Array.isArray(value)
    ? (value as Array<{ claimed?: boolean; failed?: StoreError }>).find((outcome) => outcome?.failed !== undefined)
    : undefined;
  if (failed?.failed !== undefined) return failed.failed;
  throw new Error('expected a StoreError');
}

describe('Class: TablestoreStore', () => {
  describe('Method: claim', () => {
    it('claims 150 due deliveries in two BatchWriteRow calls (main row + due entry each, ≤ 200 rows per call)', async () => {
      // Prepare
      const server = await start();
      const store = storeOn(server);
      const records = Array.from({ length: 150 }, (_, i) => record(`k${String(i).padStart(3, '0')}`));

      // Act
      const outcomes = await store.claim(records);

      // Assess
      expect(outcomes.every((outcome) => outcome.claimed)).toBe(true);
      expect(batchWriteSizes(server)).toEqual([200, 100]);
      expect(server.tables.count(TABLE)).toBe(150);
      expect(server.tables.count(DUE)).toBe(150);
      const entry = server.tables.get(DUE, {
        shard: BigInt(shardOf('k000')),
        dueAt: BigInt(clock + 30_000),
        pk: 'k000',
      });
      expect(entry?.attrs).toMatchObject({ version: 1n, status: 'SENDING' });
    });

    it('claims 201 final-state (dry-run) deliveries in two calls, with no due entries', async () => {
      // Prepare
      const server = await start();
      const store = storeOn(server);
      const records = Array.from({ length: 201 }, (_, i) =>
        record(`d${i}`, { status: DeliveryStatus.DRY_RUN, leaseUntil: undefined }),
      );

      // Act
      const outcomes = await store.claim(records);

      // Assess
      expect(outcomes.filter((outcome) => outcome.claimed)).toHaveLength(201);
      expect(batchWriteSizes(server)).toEqual([200, 1]);
      expect(server.tables.count(DUE)).toBe(0);
    });

    it('reports each row on its own: new, duplicate (with the stored row), and a key repeated in the call', async () => {
      // Prepare
      const server = await start();
      const store = storeOn(server);
      await store.claim([record('old', { routeName: 'first' })]);
      const firstLease = clock + 30_000;
      clock += 1_000; // the repeat comes later: its lease (and due entry) would end later
      server.stats.reset();

      // Act
      const outcomes = await store.claim([record('new'), record('old', { routeName: 'second' }), record('new')]);

      // Assess
      expect(outcomes.map((outcome) => outcome.claimed)).toEqual([true, false, false]);
      expect(outcomes[1]).toMatchObject({ existing: { deliveryKey: 'old', routeName: 'first' } });
      expect(outcomes[2]).toMatchObject({ existing: { deliveryKey: 'new' } });
      // one write (2 keys × main row + due entry), one read of the duplicate, then one cleanup write: the delete of
      // its stray entry and a re-put of its live one (an unfinished row found by a claim is always indexed again)
      expect(batchWriteSizes(server)).toEqual([4, 2]);
      expect(server.stats.snapshot().requests.BatchGetRow).toBe(1);
      const entries = server.tables.rows(DUE).map((row) => [row.pk.pk, row.pk.dueAt]);
      expect(entries).toEqual(
        expect.arrayContaining([
          ['new', BigInt(clock + 30_000)],
          ['old', BigInt(firstLease)],
        ]),
      );
      expect(entries).toHaveLength(2);
    });

    it('retries only the rows that failed (503 OTSServerBusy on one row, once)', async () => {
      // Prepare
      const server = await start();
      const store = storeOn(server);
      server.faults.add({
        op: 'BatchWriteRow',
        action: { kind: 'rowError', code: 'OTSServerBusy', rows: (table, pk) => table === TABLE && pk.pk === 'b' },
      });

      // Act
      const outcomes = await store.claim([record('a'), record('b'), record('c')]);

      // Assess
      expect(outcomes.map((outcome) => outcome.claimed)).toEqual([true, true, true]);
      expect(batchWriteSizes(server)).toEqual([6, 1]);
      expect(server.tables.count(DUE)).toBe(3);
    });

    it('re-puts a due entry that did not land; if it cannot, un-claims the row and reports it failed', async () => {
      // Prepare
      const server = await start();
      const store = storeOn(server);
      server.faults.add({
        op: 'BatchWriteRow',
        action: { kind: 'rowError', code: 'OTSServerBusy', rows: (table) => table === DUE },
      });

      // Act
      const [repaired] = await store.claim([record('a')]);
      server.faults.add({
        op: 'BatchWriteRow',
        times: Number.POSITIVE_INFINITY,
        action: { kind: 'rowError', code: 'OTSParameterInvalid', rows: (table) => table === DUE },
      });
      const error = await failure(store.claim([record('b')]));

      // Assess
      expect(repaired?.claimed).toBe(true);
      expect(server.tables.rows(DUE).map((row) => row.pk.pk)).toEqual(['a']);
      expect(error).toBeInstanceOf(StoreError);
      expect(error.ambiguous).toBe(false);
      expect(error.message).toContain('claim was undone');
      expect(server.tables.get(TABLE, { pk: 'b' })).toBeUndefined();
    });

    it('takes over a row past its window, as read', async () => {
      // Prepare
      const server = await start();
      const store = storeOn(server);
      await store.claim([record('a', { expiresAt: clock + 1_000, leaseUntil: clock + 500 })]);
      clock += 2_000;

      // Act
      const [again] = await store.claim([record('a')]);

      // Assess
      expect(again?.claimed).toBe(true);
      expect((await store.get(['a'])).get('a')?.createdAt).toBe(clock);
      expect(server.tables.rows(DUE).map((row) => row.pk.dueAt)).toEqual([BigInt(clock + 30_000)]);
    });
  });

  describe('Method: replace / replaceMany', () => {
    it('compare-and-set: of two writers from the same version, one wins; the loser leaves no live entry', async () => {
      // Prepare
      const server = await start();
      const [first, second] = [storeOn(server), storeOn(server)];
      const claimed = record('a', { status: DeliveryStatus.PENDING, leaseUntil: undefined, nextAttemptAt: clock });
      await first.claim([claimed]);

      // Act
      const won = await first.replace(markSending(claimed, clock, 30_000));
      const lost = await second.replace(markRetry(claimed, clock, 'late', 60_000));
      clock += 120_000;
      const due = await second.listDue(10);

      // Assess
      expect([won, lost]).toEqual([true, false]);
      expect(due.map((item) => [item.deliveryKey, item.status, item.version])).toEqual([['a', 'SENDING', 2]]);
      // the PENDING entry (deleted by the winner) and the loser's RETRY entry (deleted by listDue) are gone
      const entries = server.tables.rows(DUE).map((row) => row.pk.dueAt);
      expect(entries).toEqual([BigInt(clock - 120_000 + 30_000)]);
    });

    it('replaceMany: index entries, compare-and-sets and old entries in a constant number of round trips', async () => {
      // Prepare
      const server = await start();
      const store = storeOn(server);
      const records = Array.from({ length: 120 }, (_, i) => record(`k${i}`));
      await store.claim(records);
      server.stats.reset();
      const finals = records.map((item, i) =>
        i % 2 === 0 ? markDelivered(item, clock) : markRetry(item, clock, 'PagerDuty 503', 60_000),
      );
      const stale = { ...markDelivered(records[0] as DeliveryRecord, clock), deliveryKey: 'k0', version: 7 };

      // Act
      const written = await store.replaceMany([...finals.slice(1), stale]);
      const deletesBeside = batchWriteSizes(server);
      await store.settle();

      // Assess
      expect(written.slice(0, -1).every(Boolean)).toBe(true);
      expect(written.at(-1)).toBe(false);
      // 60 RETRY entries (1 call) + 120 compare-and-sets (1 call) + 119 old SENDING entries deleted (1 call), that one
      // not waited for: it runs beside the caller's next step, and has landed once the store is settled.
      expect(deletesBeside).toEqual([60, 120]);
      expect(batchWriteSizes(server)).toEqual([60, 120, 119]);
      expect(server.tables.count(DUE)).toBe(61); // 60 RETRY + k0 still SENDING (its write lost)
    });

    it('an ambiguous compare-and-set that landed is recognised on retry (reset after applying)', async () => {
      // Prepare
      const server = await start();
      const store = storeOn(server);
      const claimed = record('a');
      await store.claim([claimed]);
      server.faults.add({ op: 'BatchWriteRow', action: { kind: 'landThenReset' } });

      // Act
      const won = await store.replace(markDelivered(claimed, clock));

      // Assess
      expect(won).toBe(true);
      expect((await store.get(['a'])).get('a')).toMatchObject({ status: 'DELIVERED', version: 2 });
      expect(server.stats.snapshot().requests.BatchGetRow).toBe(2);
    });
  });

  describe('Method: get', () => {
    it('round-trips every field exactly, INTEGER columns as Long (bigint in the table), the event as JSON', async () => {
      // Prepare
      const server = await start();
      const store = storeOn(server);
      const big = record('a', {
        occurrence: -1,
        attempts: 3,
        lastError: 'HTTP 429 rate-limited',
        expiresAt: Number.MAX_SAFE_INTEGER,
        deliveredAt: 1_700_000_000_123,
      });

      // Act
      await store.claim([big]);
      const read = (await store.get(['a', 'missing'])).get('a');

      // Assess
      expect(read).toEqual(big);
      const row = server.tables.get(TABLE, { pk: 'a' });
      expect(row?.attrs).toMatchObject({
        occurrence: -1n,
        version: 1n,
        expiresAt: BigInt(Number.MAX_SAFE_INTEGER),
        event: JSON.stringify(big.event),
      });
      expect(Object.keys(row?.attrs ?? {})).not.toContain('routing_key');
    });

    it('reads more than 100 keys in BatchGetRow calls of at most 100', async () => {
      // Prepare
      const server = await start();
      const store = storeOn(server);
      const records = Array.from({ length: 150 }, (_, i) => record(`k${i}`));
      await store.claim(records);
      server.stats.reset();

      // Act
      const found = await store.get(records.map((item) => item.deliveryKey));

      // Assess
      expect(found.size).toBe(150);
      const sizes = server.stats.log
        .filter((entry) => entry.op === 'BatchGetRow')
        .map((entry) => {
          const tables = (entry.request?.tables ?? []) as Array<{ primaryKey: unknown[] }>;
          return tables[0]?.primaryKey.length ?? 0;
        });
      expect(sizes).toEqual([100, 50]);
    });
  });

  describe('Method: listDue', () => {
    it('reads the same number of rows with 1,000 and with 20,000 delivered rows in the table', async () => {
      // Prepare
      const server = await start();
      const store = storeOn(server);
      const seedHistory = (from: number, to: number) =>
        server.tables.seed(
          TABLE,
          Array.from({ length: to - from }, (_, i) => {
            const delivered = record(`h${String(from + i).padStart(6, '0')}`, {
              status: DeliveryStatus.DELIVERED,
              leaseUntil: undefined,
              version: 3,
              deliveredAt: clock,
            });
            return { pk: { pk: delivered.deliveryKey }, attrs: recordCells(delivered) };
          }),
        );
      await store.claim(
        Array.from({ length: 10 }, (_, i) =>
          record(`due${i}`, { status: DeliveryStatus.PENDING, leaseUntil: undefined, nextAttemptAt: clock - i }),
        ),
      );
      const relayRun = async () => {
        server.stats.reset();
        const due = await store.listDue(500);
        return { due: due.length, stats: server.stats.snapshot() };
      };

      const summaryRun = async () => {
        server.stats.reset();
        const summary = await store.outboxSummary();
        return { summary, rowsRead: server.stats.rowsRead };
      };

      // Act
      seedHistory(0, 1_000);
      const small = await relayRun();
      const smallSummary = await summaryRun();
      seedHistory(1_000, 20_000);
      const large = await relayRun();
      const largeSummary = await summaryRun();
      server.stats.reset();
      const all = await store.list();
      const scan = server.stats.snapshot();

      // Assess
      expect(server.tables.count(TABLE)).toBe(20_010);
      expect([small.due, large.due]).toEqual([10, 10]);
      expect(small.stats.rowsRead).toBe(20); // 10 due entries + their 10 main rows
      expect(large.stats.rowsRead).toBe(small.stats.rowsRead);
      expect(large.stats.byTable[DUE]?.rowsRead).toBe(10);
      expect(large.stats.byTable[TABLE]?.rowsRead).toBe(10);
      expect(large.stats.requests).toEqual({ GetRange: 4, BatchGetRow: 1 }); // one range per shard
      // the health report's backlog view reads the index too
      expect(largeSummary.summary).toEqual({ waiting: { PENDING: 10 }, oldestCreatedAt: clock });
      expect([smallSummary.rowsRead, largeSummary.rowsRead]).toEqual([20, 20]);
      // the O(history) scan, for contrast
      expect(all).toHaveLength(20_010);
      expect(scan.rowsRead).toBe(20_010);
    });

    it('finds a SENDING delivery once its lease has passed, not before', async () => {
      // Prepare
      const server = await start();
      const store = storeOn(server);
      await store.claim([record('a')]);

      // Act
      const before = await store.listDue(10);
      clock += 30_000;
      const after = await store.listDue(10);

      // Assess
      expect(before).toEqual([]);
      expect(after.map((item) => item.deliveryKey)).toEqual(['a']);
    });

    it('deletes stale entries: at once when the row moved on, after the grace period when it may be in flight', async () => {
      // Prepare
      const server = await start();
      const store = storeOn(server, { orphanGraceMs: 60_000 });
      const delivered = record('done', { status: DeliveryStatus.DELIVERED, leaseUntil: undefined, version: 2 });
      server.tables.seed(TABLE, [{ pk: { pk: 'done' }, attrs: recordCells(delivered) }]);
      const entry = (pk: string, dueAt: number, version: number) => ({
        pk: { shard: BigInt(shardOf(pk)), dueAt: BigInt(dueAt), pk },
        attrs: { version: BigInt(version), writtenAt: BigInt(clock), status: 'SENDING' },
      });
      server.tables.seed(DUE, [entry('done', clock - 10, 1), entry('inflight', clock - 10, 1)]);

      // Act
      const first = await store.listDue(10);
      const afterFirst = server.tables.rows(DUE).map((row) => row.pk.pk);
      clock += 61_000;
      await store.listDue(10);

      // Assess
      expect(first).toEqual([]);
      expect(afterFirst).toEqual(['inflight']); // no main row yet: maybe a claim in flight, kept for now
      expect(server.tables.count(DUE)).toBe(0);
    });
  });

  describe('Faults', () => {
    it('503 OTSServerBusy on every claim: retried, then a StoreError that is not ambiguous (nothing applied)', async () => {
      // Prepare
      const server = await start();
      const store = storeOn(server);
      server.faults.add({
        op: 'BatchWriteRow',
        times: Number.POSITIVE_INFINITY,
        action: { kind: 'error', code: 'OTSServerBusy' },
      });

      // Act
      const error = await failure(store.claim([record('a')]));

      // Assess
      expect(error).toBeInstanceOf(StoreError);
      expect(error.ambiguous).toBe(false);
      expect(error.message).toContain('OTSServerBusy');
      expect(error.message).not.toContain(SK);
      expect(server.stats.snapshot().requests.BatchWriteRow).toBe(3);
      expect(server.tables.count(TABLE)).toBe(0);
    });

    it('a hung claim ends with an ambiguous StoreError within the timeout (plus slack)', async () => {
      // Prepare
      const server = await start();
      const store = storeOn(server, { timeoutMs: 300 });
      server.faults.add({ op: 'BatchWriteRow', action: { kind: 'hang' } });
      const started = Date.now();

      // Act
      const error = await failure(store.claim([record('a')]));

      // Assess
      expect(error).toBeInstanceOf(StoreError);
      expect(error.ambiguous).toBe(true);
      expect(Date.now() - started).toBeLessThan(300 + 1_500);
    });

    it('a hung read ends with a StoreError (never ambiguous) within the timeout', async () => {
      // Prepare
      const server = await start();
      const store = storeOn(server, { timeoutMs: 300 });
      server.faults.add({ op: 'BatchGetRow', action: { kind: 'hang' } });

      // Act
      const error = await failure(store.get(['a']));

      // Assess
      expect(error).toBeInstanceOf(StoreError);
      expect(error.ambiguous).toBe(false);
    });

    it('a claim that landed but answered 500 is retried and recognised as ours (same content)', async () => {
      // Prepare
      const server = await start();
      const store = storeOn(server);
      server.faults.add({ op: 'BatchWriteRow', action: { kind: 'landThenError', code: 'OTSInternalServerError' } });

      // Act
      const [outcome] = await store.claim([record('a')]);
      const [repeat] = await store.claim([record('a')]);

      // Assess
      expect(outcome?.claimed).toBe(true);
      // the claim, its retry, and the repeat's claim plus its re-index of the unfinished row it found
      expect(server.stats.snapshot().requests).toMatchObject({ BatchWriteRow: 4, BatchGetRow: 2 });
      // a later, separate claim of the same record is a duplicate: no ambiguity on that call
      expect(repeat?.claimed).toBe(false);
    });

    it('a claim left ambiguous by a timeout: the caller retrying sees the row, identical to its record', async () => {
      // Prepare
      const server = await start();
      const store = storeOn(server, { timeoutMs: 300 });
      server.faults.add({ op: 'BatchWriteRow', action: { kind: 'landThenHang' } });
      const mine = record('a');

      // Act
      const error = await failure(store.claim([mine]));
      const [retry] = await store.claim([mine]);

      // Assess: the documented check — `existing` equal to the record it sent means the first attempt landed
      expect(error.ambiguous).toBe(true);
      expect(retry).toMatchObject({ claimed: false });
      expect(retry?.claimed === false && 'existing' in retry && retry.existing).toEqual(mine);
      expect(server.tables.count(DUE)).toBe(1);
    });

    it('403 OTSAuthFailed is not retried and not ambiguous; 503 on a read is retried', async () => {
      // Prepare
      const server = await start();
      const store = storeOn(server);
      server.faults.add({ op: 'BatchWriteRow', action: { kind: 'error', code: 'OTSAuthFailed' } });
      server.faults.add({ op: 'BatchGetRow', action: { kind: 'error', code: 'OTSServerBusy' } });

      // Act
      const denied = await failure(store.claim([record('a')]));
      const found = await store.get(['a']);

      // Assess
      expect(denied.ambiguous).toBe(false);
      expect(server.stats.snapshot().requests).toMatchObject({ BatchWriteRow: 1, BatchGetRow: 2 });
      expect(found.size).toBe(0);
    });

    it('no credentials: a StoreError naming the variables, before any request', async () => {
      // Prepare
      const server = await start();
      const store = storeOn(server, { credentials: () => undefined });

      // Act
      const error = await failure(store.claim([record('a')]));

      // Assess
      expect(error).toBeInstanceOf(StoreError);
      expect(error.ambiguous).toBe(false);
      expect(error.message).toContain('ALIBABA_CLOUD_ACCESS_KEY_ID');
      expect(server.stats.snapshot().requests).toEqual({});
    });

    it('a missing due table fails claims loudly and leaves no unindexed row behind', async () => {
      // Prepare
      const server = await start();
      server.tables.drop(DUE);
      const store = storeOn(server);

      // Act
      const error = await failure(store.claim([record('a')]));

      // Assess
      expect(error).toBeInstanceOf(StoreError);
      expect(server.tables.count(TABLE)).toBe(0);
    });
  });

  describe('Occurrence markers', () => {
    it('creates once, advances by version, refuses stale writes; the full scan skips marker rows', async () => {
      // Prepare
      const server = await start();
      const store = storeOn(server);
      const marker = {
        dedupKey: 'identity-a',
        latestOccurrence: 100,
        version: 1,
        updatedAt: clock,
        expiresAt: clock + DAY,
      };

      // Act
      const created = await store.putMarkers([marker]);
      const again = await store.putMarkers([{ ...marker, latestOccurrence: 50 }]);
      const advanced = await store.putMarkers([{ ...marker, latestOccurrence: 200, version: 2 }]);
      const stale = await store.putMarkers([{ ...marker, latestOccurrence: 300, version: 2 }]);
      const read = await store.getMarkers(['identity-a', 'identity-b']);

      // Assess
      expect([created, again, advanced, stale]).toEqual([[true], [false], [true], [false]]);
      expect([...read.values()]).toEqual([{ ...marker, latestOccurrence: 200, version: 2 }]);
      expect(await store.list()).toEqual([]);
    });
  });

  describe('Key states', () => {
    const keyId = '0123456789abcdef';
    const state = { keyId, version: 1, updatedAt: 0, expiresAt: 0, data: { circuit: 'open', window: [1, 2] } };

    it('one main-table row k1-<keyId> with the data as one JSON string; the full scan skips it', async () => {
      // Prepare
      const server = await start();
      const store = storeOn(server);

      // Act
      const written = await store.putKeyStates([{ ...state, updatedAt: clock, expiresAt: clock + DAY }]);

      // Assess
      expect(written).toEqual([true]);
      expect(server.tables.rows(TABLE).map((row) => [row.pk.pk, row.attrs.kind, row.attrs.data])).toEqual([
        [`k1-${keyId}`, 'keystate', '{"circuit":"open","window":[1,2]}'],
      ]);
      expect(await store.list()).toEqual([]);
    });

    it('an ambiguous write that landed is ours: the retry fails its condition, and the row read back is ours', async () => {
      // Prepare
      const server = await start();
      const store = storeOn(server);
      const fault = server.faults.add({ op: 'BatchWriteRow', action: { kind: 'landThenReset' } });

      // Act
      const written = await store.putKeyStates([{ ...state, version: 1, updatedAt: clock, expiresAt: clock + DAY }]);

      // Assess
      expect(fault.fired).toBe(1);
      expect(server.stats.snapshot().requests.BatchWriteRow).toBe(2);
      expect(written).toEqual([true]);
      expect((await store.getKeyStates([keyId])).get(keyId)).toMatchObject({ version: 1, data: state.data });
    });
  });
});

describe('Wiring: createBridge with STORE=tablestore', () => {
  it('builds a TablestoreStore from TABLESTORE_* and ALIBABA_CLOUD_* and uses it', async () => {
    // Prepare
    const server = await start({ credentials: { accessKeyId: AK, secretAccessKey: SK } });
    const env = {
      STORE: 'tablestore',
      TABLESTORE_ENDPOINT: server.endpoint,
      TABLESTORE_INSTANCE: server.instance,
      TABLESTORE_TABLE: TABLE,
      ALIBABA_CLOUD_ACCESS_KEY_ID: AK,
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: SK,
      DRY_RUN: 'true',
    };

    // Act
    const built = createBridge('alert-webhook', env, { logSink: () => undefined });

    // Assess
    expect(built.ok).toBe(true);
    if (!built.ok) return;
    const { store } = built.bridge;
    expect(store).toBeInstanceOf(TablestoreStore);
    stores.push(store as TablestoreStore);
    const [outcome] = await store.claim([record('a', { createdAt: Date.now(), expiresAt: Date.now() + DAY })]);
    expect(outcome?.claimed).toBe(true);
  });
});

describe('Bundles with STORE=tablestore', () => {
  it('alert-webhook stores the ARMS sample and delivery-health reads it back (dry-run)', async () => {
    // Prepare
    const server = await start({ credentials: { accessKeyId: AK, secretAccessKey: SK } });
    const env = {
      STORE: 'tablestore',
      TABLESTORE_ENDPOINT: server.endpoint,
      TABLESTORE_INSTANCE: server.instance,
      TABLESTORE_TABLE: TABLE,
      ALIBABA_CLOUD_ACCESS_KEY_ID: AK,
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: SK,
    };
    const sample = readFileSync(join(root, 'tests/fixtures/arms/sample.json'), 'utf8');

    // Act
    const webhook = await invokeBundle('alert-webhook', httpEvent({ body: sample }), env);
    const repeat = await invokeBundle('alert-webhook', httpEvent({ body: sample }), env);
    const health = await invokeBundle('delivery-health', timerEvent(), env);

    // Assess
    expect(webhook.result.statusCode).toBe(200);
    expect(JSON.parse(webhook.result.body)).toMatchObject({ dryRun: 1 });
    expect(JSON.parse(repeat.result.body)).toMatchObject({ duplicates: 1 });
    expect(server.tables.rows(TABLE).map((row) => row.attrs.status)).toContain('DRY_RUN');
    expect(health.result).toMatchObject({ ok: true });
    expect(`${webhook.stdout}${health.stdout}`).not.toContain(SK);
  });
});

describe('Function: ensureTables', () => {
  const env = (server: FakeTablestore) => ({
    STORE: 'tablestore',
    TABLESTORE_ENDPOINT: server.endpoint,
    TABLESTORE_INSTANCE: server.instance,
    TABLESTORE_TABLE: TABLE,
    DELIVERY_TTL_SECONDS: String(3 * 86_400),
    ALIBABA_CLOUD_ACCESS_KEY_ID: AK,
    ALIBABA_CLOUD_ACCESS_KEY_SECRET: SK,
  });

  it('creates both tables, then finds them unchanged; a new TTL is applied in place', async () => {
    // Prepare
    const server = await start({ credentials: { accessKeyId: AK, secretAccessKey: SK } }, false);
    const lines: string[] = [];
    const log = (line: string) => lines.push(line);

    // Act
    const first = await ensureTables(loadConfig(env(server)), { log, pollMs: 10 });
    const second = await ensureTables(loadConfig(env(server)), { log, pollMs: 10 });
    const third = await ensureTables(loadConfig({ ...env(server), DELIVERY_TTL_SECONDS: String(7 * 86_400) }), {
      log,
      pollMs: 10,
    });

    // Assess
    expect(first.map((result) => result.action)).toEqual(['created', 'created']);
    expect(second.map((result) => result.action)).toEqual(['unchanged', 'unchanged']);
    expect(third.map((result) => result.action)).toEqual(['updated', 'updated']);
    expect(server.tables.names().sort()).toEqual([TABLE, DUE]);
    expect(lines.join('\n')).not.toContain(SK);
    // the created layout is the one the store uses
    const store = storeOn(server);
    await store.claim([record('a')]);
    expect(server.tables.count(DUE)).toBe(1);
  });

  it('refuses a table with another primary key', async () => {
    // Prepare
    const server = await start({}, false);
    server.tables.create(TABLE, [{ name: 'id', type: 'STRING' }]);

    // Act + Assess
    await expect(ensureTables(loadConfig(env(server)), { log: () => undefined })).rejects.toThrow(/primary key/);
  });

  it('runs as the built script (dist/infra/tablestore.js) against the fake, twice', async () => {
    // Prepare
    const script = join(root, 'dist', 'infra', 'tablestore.js');
    expect(existsSync(script), 'build first: node scripts/build.mjs').toBe(true);
    const server = await start({ credentials: { accessKeyId: AK, secretAccessKey: SK } }, false);
    const options = { cwd: root, env: { PATH: process.env.PATH ?? '', ...env(server) }, timeout: 15_000 };

    // Act
    const first = await run(process.execPath, [script], options);
    const second = await run(process.execPath, [script], options);

    // Assess
    expect(first.stdout).toContain(`created table ${TABLE} (pk STRING)`);
    expect(first.stdout).toContain(`created table ${DUE} (shard INTEGER, dueAt INTEGER, pk STRING)`);
    expect(second.stdout).toContain('unchanged');
    expect(`${first.stdout}${first.stderr}${second.stdout}`).not.toContain(SK);
    expect(server.tables.names().sort()).toEqual([TABLE, DUE]);
  });

  it('exits 2 naming the missing variables', async () => {
    // Prepare
    const script = join(root, 'dist', 'infra', 'tablestore.js');

    // Act
    const result = await run(process.execPath, [script], { cwd: root, env: { PATH: process.env.PATH ?? '' } }).then(
      () => ({ code: 0, stderr: '' }),
      (error: { code: number; stderr: string }) => error,
    );

    // Assess
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('TABLESTORE_ENDPOINT');
  });
});

// Keeps `dueTimeOf` honest against the record builder used above.
it('the due time of a SENDING record is its lease end', () => {
  expect(dueTimeOf(record('x'))).toBe(clock + 30_000);
});
