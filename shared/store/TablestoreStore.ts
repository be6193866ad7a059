/**
 * The deployed store (STORE=tablestore): the main table holds one row per delivery, the due index holds one entry per
 * undelivered delivery (`tablestoreRows.ts` has the layout). The relay reads the due index by range up to now, so its
 * cost follows the undelivered rows, never the delivered history.
 *
 * **The main row is the truth; an index entry is a pointer.** An entry `[shard, dueAt, pk]` is live when its main row
 * is due exactly at `dueAt`; any other entry is stale and deleted (eagerly when the writer knows it, else lazily by
 * `listDue`). The one state that must never exist is a due main row without its live entry (the relay would never see
 * it), so every write orders itself around it:
 *
 * ```
 *  claim       ─ BatchWriteRow { due entry PUT, main PUT expect-not-exist }   (1 round trip, both tables)
 *                 main ok, entry failed → re-put the entry; still failing → delete the new main row (un-claim) and
 *                 throw: the caller fails open, and ARMS's next repeat claims afresh.
 *  transition  ─ 1. PUT the new state's entry (index first)   2. main PUT if version = v   3. DELETE the old entry
 *                 a crash after 1 leaves a young stale entry; after 2, the old entry stays until deleted lazily.
 *  listDue     ─ GetRange per shard [shard, -inf, -inf] .. [shard, now + within + 1, -inf)  →  BatchGetRow the mains
 *                 → live entries give the due records; stale ones are deleted when provably stale: the main row
 *                 moved past the entry's version, or the entry is older than the grace period (a write in flight).
 *  outboxSummary ─ the whole due index (O(backlog)) → BatchGetRow → counts of the live entries' rows by status.
 * ```
 *
 * Occurrence markers, key states and health counters are main-table rows of their own (`tablestoreRows.ts`): markers
 * and key states by compare-and-set like deliveries, counters by INCREMENT (one BatchWriteRow per call) and read by key
 * range.
 *
 * Every operation is bounded by `STORE_TIMEOUT_MS` (our timer, not the SDK's idle timeout), SDK retries are off and
 * this adapter retries failed rows itself. Ambiguous writes (timeouts, resets, 5xx) are retried: a conditional write
 * that then fails its condition reads the row back, and finding exactly the cells it wrote means its earlier attempt
 * landed (the claim is ours, the compare-and-set won). Records carry no owner token, so the comparison is on the
 * whole stored content, which includes the writer's timestamps.
 */

import type { BridgeConfig } from '../config/config';
import { Deadline } from '../deadline';
import { ConfigError, StoreError } from '../errors';
import type { CounterDelta, CounterTotals } from './Counters';
import type { DeliveryRecord } from './DeliveryRecord';
import { type ClaimOutcome, DeliveryStore, isDue, type OutboxSummary } from './DeliveryStore';
import type { KeyState } from './KeyState';
import type { OccurrenceMarker } from './OccurrenceMarker';
import { TablestoreAuxiliaryRows } from './tablestoreAuxiliary';
import { TablestoreCalls, type WriteOutcome, type WriteRow } from './tablestoreCalls';
import {
  type CredentialsSource,
  credentialsFromConfig,
  TablestoreConnection,
  type TablestoreCredentials,
} from './tablestoreClient';
import { toStoreError } from './tablestoreErrors';
import {
  cellsOf,
  condition,
  deleteEntry,
  deleteMainRow,
  entryOf,
  equal,
  long,
  mainKey,
  putEntry,
  putRow,
  recordOf,
  rowError,
  sdk,
} from './tablestoreRequests';
import {
  DUE_SHARDS,
  type DueEntry,
  dueAtOf,
  dueEntryOf,
  dueTableName,
  entryMatches,
  isAuxiliaryRow,
  MAIN_PK,
  recordCells,
  sameCells,
  VERSION_COLUMN,
} from './tablestoreRows';
import type { SdkCondition } from './tablestoreSdk';

/** Unmatched index entries younger than this may belong to a write in flight, so they are kept. */
const DEFAULT_ORPHAN_GRACE_MS = 5 * 60_000;
/** `listDue(limit)` reads up to max(2 × limit, this) due entries, then returns the `limit` oldest-created. */
const DUE_SCAN_MIN = 100;
/** Live entries remembered (so a transition can delete its old entry without reading it first). */
const LIVE_ENTRY_CACHE_MAX = 10_000;
/** Optional cleanup (stale entries) is skipped with less than this left of the budget. */
const CLEANUP_MIN_MS = 50;

