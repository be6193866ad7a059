import type { DeliveryStatus } from '../constants';
import type { StoreError } from '../errors';
import type { CloudCredentials } from '../fc/credentials';
import {
  bucketOf,
  bucketsBetween,
  type CounterDelta,
  type CounterTotals,
  LATEST_BUCKET,
  mergeCounters,
} from './Counters';
import type { DeliveryRecord } from './DeliveryRecord';
import { assertKeyId, type KeyState } from './KeyState';
import type { OccurrenceMarker } from './OccurrenceMarker';

/** The result of claiming one delivery. */
type ClaimOutcome =
  | { claimed: true; record: DeliveryRecord }
  /** The delivery key exists: a duplicate, or (past its window or lease) something the caller may take over. */
  | { claimed: false; record: DeliveryRecord; existing: DeliveryRecord }
  /**
   * This row's write failed (the others of the call stand on their own): the caller sends it straight to PagerDuty
   * (fail open). `failed.ambiguous` when it may have landed anyway (the relay may then send it too; PagerDuty dedupes).
   */
  | { claimed: false; record: DeliveryRecord; failed: StoreError };

/** What `claimWithMarkers` answers. */
interface ClaimedWith {
  claims: ClaimOutcome[];
  markers: boolean[];
  keyStates: boolean[];
  markersError?: unknown;
  keyStatesError?: unknown;
}

/** What `getWithMarkers` answers: the live rows found, by delivery key, dedup key and key id. */
interface ReadWith {
  records: Map<string, DeliveryRecord>;
  markers: Map<string, OccurrenceMarker>;
  keyStates: Map<string, KeyState>;
}

/** What `outboxSummary` reports. */
interface OutboxSummary {
  waiting: Partial<Record<DeliveryStatus, number>>;
  /** Epoch ms; undefined when nothing waits. */
  oldestCreatedAt?: number;
}

/** Writes rows that ride beside another write: per row whether it was written, all false and the error on a failure. */
async function settleRows<T>(
  rows: readonly T[],
  put: (rows: readonly T[]) => Promise<boolean[]>,
): Promise<{ written: boolean[]; error?: unknown }> {
  if (rows.length === 0) return { written: [] };
  try {
    return { written: await put(rows) };
  } catch (error) {
    return { written: rows.map(() => false), error };
  }
}

abstract class DeliveryStore {
  /** Injectable clock (tests). */
  protected readonly now: () => number;

  public constructor(options: { now?: () => number } = {}) {
    this.now = options.now ?? Date.now;
  }

  /**
   * Creates each record unless its key exists (conditional put, expect-not-exist). Rows of one call are independent:
   * one existing key does not stop the others.
   */
  public async claim(records: readonly DeliveryRecord[]): Promise<ClaimOutcome[]> {
    return this._putIfAbsent(records);
  }

  /**
   * `claim`, with `putMarkers` and `putKeyStates` beside it, in one write where the store can (Tablestore: one
   * BatchWriteRow): the webhook's claim, the occurrence markers its deliveries advance, and the sends it takes from its
   * keys' budgets (`KeyGate.prepare`). Each row stands alone: `markers` and `keyStates` answer per row as `putMarkers`
   * and `putKeyStates` do, and a write of theirs that failed comes back as `markersError` / `keyStatesError` (its rows
   * false), never failing a claim. Throws like `claim` (the other rows then may or may not have been written).
   */
  public async claimWithMarkers(
    records: readonly DeliveryRecord[],
    markers: readonly OccurrenceMarker[],
    keyStates: readonly KeyState[] = [],
  ): Promise<ClaimedWith> {
    for (const state of keyStates) assertKeyId(state.keyId);
    const riding = markers.length + keyStates.length > 0;
    if (records.length > 0 && riding && this._claimWithMarkers) {
      return this._claimWithMarkers(records, markers, keyStates);
    }
    // No round trip to save: the writes, through the public ones (so a subclass wrapping them sees each); the rows
    // beside the claim after it, as in one batch they may land in any order.
    const claims = records.length > 0 ? await this.claim(records) : [];
    const [marked, keyed] = await Promise.all([
      settleRows(markers, (rows) => this.putMarkers(rows)),
      settleRows(keyStates, (rows) => this.putKeyStates(rows)),
    ]);
    const result: ClaimedWith = { claims, markers: marked.written, keyStates: keyed.written };
    if ('error' in marked) result.markersError = marked.error;
    if ('error' in keyed) result.keyStatesError = keyed.error;
    return result;
  }

