/**
 * Occurrence markers, key states and health counters on Tablestore: the main table's rows that are not deliveries.
 * Markers (`OccurrenceMarker.ts`) and key states (`KeyState.ts`) are versioned rows, moved forward by compare-and-set
 * like deliveries; the counters (`Counters.ts`) are added by INCREMENT and read by key range. Row keys and columns:
 * `rowCodec.ts`.
 */

import type { Deadline } from '../../deadline';
import { type CounterDelta, type CounterTotals, MINUTE_MS } from '../Counters';
import type { DeliveryRecord } from '../DeliveryRecord';
import type { ReadWith } from '../DeliveryStore';
import type { KeyState } from '../KeyState';
import type { OccurrenceMarker } from '../OccurrenceMarker';
import { rowError, type TablestoreCalls, type WriteOutcome, type WriteRow } from './calls';
import {
  bucketStartKey,
  COUNTER_KIND,
  cellsOf,
  condition,
  counterRowKey,
  equal,
  KEY_STATE_ROWS,
  KIND_COLUMN,
  LATEST_KIND,
  long,
  MARKER_ROWS,
  mainKey,
  parseCounterRowKey,
  putRow,
  recordOf,
  sameVersionedRow,
  sdk,
  toNumber,
  VERSION_COLUMN,
  type VersionedRows,
} from './rowCodec';
import type { SdkCondition, SdkRow } from './sdk';

type Versioned = { version: number; expiresAt: number };

/** Versioned rows written in another call's batch; `settle` answers per row whether it was written. */
interface RidingVersioned {
  rows: WriteRow[];
  settle(outcomes: readonly WriteOutcome[]): Promise<boolean[]>;
}

/** The live-or-expired versioned rows read for `ids` (one row per id, in order), keyed by id. */
function versionedOf<T extends Versioned>(
  kind: VersionedRows<T>,
  ids: readonly string[],
  rows: readonly (SdkRow | undefined)[],
): Map<string, T> {
  const found = new Map<string, T>();
  rows.forEach((row, index) => {
    const value = row && kind.fromCells(cellsOf(row));
    if (value !== undefined) found.set(ids[index] as string, value);
  });
  return found;
}

/** Counter rows written in another call's batch, and what finishes them once their outcomes are known. */
interface CounterRows {
  rows: WriteRow[];
  /** Throws when a counter was not (or maybe not) written. */
  settle(outcomes: readonly WriteOutcome[]): Promise<void>;
}

class MarkersAndCounters {
  readonly #calls: TablestoreCalls;
  readonly #table: string;
  readonly #budget: () => Deadline;

  public constructor(options: { calls: TablestoreCalls; table: string; budget: () => Deadline }) {
    this.#calls = options.calls;
    this.#table = options.table;
    this.#budget = options.budget;
  }

  // ------------------------------------------------------------------------------------------------------------
  // Versioned rows: occurrence markers (`m1-<hash>`) and key states (`k1-<keyId>`)
  // ------------------------------------------------------------------------------------------------------------

  public async getMarkers(dedupKeys: readonly string[]): Promise<Map<string, OccurrenceMarker>> {
    return this.#getVersioned(MARKER_ROWS, dedupKeys);
  }

