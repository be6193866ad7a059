/**
 * The due index: one entry `[shard, dueAt, pk]` per undelivered delivery in `<table>_due`, so the relay reads by range
 * what is due, and its cost follows the undelivered rows, never the delivered history (`rowCodec.ts` has the layout).
 *
 * **The main row is the truth; an index entry is a pointer.** An entry is live when its main row is due exactly at its
 * `dueAt`; any other entry is stale and deleted (eagerly when the writer knows it, else lazily by `listDue`). The one
 * state that must never exist is a due main row without its live entry (the relay would never see it), so every write
 * orders itself around it (claims: `claims.ts`):
 *
 * ```
 *  transition  ─ 1. PUT the new state's entry (index first)   2. main PUT if version = v   3. DELETE the old entry
 *                 a crash after 1 leaves a young stale entry; after 2, the old entry stays until deleted lazily.
 *                 3 is not waited for: it runs beside the caller's next step, and `settle` (before an answer or the
 *                 end of a run) waits for it; the main row is already past the entry, so nothing depends on it.
 *  listDue     ─ GetRange per shard [shard, -inf, -inf] .. [shard, now + within + 1, -inf)  →  BatchGetRow the mains
 *                 → live entries give the due records; stale ones are deleted when provably stale: the main row
 *                 moved past the entry's version, or the entry is older than the grace period (a write in flight).
 *  summary     ─ the whole due index (O(backlog)) → BatchGetRow → counts of the live entries' rows by status.
 * ```
 *
 * The live cache remembers each delivery's live entry as this instance last wrote or read it, so a transition deletes
 * the old entry without reading it first; an entry it does not know is left to `listDue`.
 */
import type { Deadline } from '../../deadline';
import { StoreError } from '../../errors';
import type { DeliveryRecord } from '../DeliveryRecord';
import type { OutboxSummary } from '../DeliveryStore';
import { isDue } from '../storeRules';
import { rowError, type WriteOutcome, type WriteRow } from './calls';
import { toStoreError } from './errors';
import {
  condition,
  DUE_SHARDS,
  type DueEntry,
  deleteEntry,
  dueEntryOf,
  entryMatches,
  entryOf,
  equal,
  long,
  MAIN_PK,
  putEntry,
  sameCells,
  sdk,
  VERSION_COLUMN,
} from './rowCodec';
import type { DeliveryTables } from './tables';

/** Unmatched index entries younger than this may belong to a write in flight, so they are kept. */
const DEFAULT_ORPHAN_GRACE_MS = 5 * 60_000;
/** `listDue(limit)` reads up to max(2 × limit, this) due entries, then returns the `limit` oldest-created. */
const DUE_SCAN_MIN = 100;
/** Live entries remembered (so a transition can delete its old entry without reading it first). */
const LIVE_ENTRY_CACHE_MAX = 10_000;

/**
 * Rows of another kind written in a transition's compare-and-set batch (the webhook's activity counters beside its
 * outcomes): independent of the records' rows, retried as `retryAmbiguous` says, finished by `settle` (which must not
 * throw: the transition's own result stands whatever became of them).
 */
interface RiderRows {
  rows: WriteRow[];
  retryAmbiguous?: boolean;
  settle(outcomes: readonly WriteOutcome[]): Promise<void>;
}

interface DueIndexOptions {
  tables: DeliveryTables;
  /** A new budget for one operation. */
  budget: () => Deadline;
  now: () => number;
  /** @default 300000 (5 min) */
  orphanGraceMs?: number;
}

class DueIndex {
  readonly #tables: DeliveryTables;
  readonly #budget: () => Deadline;
  readonly #now: () => number;
  readonly #graceMs: number;
  /** deliveryKey → its live due entry and the main version it belongs to (what a transition deletes). */
  readonly #live = new Map<string, { mainVersion: number; entry: DueEntry }>();
  /** Deletes of old entries not yet answered: a transition does not wait for them (`settle` does). */
  readonly #tidying = new Set<Promise<void>>();

  public constructor(options: DueIndexOptions) {
    this.#tables = options.tables;
    this.#budget = options.budget;
    this.#now = options.now;
    this.#graceMs = options.orphanGraceMs ?? DEFAULT_ORPHAN_GRACE_MS;
  }