  /** Replaces a record if its stored version is still `record.version - 1`; returns false on a lost race. */
  public async replace(record: DeliveryRecord): Promise<boolean> {
    return (await this._putIfVersion([record], [record.version - 1]))[0] as boolean;
  }

  /**
   * Replaces several records, each on its own condition (a lost race on one does not stop the others), in a constant
   * number of store round trips whatever the count.
   */
  public async replaceMany(records: readonly DeliveryRecord[]): Promise<boolean[]> {
    if (records.length === 0) return [];
    return this._putIfVersion(
      records,
      records.map((record) => record.version - 1),
    );
  }

  /**
   * `replaceMany`, then `addCounters`, in one write where the store can (Tablestore: one BatchWriteRow): the webhook's
   * last outcomes and its activity counters. The parts stand alone: `written` is `replaceMany`'s answer, and a
   * counters failure comes back as `countersError` (never retried, like `addCounters`'). When it throws (the records'
   * write failed), the counters may have been written or not: the caller does not write them again (a statistic may
   * be lost, never doubled).
   */
  public async replaceManyCounting(
    records: readonly DeliveryRecord[],
    delta: CounterDelta,
    ttlSeconds: number,
  ): Promise<{ written: boolean[]; countersError?: unknown }> {
    if (records.length > 0 && this._replaceManyCounting) return this._replaceManyCounting(records, delta, ttlSeconds);
    // No round trip to save: the two writes, through the public ones (so a subclass wrapping them sees both).
    const written = await this.replaceMany(records);
    try {
      await this.addCounters(delta, ttlSeconds);
      return { written };
    } catch (countersError) {
      return { written, countersError };
    }
  }

  /** The live (unexpired) records with these keys. */
  public async get(deliveryKeys: readonly string[]): Promise<Map<string, DeliveryRecord>> {
    const now = this.now();
    const found = await this._get(deliveryKeys);
    for (const [key, record] of found) if (record.expiresAt <= now) found.delete(key);
    return found;
  }

  /**
   * Deliveries due now, oldest first: PENDING/RETRY whose time has come, SENDING whose lease expired. With `withinMs`,
   * also those due within that much time (the relay waits for a resolve due again in a second or two).
   */
  public async listDue(limit: number, withinMs = 0): Promise<DeliveryRecord[]> {
    if (limit <= 0) return [];
    const now = this.now();
    return this._listDue(limit, now, now + Math.max(0, withinMs));
  }

  /**
   * The deliveries still waiting (PENDING, RETRY, SENDING) by status, and when the oldest was created: what the health
   * report needs from the outbox.
   */
  public async outboxSummary(): Promise<OutboxSummary> {
    return this._outboxSummary();
  }

  /** Every live record, O(history): status reports, tools and tests, never the relay. */
  public async list(): Promise<DeliveryRecord[]> {
    const now = this.now();
    return (await this._scan()).filter((record) => record.expiresAt > now);
  }

  /**
   * `get`, `getMarkers` and `getKeyStates` in one read where the store can (Tablestore: one BatchGetRow, all live in
   * the main table): the webhook reads a callback's counterparts, its identities' markers and its keys' states before
   * judging, one round trip for all.
   */
  public async getWithMarkers(
    deliveryKeys: readonly string[],
    dedupKeys: readonly string[],
    keyIds: readonly string[] = [],
  ): Promise<ReadWith> {
    const keys = [...new Set(keyIds)];
    for (const keyId of keys) assertKeyId(keyId);
    if (!this._getWithMarkers) {
      // No round trip to save: the reads, through the public ones (so a subclass wrapping them sees each).
      const [records, markers, keyStates] = await Promise.all([
        this.get(deliveryKeys),
        dedupKeys.length === 0 ? new Map<string, OccurrenceMarker>() : this.getMarkers(dedupKeys),
        keys.length === 0 ? new Map<string, KeyState>() : this.getKeyStates(keys),
      ]);
      return { records, markers, keyStates };
    }
    const now = this.now();
    const found = await this._getWithMarkers([...new Set(deliveryKeys)], [...new Set(dedupKeys)], keys);
    for (const rows of [found.records, found.markers, found.keyStates]) {
      for (const [key, row] of rows) if (row.expiresAt <= now) rows.delete(key);
    }
    return found;
  }