interface TablestoreStoreOptions {
  /** `TABLESTORE_ENDPOINT`. */
  endpoint: string;
  /** `TABLESTORE_INSTANCE`. */
  instance: string;
  /** `TABLESTORE_TABLE`: the main table; the due index is `<table>_due`. */
  table: string;
  /** `STORE_TIMEOUT_MS`: the deadline of each store operation, retries included. */
  timeoutMs: number;
  credentials: CredentialsSource;
  /** Injectable clock (tests). @default Date.now */
  now?: () => number;
  /** @default 300000 (5 min) */
  orphanGraceMs?: number;
}

/** One claim in flight: the record, the expired row it may take over, and where its rows sit in the batch. */
interface ClaimSlot {
  record: DeliveryRecord;
  takeover?: DeliveryRecord;
  entry?: DueEntry;
  entryIndex?: number;
  mainIndex: number;
}

class TablestoreStore extends DeliveryStore {
  readonly #connection: TablestoreConnection;
  readonly #calls: TablestoreCalls;
  readonly #auxiliary: TablestoreAuxiliaryRows;
  readonly #table: string;
  readonly #dueTable: string;
  readonly #timeoutMs: number;
  readonly #graceMs: number;
  /** deliveryKey → its live due entry and the main version it belongs to (what a transition deletes). */
  readonly #live = new Map<string, { mainVersion: number; entry: DueEntry }>();
  #credentialsOverride?: TablestoreCredentials;
  #deadline?: { remainingMs(): number };