  /** Waits for the old entries' deletes still in flight (`transition`); never throws (`tidy` does not). */
  public async settle(): Promise<void> {
    while (this.#tidying.size > 0) await Promise.all(this.#tidying);
  }

  #defer(tidying: Promise<void>): void {
    this.#tidying.add(tidying);
    void tidying.finally(() => this.#tidying.delete(tidying));
  }

  /** Records `entry` as the live entry of `record` (none: the record is not due, nothing to remember). */
  public remember(record: DeliveryRecord, entry: DueEntry | undefined): void {
    this.#live.delete(record.deliveryKey);
    if (entry === undefined) return;
    this.#live.set(record.deliveryKey, { mainVersion: record.version, entry });
    if (this.#live.size > LIVE_ENTRY_CACHE_MAX) {
      const oldest = this.#live.keys().next().value;
      if (oldest !== undefined) this.#live.delete(oldest);
    }
  }

  /**
   * Compare-and-sets each record over the version `expected` says, in a constant number of round trips whatever the
   * count: the new entries, the main rows, the old entries. Returns, per record, whether it was written.
   */
  public async transition(
    records: readonly DeliveryRecord[],
    expected: readonly number[],
    riders?: RiderRows,
  ): Promise<boolean[]> {
    if (records.length === 0) return [];
    if (riders !== undefined && new Set(records.map((record) => record.deliveryKey)).size < records.length) {
      const results = await this.transition(records, expected);
      const options = { retryAmbiguous: riders.retryAmbiguous };
      await riders.settle(await this.#tables.calls.write(this.#budget(), riders.rows, undefined, options));
      return results;
    }
    if (new Set(records.map((record) => record.deliveryKey)).size < records.length) {
      // The same key twice in one batch is invalid: apply in order, one at a time.
      const results: boolean[] = [];
      for (const [index, record] of records.entries()) {
        results.push(...(await this.transition([record], [expected[index] as number])));
      }
      return results;
    }
    const { calls, due } = this.#tables;
    const budget = this.#budget();
    const now = this.#now();

    // 1. Index first: the new state's entry exists before the main row says it is due.
    const entries = records.map((record) => dueEntryOf(record, now));
    const toIndex = entries.filter((entry): entry is DueEntry => entry !== undefined);
    if (toIndex.length > 0) {
      const indexed = await calls.write(
        budget,
        toIndex.map((entry) => putEntry(due, entry)),
      );
      const failed = indexed.find((outcome) => outcome.status === 'failed');
      if (failed?.status === 'failed') {
        const cause = toStoreError('replace', failed.failure, false);
        throw new StoreError(`${cause.message} (due index; no delivery row changed)`, { cause });
      }
    }

    // 2. Compare-and-set each main row on the version it was read at (and the riders, independent rows, beside them).
    const main = records.map((record, index) =>
      this.#tables.putRecord(record, condition('EXPECT_EXIST', [equal(VERSION_COLUMN, expected[index] as number)])),
    );
    const riding = riders?.rows ?? [];
    const outcomes = await calls.write(budget, [...main, ...riding], undefined, {
      retryAmbiguous: (index) => (index < main.length ? true : (riders?.retryAmbiguous ?? true)),
    });
    const written = outcomes.slice(0, main.length);
    if (riders !== undefined) await riders.settle(outcomes.slice(main.length));
    const results = written.map((outcome) => outcome.status === 'ok');
    const toVerify = records.filter((_, index) => written[index]?.status === 'condition' && written[index]?.retried);
    if (toVerify.length > 0) {
      // An ambiguous attempt, then a failed condition: did the first attempt land? Then the row is exactly ours.
      const current = await this.#tables.readRecords(
        budget,
        toVerify.map((record) => record.deliveryKey),
      );
      for (const [index, record] of records.entries()) {
        const found = current.get(record.deliveryKey);
        if (toVerify.includes(record) && found !== undefined && sameCells(found, record)) results[index] = true;
      }
    }
    const failed = written.find((outcome) => outcome.status === 'failed');

    // 3. The old entries of the rows that moved on, when known (else `listDue` deletes them when it meets them).
    const stale: WriteRow[] = [];
    for (const [index, record] of records.entries()) {
      const old = this.#live.get(record.deliveryKey);
      this.#live.delete(record.deliveryKey);
      if (!results[index]) continue;
      if (old !== undefined && old.mainVersion === expected[index] && old.entry.dueAt !== entries[index]?.dueAt) {
        stale.push(deleteEntry(due, old.entry));
      }
      this.remember(record, entries[index]);
    }
    // Beside the caller's next step (the webhook's read of waiting resolves, its next sends), awaited by `settle`.
    this.#defer(calls.tidy(budget, stale));
    if (failed?.status === 'failed') throw rowError('replace', failed);
    return results;
  }

  /**
   * Deliveries due by `until`, oldest first: O(due entries), whatever the history. Reads up to max(2 × limit, 100)
   * entries with `dueAt <= until` (earliest due first), then returns the `limit` oldest-created.
   */
  public async listDue(limit: number, now: number, until: number): Promise<DeliveryRecord[]> {
    const { calls, due } = this.#tables;
    const budget = this.#budget();
    const cap = Math.max(limit * 2, DUE_SCAN_MIN);
    const { INF_MIN } = sdk();
    const shards = await Promise.all(
      Array.from({ length: DUE_SHARDS }, (_, shard) =>
        calls.range(
          budget,
          due,
          [{ shard: long(shard) }, { dueAt: INF_MIN }, { [MAIN_PK]: INF_MIN }],
          [{ shard: long(shard) }, { dueAt: long(until + 1) }, { [MAIN_PK]: INF_MIN }],
          cap,
        ),
      ),
    );
    const entries = shards
      .flat()
      .map(entryOf)
      .sort((a, b) => a.dueAt - b.dueAt)
      .slice(0, cap);
    const mains = await this.#tables.readRecords(budget, [...new Set(entries.map((entry) => entry.deliveryKey))]);

    const found = new Map<string, DeliveryRecord>();
    const stale: WriteRow[] = [];
    for (const entry of entries) {
      const record = mains.get(entry.deliveryKey);
      const live = record !== undefined && record.expiresAt > now ? record : undefined;
      if (live !== undefined && entryMatches(entry, live)) {
        if (isDue(live, until)) found.set(live.deliveryKey, live);
        this.remember(live, entry);
      } else if ((live !== undefined && live.version >= entry.version) || entry.writtenAt <= now - this.#graceMs) {
        // Provably stale: the row moved past the version this entry was written for, or no write is still in flight.
        stale.push(deleteEntry(due, entry));
      }
    }
    await calls.tidy(budget, stale);
    return [...found.values()].sort((a, b) => a.createdAt - b.createdAt).slice(0, limit);
  }

  /**
   * The waiting deliveries by status and the oldest one's creation time: every entry, whatever its due time, checked
   * against its main row. O(backlog), whatever the history (each call gets its own budget: a backlog after an outage
   * can be large).
   */
  public async summary(): Promise<OutboxSummary> {
    const { calls, due } = this.#tables;
    const now = this.#now();
    const perCall = this.#budget;
    const { INF_MIN, INF_MAX } = sdk();
    const shards = await Promise.all(
      Array.from({ length: DUE_SHARDS }, (_, shard) =>
        calls.range(
          perCall,
          due,
          [{ shard: long(shard) }, { dueAt: INF_MIN }, { [MAIN_PK]: INF_MIN }],
          [{ shard: long(shard) }, { dueAt: INF_MAX }, { [MAIN_PK]: INF_MAX }],
          Number.POSITIVE_INFINITY,
        ),
      ),
    );
    const entries = shards.flat().map(entryOf);
    const mains = await this.#tables.readRecords(perCall, [...new Set(entries.map((entry) => entry.deliveryKey))]);
    const summary: OutboxSummary = { waiting: {} };
    for (const entry of entries) {
      const live = mains.get(entry.deliveryKey);
      if (live === undefined || live.expiresAt <= now || !entryMatches(entry, live)) continue;
      summary.waiting[live.status] = (summary.waiting[live.status] ?? 0) + 1;
      summary.oldestCreatedAt = Math.min(summary.oldestCreatedAt ?? live.createdAt, live.createdAt);
    }
    return summary;
  }
}

export type { RiderRows };
export { DueIndex };