  /** The live occurrence markers of these dedup keys (see `OccurrenceMarker.ts`), keyed by dedup key. */
  public async getMarkers(dedupKeys: readonly string[]): Promise<Map<string, OccurrenceMarker>> {
    const now = this.now();
    const found = await this._getMarkers([...new Set(dedupKeys)]);
    for (const [key, marker] of found) if (marker.expiresAt <= now) found.delete(key);
    return found;
  }

  /**
   * Writes markers, each conditionally: a marker with `version` 1 only if none exists (or it expired), a later
   * version only over `version - 1`. Returns, per marker, whether it was written (false: someone moved it first).
   */
  public async putMarkers(markers: readonly OccurrenceMarker[]): Promise<boolean[]> {
    return this._putMarkers(markers);
  }

  /** The live (unexpired) key states of these key ids (see `KeyState.ts`), keyed by key id. */
  public async getKeyStates(keyIds: readonly string[]): Promise<Map<string, KeyState>> {
    const unique = [...new Set(keyIds)];
    for (const keyId of unique) assertKeyId(keyId);
    const now = this.now();
    const found = await this._getKeyStates(unique);
    for (const [keyId, state] of found) if (state.expiresAt <= now) found.delete(keyId);
    return found;
  }

  /**
   * Writes key states, each conditionally, like `putMarkers`: version 1 only if none exists (or it expired), a later
   * version only over `version - 1`. Returns, per state, whether it was written (false: someone moved it first); one
   * lost race does not stop the others.
   */
  public async putKeyStates(states: readonly KeyState[]): Promise<boolean[]> {
    for (const state of states) assertKeyId(state.keyId);
    return this._putKeyStates(states);
  }

  /**
   * Adds activity counts to the current minute's bucket and the latest times to the all-time bucket, in one write
   * (see `Counters.ts`).
   */
  public async addCounters(delta: CounterDelta, ttlSeconds: number): Promise<void> {
    const { updates, expiresAt } = this.counterUpdates(delta, ttlSeconds);
    if (updates.length > 0) await this._addCounters(updates, expiresAt);
  }

  /** The bucket updates of `delta`: its counts to the current minute's bucket, its latest times to the all-time one. */
  protected counterUpdates(
    delta: CounterDelta,
    ttlSeconds: number,
  ): { updates: { bucket: number; delta: CounterDelta }[]; expiresAt: number } {
    const updates: { bucket: number; delta: CounterDelta }[] = [];
    const now = this.now();
    if (Object.keys(delta.counts ?? {}).length > 0)
      updates.push({ bucket: bucketOf(now), delta: { counts: delta.counts } });
    if (Object.keys(delta.latest ?? {}).length > 0)
      updates.push({ bucket: LATEST_BUCKET, delta: { latest: delta.latest } });
    return { updates, expiresAt: now + ttlSeconds * 1000 };
  }

  /** The counts of every bucket from `since` to now, and the latest times (all time, within the TTL). */
  public async readCounters(since: number): Promise<CounterTotals> {
    const buckets = await this._readCounters([LATEST_BUCKET, ...bucketsBetween(since, this.now())]);
    const totals: CounterTotals = { counts: {}, latest: {} };
    for (const bucket of buckets) mergeCounters(totals, bucket);
    return totals;
  }

  /**
   * Hands over the FC context's credentials at the start of an invocation (STS credentials rotate; FC passes the
   * current ones in `context.credentials`). Only stores that call Alibaba Cloud use them.
   */
  public useCredentials(credentials: CloudCredentials | undefined): void {
    this._useCredentials?.(credentials);
  }