  /**
   * Delivery rows, markers and key states in one read: all are rows of the main table, so one BatchGetRow (per
   * `BATCH_GET_MAX_ROWS` rows) answers them all.
   */
  public async getWithMarkers(
    deliveryKeys: readonly string[],
    dedupKeys: readonly string[],
    keyIds: readonly string[],
  ): Promise<ReadWith> {
    const rows = await this.#calls.get(this.#budget(), this.#table, [
      ...deliveryKeys.map(mainKey),
      ...dedupKeys.map((dedupKey) => mainKey(MARKER_ROWS.rowKeyOf(dedupKey))),
      ...keyIds.map((keyId) => mainKey(KEY_STATE_ROWS.rowKeyOf(keyId))),
    ]);
    const records = new Map<string, DeliveryRecord>();
    for (const row of rows.slice(0, deliveryKeys.length)) {
      if (row === undefined) continue;
      const record = recordOf(row);
      records.set(record.deliveryKey, record);
    }
    const markerStart = deliveryKeys.length;
    const keyStart = markerStart + dedupKeys.length;
    return {
      records,
      markers: versionedOf(MARKER_ROWS, dedupKeys, rows.slice(markerStart, keyStart)),
      keyStates: versionedOf(KEY_STATE_ROWS, keyIds, rows.slice(keyStart)),
    };
  }

  public async putMarkers(markers: readonly OccurrenceMarker[], now: number): Promise<boolean[]> {
    return this.#putVersioned(MARKER_ROWS, markers, now);
  }

  /**
   * The first attempt's rows of `putMarkers`, to ride in another batch write (the claim's, `claims.ts`), and `settle`,
   * which takes their outcomes (in row order) and finishes as `putMarkers` would (its retries and reads), answering
   * per marker whether it was written; throws as `putMarkers` does.
   */
  public markerRows(markers: readonly OccurrenceMarker[], now: number): RidingVersioned {
    return this.#ridingRows(MARKER_ROWS, markers, now);
  }

  /**
   * Key states' rows (`putKeyStates`) to ride in the claim's batch: the sends the webhook takes from its keys' budgets.
   * One attempt, no reads: a row is written only when its outcome is ok. Anything else (a lost race, an error, an
   * ambiguous attempt that may have landed) answers false, and the gate asks the usual way (at worst a few sends of
   * the window stay taken until they leave it): the claim never waits on these rows.
   */
  public keyStateRows(states: readonly KeyState[], now: number): RidingVersioned {
    if (new Set(states.map((state) => state.keyId)).size < states.length) {
      return { rows: [], settle: async () => states.map(() => false) };
    }
    const rows = states.map((state) => this.#versionedRow(KEY_STATE_ROWS, state, now));
    return { rows, settle: async (outcomes) => outcomes.map((outcome) => outcome.status === 'ok') };
  }

  #ridingRows<T extends Versioned>(kind: VersionedRows<T>, items: readonly T[], now: number): RidingVersioned {
    if (new Set(items.map((item) => kind.idOf(item))).size < items.length) {
      // The same id twice is written one at a time (`#putVersioned`): nothing rides.
      return { rows: [], settle: () => this.#putVersioned(kind, items, now) };
    }
    const rows = items.map((item) => this.#versionedRow(kind, item, now));
    return { rows, settle: (outcomes) => this.#putVersioned(kind, items, now, outcomes) };
  }

  public async getKeyStates(keyIds: readonly string[]): Promise<Map<string, KeyState>> {
    return this.#getVersioned(KEY_STATE_ROWS, keyIds);
  }

  public async putKeyStates(states: readonly KeyState[], now: number): Promise<boolean[]> {
    return this.#putVersioned(KEY_STATE_ROWS, states, now);
  }

  async #getVersioned<T extends Versioned>(kind: VersionedRows<T>, ids: readonly string[]): Promise<Map<string, T>> {
    const rows = await this.#calls.get(
      this.#budget(),
      this.#table,
      ids.map((id) => mainKey(kind.rowKeyOf(id))),
    );
    return versionedOf(kind, ids, rows);
  }

  /**
   * Version 1: only where no live row is (expect-not-exist, or over an expired one exactly as read); later versions:
   * over a live `version - 1`. Rows are independent (one lost race does not stop the others); the same id twice in one
   * call is written one at a time, in order.
   */
  async #putVersioned<T extends Versioned>(
    kind: VersionedRows<T>,
    items: readonly T[],
    now: number,
    /** The first attempt's outcomes, when its rows rode in another batch (`markerRows`). */
    first?: readonly WriteOutcome[],
  ): Promise<boolean[]> {
    if (new Set(items.map((item) => kind.idOf(item))).size < items.length) {
      const results: boolean[] = [];
      for (const item of items) results.push(...(await this.#putVersioned(kind, [item], now)));
      return results;
    }
    const budget = this.#budget();
    const results = items.map(() => false);
    let round: Array<{ index: number; takeover?: T }> = items.map((_, index) => ({ index }));
    for (let attempt = 0; round.length > 0 && attempt < 3; attempt++) {
      const outcomes =
        attempt === 0 && first !== undefined
          ? first
          : await this.#calls.write(
              budget,
              round.map(({ index, takeover }) => this.#versionedRow(kind, items[index] as T, now, takeover)),
            );
      const failed = outcomes.find((outcome) => outcome.status === 'failed');
      if (failed?.status === 'failed') throw rowError(`put ${kind.name}`, failed);
      const retried = new Set<number>();
      const toRead = round.filter(({ index }, position) => {
        const outcome = outcomes[position] as WriteOutcome;
        if (outcome.status === 'ok') results[index] = true;
        if (outcome.status !== 'condition') return false;
        if (outcome.retried) retried.add(index);
        return outcome.retried || (items[index] as T).version === 1;
      });
      round = [];
      if (toRead.length === 0) break;
      const current = await this.#getVersioned(
        kind,
        toRead.map(({ index }) => kind.idOf(items[index] as T)),
      );
      for (const entry of toRead) {
        const item = items[entry.index] as T;
        const found = current.get(kind.idOf(item));
        if (retried.has(entry.index) && found !== undefined && sameVersionedRow(kind, found, item))
          results[entry.index] = true; // our ambiguous attempt landed
        else if (item.version !== 1) continue;
        else if (found === undefined) round.push({ index: entry.index });
        else if (found.expiresAt <= now) round.push({ index: entry.index, takeover: found });
      }
    }
    return results;
  }

  /** A versioned row's conditional put: version 1 where none is (or over `takeover`), later versions over the last. */
  #versionedRow<T extends Versioned>(kind: VersionedRows<T>, item: T, now: number, takeover?: T): WriteRow {
    let rowCondition: SdkCondition;
    if (takeover !== undefined) {
      rowCondition = condition('EXPECT_EXIST', [
        equal(VERSION_COLUMN, takeover.version),
        equal('expiresAt', takeover.expiresAt),
      ]);
    } else if (item.version === 1) rowCondition = condition('EXPECT_NOT_EXIST');
    else {
      rowCondition = condition('EXPECT_EXIST', [
        equal(VERSION_COLUMN, item.version - 1),
        ['expiresAt', 'GREATER_THAN', now],
      ]);
    }
    return putRow(this.#table, kind.rowKeyOf(kind.idOf(item)), kind.cellsOf(item), rowCondition);
  }

  // ------------------------------------------------------------------------------------------------------------
  // Health counters (main-table rows `c1-<minute>-n-<name>` / `…-t-<name>`, one INTEGER `value` each)
  // ------------------------------------------------------------------------------------------------------------

  /**
   * One BatchWriteRow for all buckets: each count is an INCREMENT (atomic, creates the row), each latest time a put
   * conditional on the stored value being smaller. Increments are not idempotent, so ambiguous failures are not
   * retried (a count may be lost, never doubled).
   */
  public async addCounters(
    updates: readonly { bucket: number; delta: CounterDelta }[],
    expiresAt: number,
  ): Promise<void> {
    const counters = this.counterRows(updates, expiresAt);
    if (counters.rows.length === 0) return;
    const outcomes = await this.#calls.write(this.#budget(), counters.rows, undefined, { retryAmbiguous: false });
    await counters.settle(outcomes);
  }

  /**
   * The rows of `addCounters`, to ride in another batch write (`DueIndex.transition`), and `settle`, which takes their
   * outcomes (in row order), finishes the latest times' second attempt and throws when a counter was not written.
   */
  public counterRows(updates: readonly { bucket: number; delta: CounterDelta }[], expiresAt: number): CounterRows {
    const { Condition, RowExistenceExpectation, SingleColumnCondition, ComparatorType } = sdk();
    const rows: WriteRow[] = [];
    /** Latest-time rows by index in `rows`, to put again expect-not-exist if their condition fails (see below). */
    const latestRows = new Map<number, { key: string; cells: Record<string, bigint | string> }>();
    for (const { bucket, delta } of updates) {
      for (const [name, value] of Object.entries(delta.counts ?? {})) {
        if (!Number.isFinite(value) || value === 0) continue;
        rows.push({
          tableName: this.#table,
          row: {
            type: 'UPDATE',
            condition: condition('IGNORE'),
            primaryKey: mainKey(counterRowKey(bucket, 'n', name)),
            attributeColumns: [
              { PUT: [{ [KIND_COLUMN]: COUNTER_KIND }, { expiresAt: long(expiresAt) }] },
              { INCREMENT: [{ value: long(Math.trunc(value)) }] },
            ],
          },
        });
      }
      for (const [name, value] of Object.entries(delta.latest ?? {})) {
        if (!Number.isFinite(value)) continue;
        const smaller = new SingleColumnCondition('value', long(Math.trunc(value)), ComparatorType.LESS_THAN, true);
        const key = counterRowKey(bucket, 't', name);
        const cells = { [KIND_COLUMN]: LATEST_KIND, value: BigInt(Math.trunc(value)), expiresAt: BigInt(expiresAt) };
        latestRows.set(rows.length, { key, cells });
        rows.push(putRow(this.#table, key, cells, new Condition(RowExistenceExpectation.IGNORE, smaller)));
      }
    }
    const settle = async (outcomes: readonly WriteOutcome[]): Promise<void> => {
      const failed = outcomes.find((outcome) => outcome.status === 'failed');
      if (failed?.status === 'failed') throw rowError('add counters', failed);
      // Whether a column condition with passIfMissing passes on a MISSING row is UNCONFIRMED on the real service
      // (reference §12): a failed latest put is tried once more as expect-not-exist. Failing that too means the row
      // exists with a value at least as large (else the first condition would have passed): nothing to do.
      const retry = [...latestRows].filter(([index]) => outcomes[index]?.status === 'condition');
      if (retry.length === 0) return;
      const second = await this.#calls.write(
        this.#budget(),
        retry.map(([, { key, cells }]) => putRow(this.#table, key, cells, condition('EXPECT_NOT_EXIST'))),
      );
      const failedAgain = second.find((outcome) => outcome.status === 'failed');
      if (failedAgain?.status === 'failed') throw rowError('add counters', failedAgain);
    };
    return { rows, settle };
  }

  /** One GetRange per run of consecutive buckets (rows sort by bucket): the window's rows, whatever the history. */
  public async readCounters(buckets: readonly number[]): Promise<CounterTotals[]> {
    const sorted = [...new Set(buckets)].sort((a, b) => a - b);
    const runs: number[][] = [];
    for (const bucket of sorted) {
      const run = runs.at(-1);
      if (run !== undefined && bucket - (run.at(-1) as number) === MINUTE_MS) run.push(bucket);
      else runs.push([bucket]);
    }
    const budget = this.#budget();
    const pages = await Promise.all(
      runs.map((run) =>
        this.#calls.range(
          budget,
          this.#table,
          mainKey(bucketStartKey(run[0] as number)),
          mainKey(bucketStartKey((run.at(-1) as number) + 1)),
          Number.POSITIVE_INFINITY,
        ),
      ),
    );
    const totals = new Map<number, CounterTotals>();
    for (const row of pages.flat()) {
      const key = parseCounterRowKey(String(row.primaryKey?.[0]?.value));
      const value = toNumber(cellsOf(row).get('value'));
      if (key === undefined || value === undefined) continue;
      const bucket = totals.get(key.bucket) ?? { counts: {}, latest: {} };
      if (key.type === 'n') bucket.counts[key.name] = value;
      else bucket.latest[key.name] = value;
      totals.set(key.bucket, bucket);
    }
    return [...totals.values()];
  }
}

export type { CounterRows };
export { MarkersAndCounters };