  public constructor(options: TablestoreStoreOptions) {
    super({ now: options.now });
    this.#table = options.table;
    this.#dueTable = dueTableName(options.table);
    this.#timeoutMs = options.timeoutMs;
    this.#graceMs = options.orphanGraceMs ?? DEFAULT_ORPHAN_GRACE_MS;
    this.#connection = new TablestoreConnection({
      endpoint: options.endpoint,
      instance: options.instance,
      timeoutMs: options.timeoutMs,
      credentials: () => this.#credentialsOverride ?? options.credentials(),
    });
    this.#calls = new TablestoreCalls(this.#connection);
    this.#auxiliary = new TablestoreAuxiliaryRows({
      calls: this.#calls,
      table: this.#table,
      budget: () => this.#budget(),
    });
  }

  /**
   * The store of a loaded configuration: `TABLESTORE_*` and the `ALIBABA_CLOUD_*` credentials (FC sets these for the
   * function's role). Throws `ConfigError` without an endpoint or instance.
   *
   * @example
   * const store = TablestoreStore.fromConfig(loadConfig(process.env));
   * await store.claim([record]);
   */
  public static fromConfig(
    config: Pick<BridgeConfig, 'store' | 'credentials'>,
    options: { now?: () => number } = {},
  ): TablestoreStore {
    const { tablestoreEndpoint: endpoint, tablestoreInstance: instance } = config.store;
    if (!endpoint || !instance)
      throw new ConfigError(['STORE=tablestore needs TABLESTORE_ENDPOINT and TABLESTORE_INSTANCE']);
    return new TablestoreStore({
      endpoint,
      instance,
      table: config.store.tablestoreTable,
      timeoutMs: config.store.timeoutMs,
      credentials: () => credentialsFromConfig(config.credentials),
      now: options.now,
    });
  }

  /**
   * Hook for rotating STS credentials: hand over the FC context's credentials (`credentialsFromContext(context)`) at
   * the start of an invocation; they win over the configured ones, and the client is rebuilt only when they change.
   */
  public override useDeadline(deadline: { remainingMs(): number } | undefined): void {
    this.#deadline = deadline;
  }

  /** One operation's budget, retries included: `STORE_TIMEOUT_MS`, cut to what the caller's deadline leaves. */
  #budget(): Deadline {
    const left = this.#deadline === undefined ? this.#timeoutMs : this.#deadline.remainingMs();
    return new Deadline(Math.max(1, Math.min(this.#timeoutMs, left)));
  }

  public override useCredentials(credentials: TablestoreCredentials | undefined): void {
    this.#credentialsOverride = credentials;
  }

  /** Names of the main table and of its due index. */
  public get tables(): { main: string; due: string } {
    return { main: this.#table, due: this.#dueTable };
  }

  public override async close(): Promise<void> {
    this.#connection.close();
  }

  // ------------------------------------------------------------------------------------------------------------
  // Claims
  // ------------------------------------------------------------------------------------------------------------

  protected async _putIfAbsent(records: readonly DeliveryRecord[]): Promise<ClaimOutcome[]> {
    const budget = this.#budget();
    const now = this.now();
    // One row per key and call (a batch must not name a key twice); later copies are duplicates of the first.
    const unique = new Map<string, DeliveryRecord>();
    for (const record of records) if (!unique.has(record.deliveryKey)) unique.set(record.deliveryKey, record);

    const resolved = new Map<string, ClaimOutcome>();
    const unindexed: ClaimSlot[] = [];
    const cleanup: WriteRow[] = [];
    /** Rows whose own write failed: reported per row, the rest of the call stands (the caller fails open on these). */
    const failed = new Map<string, StoreError>();
    let round: Array<{ record: DeliveryRecord; takeover?: DeliveryRecord }> = [...unique.values()].map((record) => ({
      record,
    }));

    // Round 2+ only for keys whose row vanished or expired between the write and the read.
    for (let attempt = 0; round.length > 0 && attempt < 3; attempt++) {
      const rows: WriteRow[] = [];
      const groups: number[][] = [];
      const slots: ClaimSlot[] = round.map(({ record, takeover }) => {
        const entry = dueEntryOf(record, now);
        const group: number[] = [];
        const slot: ClaimSlot = { record, takeover, entry, mainIndex: -1 };
        if (entry !== undefined) {
          slot.entryIndex = rows.push(putEntry(this.#dueTable, entry)) - 1;
          group.push(slot.entryIndex);
        }
        // A new key: expect-not-exist. An expired row: replace it only as read (version and expiry unchanged).
        const claim = takeover
          ? condition('EXPECT_EXIST', [equal(VERSION_COLUMN, takeover.version), equal('expiresAt', takeover.expiresAt)])
          : condition('EXPECT_NOT_EXIST');
        slot.mainIndex = rows.push(this.#putMain(record, claim)) - 1;
        group.push(slot.mainIndex);
        groups.push(group);
        return slot;
      });
      const outcomes = await this.#calls.write(budget, rows, groups);

      const toRead: ClaimSlot[] = [];
      const claimed = (slot: ClaimSlot) => {
        resolved.set(slot.record.deliveryKey, { claimed: true, record: slot.record });
        const entryOutcome = slot.entryIndex === undefined ? undefined : outcomes[slot.entryIndex];
        if (entryOutcome !== undefined && entryOutcome.status !== 'ok') unindexed.push(slot);
        else this.#remember(slot.record, slot.entry);
        // The expired row's own entry, if it had one elsewhere: stale now (deleted only if still that version's).
        const oldDue = slot.takeover && dueAtOf(slot.takeover);
        if (slot.takeover && oldDue !== undefined && oldDue !== slot.entry?.dueAt) {
          const old = dueEntryOf(slot.takeover, 0) as DueEntry;
          cleanup.push(deleteEntry(this.#dueTable, old, [equal(VERSION_COLUMN, old.version)]));
        }
      };
      for (const slot of slots) {
        const main = outcomes[slot.mainIndex] as WriteOutcome;
        if (main.status === 'ok') claimed(slot);
        else if (main.status === 'condition') toRead.push(slot);
        else failed.set(slot.record.deliveryKey, rowError('claim', main));
      }

      round = [];
      if (toRead.length === 0) continue;
      let existing: Map<string, DeliveryRecord>;
      try {
        existing = await this.#readMain(
          budget,
          toRead.map((slot) => slot.record.deliveryKey),
        );
      } catch (error) {
        // Existing rows that cannot be read: a duplicate or our own landed write, unknown which.
        const unknown = new StoreError('tablestore claim: the existing row could not be read', {
          ambiguous: true,
          cause: error,
        });
        for (const slot of toRead) failed.set(slot.record.deliveryKey, unknown);
        continue;
      }
      for (const slot of toRead) {
        const { record } = slot;
        const found = existing.get(record.deliveryKey);
        const main = outcomes[slot.mainIndex] as WriteOutcome;
        if (found === undefined) {
          round.push({ record }); // gone since (expired and purged): claim it again
        } else if (main.retried && sameCells(found, record)) {
          claimed(slot); // our earlier, ambiguous attempt landed: the claim is ours
        } else if (found.expiresAt <= now) {
          round.push({ record, takeover: found }); // past its window: take it over, as read
        } else {
          resolved.set(record.deliveryKey, { claimed: false, record, existing: found });
          // The entry this claim wrote points at a row that is not ours: delete it unless it is the row's live one.
          if (slot.entry !== undefined && dueAtOf(found) !== slot.entry.dueAt) {
            cleanup.push(deleteEntry(this.#dueTable, slot.entry));
          }
          // An unfinished row is indexed again (idempotent): a claim whose entry never landed is never invisible to
          // the relay for good, since ARMS repeats a firing alert.
          const live = dueEntryOf(found, now);
          if (live !== undefined) cleanup.push(putEntry(this.#dueTable, live));
        }
      }
    }
    for (const { record } of round) {
      failed.set(
        record.deliveryKey,
        new StoreError('tablestore claim: the row kept changing under the claim', { ambiguous: true }),
      );
    }
    if (unindexed.length > 0) {
      for (const [key, error] of await this.#repairClaims(budget, unindexed)) {
        resolved.delete(key);
        failed.set(key, error);
      }
    }
    await this.#cleanup(budget, cleanup);

    return records.map((record) => {
      const failure = failed.get(record.deliveryKey);
      if (failure !== undefined && !resolved.has(record.deliveryKey))
        return { claimed: false, record, failed: failure };
      const outcome = resolved.get(record.deliveryKey) as ClaimOutcome;
      if (outcome.record === record) return outcome;
      // A second copy of a key in one call: a duplicate of whatever the first copy left in the table.
      if (outcome.claimed) return { claimed: false, record, existing: outcome.record };
      return 'failed' in outcome ? { claimed: false, record, failed: outcome.failed } : { ...outcome, record };
    });
  }

  /**
   * Claimed rows whose due entry did not land: re-put the entries; where that fails too, delete the new main row
   * (un-claim) so no due row is left that the relay cannot see. Returns the rows that are not claimed after all, with
   * why (a row neither indexed nor undone stays visible to the next claim of its key, which indexes it again).
   */
  async #repairClaims(budget: Deadline, slots: ClaimSlot[]): Promise<Map<string, StoreError>> {
    const retried = await this.#calls.write(
      budget,
      slots.map((slot) => putEntry(this.#dueTable, slot.entry as DueEntry)),
    );
    const failed = slots.filter((_, index) => retried[index]?.status !== 'ok');
    for (const slot of slots) if (!failed.includes(slot)) this.#remember(slot.record, slot.entry);
    const unclaimed = new Map<string, StoreError>();
    if (failed.length === 0) return unclaimed;
    const undo = await this.#calls.write(
      budget,
      failed.map(({ record }) =>
        deleteMainRow(this.#table, record.deliveryKey, [
          equal(VERSION_COLUMN, record.version),
          equal('updatedAt', record.updatedAt),
        ]),
      ),
    );
    failed.forEach((slot, index) => {
      const stuck = undo[index]?.status === 'failed';
      unclaimed.set(
        slot.record.deliveryKey,
        stuck
          ? new StoreError('tablestore claim: the due-index entry and the undo both failed', { ambiguous: true })
          : new StoreError('tablestore claim: the due-index entry could not be written; the claim was undone'),
      );
    });
    return unclaimed;
  }

  // ------------------------------------------------------------------------------------------------------------
  // Transitions
  // ------------------------------------------------------------------------------------------------------------

  protected async _putIfVersion(record: DeliveryRecord, expectedVersion: number): Promise<boolean> {
    return (await this.#transition([record], [expectedVersion]))[0] as boolean;
  }

  /** All records in a constant number of round trips (index entries, compare-and-sets, old entries). */
  public override async replaceMany(records: readonly DeliveryRecord[]): Promise<boolean[]> {
    return this.#transition(
      records,
      records.map((record) => record.version - 1),
    );
  }

  async #transition(records: readonly DeliveryRecord[], expected: readonly number[]): Promise<boolean[]> {
    if (records.length === 0) return [];
    if (new Set(records.map((record) => record.deliveryKey)).size < records.length) {
      // The same key twice in one batch is invalid: apply in order, one at a time.
      const results: boolean[] = [];
      for (const [index, record] of records.entries()) {
        results.push(...(await this.#transition([record], [expected[index] as number])));
      }
      return results;
    }
    const budget = this.#budget();
    const now = this.now();

    // 1. Index first: the new state's entry exists before the main row says it is due.
    const entries = records.map((record) => dueEntryOf(record, now));
    const toIndex = entries.filter((entry): entry is DueEntry => entry !== undefined);
    if (toIndex.length > 0) {
      const indexed = await this.#calls.write(
        budget,
        toIndex.map((entry) => putEntry(this.#dueTable, entry)),
      );
      const failed = indexed.find((outcome) => outcome.status === 'failed');
      if (failed?.status === 'failed') {
        const cause = toStoreError('replace', failed.failure, false);
        throw new StoreError(`${cause.message} (due index; no delivery row changed)`, { cause });
      }
    }

    // 2. Compare-and-set each main row on the version it was read at.
    const written = await this.#calls.write(
      budget,
      records.map((record, index) =>
        this.#putMain(record, condition('EXPECT_EXIST', [equal(VERSION_COLUMN, expected[index] as number)])),
      ),
    );
    const results = written.map((outcome) => outcome.status === 'ok');
    const toVerify = records.filter((_, index) => written[index]?.status === 'condition' && written[index]?.retried);
    if (toVerify.length > 0) {
      // An ambiguous attempt, then a failed condition: did the first attempt land? Then the row is exactly ours.
      const current = await this.#readMain(
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
    const cleanup: WriteRow[] = [];
    for (const [index, record] of records.entries()) {
      const old = this.#live.get(record.deliveryKey);
      this.#live.delete(record.deliveryKey);
      if (!results[index]) continue;
      if (old !== undefined && old.mainVersion === expected[index] && old.entry.dueAt !== entries[index]?.dueAt) {
        cleanup.push(deleteEntry(this.#dueTable, old.entry));
      }
      this.#remember(record, entries[index]);
    }
    await this.#cleanup(budget, cleanup);
    if (failed?.status === 'failed') throw rowError('replace', failed);
    return results;
  }

  // ------------------------------------------------------------------------------------------------------------
  // Reads
  // ------------------------------------------------------------------------------------------------------------

  protected async _get(deliveryKeys: readonly string[]): Promise<Map<string, DeliveryRecord>> {
    return this.#readMain(this.#budget(), [...new Set(deliveryKeys)]);
  }

  /**
   * Deliveries due now (or within `withinMs`), oldest first, from the due index: O(due entries), whatever the history.
   * Reads up to max(2 × limit, 100) entries with `dueAt <= now + withinMs` (earliest due first), then returns the
   * `limit` oldest-created.
   */
  public override async listDue(limit: number, withinMs = 0): Promise<DeliveryRecord[]> {
    if (limit <= 0) return [];
    const budget = this.#budget();
    const now = this.now();
    const until = now + Math.max(0, withinMs);
    const cap = Math.max(limit * 2, DUE_SCAN_MIN);
    const { INF_MIN } = sdk();
    const shards = await Promise.all(
      Array.from({ length: DUE_SHARDS }, (_, shard) =>
        this.#calls.range(
          budget,
          this.#dueTable,
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
    const mains = await this.#readMain(budget, [...new Set(entries.map((entry) => entry.deliveryKey))]);

    const due = new Map<string, DeliveryRecord>();
    const stale: WriteRow[] = [];
    for (const entry of entries) {
      const found = mains.get(entry.deliveryKey);
      const live = found !== undefined && found.expiresAt > now ? found : undefined;
      if (live !== undefined && entryMatches(entry, live)) {
        if (isDue(live, until)) due.set(live.deliveryKey, live);
        this.#remember(live, entry);
      } else if ((live !== undefined && live.version >= entry.version) || entry.writtenAt <= now - this.#graceMs) {
        // Provably stale: the row moved past the version this entry was written for, or no write is still in flight.
        stale.push(deleteEntry(this.#dueTable, entry));
      }
    }
    await this.#cleanup(budget, stale);
    return [...due.values()].sort((a, b) => a.createdAt - b.createdAt).slice(0, limit);
  }

  /**
   * The waiting deliveries by status and the oldest one's creation time, from the due index: every entry, whatever its
   * due time, checked against its main row. O(backlog), whatever the history (each call gets its own timeout: a
   * backlog after an outage can be large).
   */
  public override async outboxSummary(): Promise<OutboxSummary> {
    const now = this.now();
    const perCall = () => this.#budget();
    const { INF_MIN, INF_MAX } = sdk();
    const shards = await Promise.all(
      Array.from({ length: DUE_SHARDS }, (_, shard) =>
        this.#calls.range(
          perCall,
          this.#dueTable,
          [{ shard: long(shard) }, { dueAt: INF_MIN }, { [MAIN_PK]: INF_MIN }],
          [{ shard: long(shard) }, { dueAt: INF_MAX }, { [MAIN_PK]: INF_MAX }],
          Number.POSITIVE_INFINITY,
        ),
      ),
    );
    const entries = shards.flat().map(entryOf);
    const rows = await this.#calls.get(
      perCall,
      this.#table,
      [...new Set(entries.map((entry) => entry.deliveryKey))].map(mainKey),
    );
    const mains = new Map<string, DeliveryRecord>();
    for (const row of rows) if (row !== undefined) mains.set(String(row.primaryKey?.[0]?.value), recordOf(row));
    const summary: OutboxSummary = { waiting: {} };
    for (const entry of entries) {
      const live = mains.get(entry.deliveryKey);
      if (live === undefined || live.expiresAt <= now || !entryMatches(entry, live)) continue;
      summary.waiting[live.status] = (summary.waiting[live.status] ?? 0) + 1;
      summary.oldestCreatedAt = Math.min(summary.oldestCreatedAt ?? live.createdAt, live.createdAt);
    }
    return summary;
  }

  /** Every row of the main table, paged: O(history). For status counts on small tables and tools, not the relay. */
  protected async _scan(): Promise<DeliveryRecord[]> {
    const { INF_MIN, INF_MAX } = sdk();
    const rows = await this.#calls.range(
      () => this.#budget(), // each page: the scan's length follows the history
      this.#table,
      [{ [MAIN_PK]: INF_MIN }],
      [{ [MAIN_PK]: INF_MAX }],
      Number.POSITIVE_INFINITY,
    );
    return rows.filter((row) => !isAuxiliaryRow(cellsOf(row))).map(recordOf);
  }

  async #readMain(budget: Deadline, keys: readonly string[]): Promise<Map<string, DeliveryRecord>> {
    const rows = await this.#calls.get(budget, this.#table, keys.map(mainKey));
    const found = new Map<string, DeliveryRecord>();
    for (const row of rows) {
      if (row === undefined) continue;
      const record = recordOf(row);
      found.set(record.deliveryKey, record);
    }
    return found;
  }

  // ------------------------------------------------------------------------------------------------------------
  // Occurrence markers, key states and health counters (`tablestoreAuxiliary.ts`)
  // ------------------------------------------------------------------------------------------------------------

  protected async _getMarkers(dedupKeys: readonly string[]): Promise<Map<string, OccurrenceMarker>> {
    return this.#auxiliary.getMarkers(dedupKeys);
  }

  protected async _putMarkers(markers: readonly OccurrenceMarker[]): Promise<boolean[]> {
    return this.#auxiliary.putMarkers(markers, this.now());
  }

  protected async _getKeyStates(keyIds: readonly string[]): Promise<Map<string, KeyState>> {
    return this.#auxiliary.getKeyStates(keyIds);
  }

  protected async _putKeyStates(states: readonly KeyState[]): Promise<boolean[]> {
    return this.#auxiliary.putKeyStates(states, this.now());
  }

  protected async _addCounters(
    updates: readonly { bucket: number; delta: CounterDelta }[],
    expiresAt: number,
  ): Promise<void> {
    return this.#auxiliary.addCounters(updates, expiresAt);
  }

  protected async _readCounters(buckets: readonly number[]): Promise<CounterTotals[]> {
    return this.#auxiliary.readCounters(buckets);
  }

  // ------------------------------------------------------------------------------------------------------------
  // Rows
  // ------------------------------------------------------------------------------------------------------------

  #putMain(record: DeliveryRecord, rowCondition: SdkCondition): WriteRow {
    return putRow(this.#table, record.deliveryKey, recordCells(record), rowCondition);
  }

  /** Best-effort deletes of stale entries: failures leave them to `listDue`, never fail the operation. */
  async #cleanup(budget: Deadline, rows: readonly WriteRow[]): Promise<void> {
    if (rows.length === 0 || budget.remainingMs() < CLEANUP_MIN_MS) return;
    try {
      await this.#calls.write(budget, rows);
    } catch {
      // stale entries are found and deleted again by listDue
    }
  }

  #remember(record: DeliveryRecord, entry: DueEntry | undefined): void {
    this.#live.delete(record.deliveryKey);
    if (entry === undefined) return;
    this.#live.set(record.deliveryKey, { mainVersion: record.version, entry });
    if (this.#live.size > LIVE_ENTRY_CACHE_MAX) {
      const oldest = this.#live.keys().next().value;
      if (oldest !== undefined) this.#live.delete(oldest);
    }
  }
}

export type { TablestoreStoreOptions };
export { TablestoreStore };