  /**
   * Bounds every store call from now on by what `deadline` leaves (`min(STORE_TIMEOUT_MS, deadline.remainingMs())`),
   * until cleared with undefined: the webhook's answer stays inside ARMS's 5 s however slow the store is. Per
   * invocation, like the credentials (an FC instance runs one invocation at a time unless `instanceConcurrency` says
   * otherwise; `s.yaml` keeps the default, 1). Only stores with network calls use it.
   */
  public useDeadline(deadline: { remainingMs(): number } | undefined): void {
    this._useDeadline?.(deadline);
  }

  /**
   * Waits for the best-effort writes still in flight: the deletes of stale index entries a transition leaves running
   * beside its caller's next step (Tablestore: `dueIndex.ts`). Never throws. Each function awaits it before it answers
   * (`shared/middleware/settleStore.ts`): FC may freeze an instance once it has answered.
   */
  public async settle(): Promise<void> {
    await this._settle?.();
  }

  /** Releases what the store holds open (sockets), after `settle`; the store stays usable. */
  public async close(): Promise<void> {
    await this.settle();
    await this._close?.();
  }

  protected abstract _putIfAbsent(records: readonly DeliveryRecord[]): Promise<ClaimOutcome[]>;
  /**
   * `claimWithMarkers` with records and at least one marker or key state (see there), in one write; without it the
   * base makes the calls one after another.
   */
  protected _claimWithMarkers?(
    records: readonly DeliveryRecord[],
    markers: readonly OccurrenceMarker[],
    keyStates: readonly KeyState[],
  ): Promise<ClaimedWith>;
  /** Each record over its stored version `expected[i]`, independently, in order (a key twice: second over first). */
  protected abstract _putIfVersion(records: readonly DeliveryRecord[], expected: readonly number[]): Promise<boolean[]>;
  protected abstract _get(deliveryKeys: readonly string[]): Promise<Map<string, DeliveryRecord>>;
  /** The live records due by `until` (epoch ms), oldest-created first, at most `limit` (≥ 1). */
  protected abstract _listDue(limit: number, now: number, until: number): Promise<DeliveryRecord[]>;
  protected abstract _outboxSummary(): Promise<OutboxSummary>;
  /** Every record, expired ones included (the base drops them). */
  protected abstract _scan(): Promise<DeliveryRecord[]>;
  protected abstract _getMarkers(dedupKeys: readonly string[]): Promise<Map<string, OccurrenceMarker>>;
  /**
   * The three reads in one, expired rows included (the base drops them); keys already unique and checked. Without it
   * the base makes the calls.
   */
  protected _getWithMarkers?(
    deliveryKeys: readonly string[],
    dedupKeys: readonly string[],
    keyIds: readonly string[],
  ): Promise<ReadWith>;
  protected abstract _putMarkers(markers: readonly OccurrenceMarker[]): Promise<boolean[]>;
  protected abstract _getKeyStates(keyIds: readonly string[]): Promise<Map<string, KeyState>>;
  /** Each state on `followsVersion`, in order (the same key twice in one call: the second over the first). */
  protected abstract _putKeyStates(states: readonly KeyState[]): Promise<boolean[]>;
  /** Adds to each bucket atomically (sums counts, keeps the larger latest values), creating it if needed. */
  protected abstract _addCounters(
    updates: readonly { bucket: number; delta: CounterDelta }[],
    expiresAt: number,
  ): Promise<void>;
  /**
   * `replaceManyCounting`: the records each over `version - 1`, the counters beside them, in one write (see there).
   * Without it the base makes the two calls.
   */
  protected _replaceManyCounting?(
    records: readonly DeliveryRecord[],
    delta: CounterDelta,
    ttlSeconds: number,
  ): Promise<{ written: boolean[]; countersError?: unknown }>;
  protected abstract _readCounters(buckets: readonly number[]): Promise<CounterTotals[]>;

  // Hooks of the stores that call Alibaba Cloud (the others leave them out).
  protected _useCredentials?(credentials: CloudCredentials | undefined): void;
  protected _useDeadline?(deadline: { remainingMs(): number } | undefined): void;
  protected _settle?(): Promise<void>;
  protected _close?(): Promise<void>;
}

export type { ClaimedWith, ClaimOutcome, OutboxSummary, ReadWith };
export { DeliveryStore };
