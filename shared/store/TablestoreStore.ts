/**
 * The deployed store (STORE=tablestore): the thin mapping of the `DeliveryStore` port onto Tablestore. The parts live
 * in `tablestore/`: the SDK seam and connection (`sdk.ts`, `connection.ts`), bounded batch and range calls with retries
 * (`calls.ts`), the row codec (`rowCodec.ts`), the due index the relay reads (`dueIndex.ts`, the write protocol drawn
 * there), claims and their repair (`claims.ts`), markers and counters (`markersAndCounters.ts`) and errors
 * (`errors.ts`).
 *
 * Every operation is bounded by `STORE_TIMEOUT_MS` (our timer, not the SDK's idle timeout), SDK retries are off and
 * `calls.ts` retries failed rows itself. Ambiguous writes (timeouts, resets, 5xx) are retried: a conditional write
 * that then fails its condition reads the row back, and finding exactly the cells it wrote means its earlier attempt
 * landed (the claim is ours, the compare-and-set won).
 */

import type { BridgeConfig } from '../config/config';
import { Deadline } from '../deadline';
import { type CloudCredentials, credentialsFromConfig } from '../fc/credentials';
import type { CounterDelta, CounterTotals } from './Counters';
import type { DeliveryRecord } from './DeliveryRecord';
import { type ClaimedWith, type ClaimOutcome, DeliveryStore, type OutboxSummary, type ReadWith } from './DeliveryStore';
import type { KeyState } from './KeyState';
import type { OccurrenceMarker } from './OccurrenceMarker';
import { TablestoreCalls, type WriteOutcome } from './tablestore/calls';
import { Claims } from './tablestore/claims';
import { type SdkClientSource, TablestoreConnection, type TablestoreConnectionOptions } from './tablestore/connection';
import { DueIndex } from './tablestore/dueIndex';
import { MarkersAndCounters } from './tablestore/markersAndCounters';
import { DeliveryTables } from './tablestore/tables';

interface TablestoreStoreOptions {
  /** Where the SDK calls go: a `TablestoreConnection` (what `connect` and `fromConfig` build), or a test's client. */
  client: SdkClientSource;
  /** `TABLESTORE_TABLE`: the main table; the due index is `<table>_due`. */
  table: string;
  /** `STORE_TIMEOUT_MS`: the deadline of each store operation, retries included. */
  timeoutMs: number;
  /** Injectable clock (tests). @default Date.now */
  now?: () => number;
  /** Unmatched due entries younger than this may belong to a write in flight. @default 300000 (5 min) */
  orphanGraceMs?: number;
}

/** A store over a connection of its own: the endpoint, instance and configured credentials of the SDK client. */
type TablestoreConnectOptions = Omit<TablestoreStoreOptions, 'client'> & Omit<TablestoreConnectionOptions, 'timeoutMs'>;

class TablestoreStore extends DeliveryStore {
  readonly #client: SdkClientSource;
  readonly #tables: DeliveryTables;
  readonly #timeoutMs: number;
  readonly #dueIndex: DueIndex;
  readonly #claims: Claims;
  readonly #markersAndCounters: MarkersAndCounters;
  #deadline?: { remainingMs(): number };

  public constructor(options: TablestoreStoreOptions) {
    super({ now: options.now });
    this.#timeoutMs = options.timeoutMs;
    this.#client = options.client;
    this.#tables = new DeliveryTables(new TablestoreCalls(options.client), options.table);
    const parts = { tables: this.#tables, budget: () => this.#budget(), now: this.now };
    this.#dueIndex = new DueIndex({ ...parts, orphanGraceMs: options.orphanGraceMs });
    this.#claims = new Claims({ ...parts, dueIndex: this.#dueIndex });
    this.#markersAndCounters = new MarkersAndCounters({
      calls: this.#tables.calls,
      table: this.#tables.main,
      budget: parts.budget,
    });
  }

  /**
   * A store over its own connection (keep-alive sockets, SDK retries off, the client rebuilt when credentials change).
   *
   * @example
   * const store = TablestoreStore.connect({ endpoint, instance, credentials, table, timeoutMs: 2000 });
   */
  public static connect(options: TablestoreConnectOptions): TablestoreStore {
    const { endpoint, instance, credentials, ...store } = options;
    const client = new TablestoreConnection({ endpoint, instance, credentials, timeoutMs: store.timeoutMs });
    return new TablestoreStore({ ...store, client });
  }

  /**
   * The store of a loaded configuration: `TABLESTORE_*` and the `ALIBABA_CLOUD_*` credentials (FC sets these for the
   * function's role). `loadConfig` guarantees the endpoint and instance (the STORE=tablestore rule, in
   * `shared/config/rules.ts`): a config without them never passed it, a programming error.
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
    if (endpoint === undefined || instance === undefined) {
      throw new TypeError(
        'TablestoreStore.fromConfig needs a config loadConfig checked: STORE=tablestore rule, shared/config/rules.ts',
      );
    }
    return TablestoreStore.connect({
      endpoint,
      instance,
      table: config.store.tablestoreTable,
      timeoutMs: config.store.timeoutMs,
      credentials: () => credentialsFromConfig(config.credentials),
      now: options.now,
    });
  }

  /** Names of the main table and of its due index. */
  public get tables(): { main: string; due: string } {
    return { main: this.#tables.main, due: this.#tables.due };
  }

  protected override _useDeadline(deadline: { remainingMs(): number } | undefined): void {
    this.#deadline = deadline;
  }

  /**
   * Hook for rotating STS credentials: hand over the FC context's credentials (`credentialsFromContext(context)`,
   * `shared/fc/credentials.ts`) at the start of an invocation; they win over the configured ones, and the client is rebuilt only when they change.
   */
  protected override _useCredentials(credentials: CloudCredentials | undefined): void {
    this.#client.useCredentials(credentials);
  }

  protected override async _settle(): Promise<void> {
    await this.#dueIndex.settle();
  }

  protected override async _close(): Promise<void> {
    this.#client.close();
  }
  /** One operation's budget, retries included: `STORE_TIMEOUT_MS`, cut to what the caller's deadline leaves. */
  #budget(): Deadline {
    const left = this.#deadline === undefined ? this.#timeoutMs : this.#deadline.remainingMs();
    return new Deadline(Math.max(1, Math.min(this.#timeoutMs, left)));
  }

  // Deliveries: claims (`claims.ts`), transitions and due reads (`dueIndex.ts`), reads by key and the full scan.

  protected async _putIfAbsent(records: readonly DeliveryRecord[]): Promise<ClaimOutcome[]> {
    return this.#claims.claim(records);
  }

  /** The markers' and key states' first attempts ride in the claim's first BatchWriteRow (`claims.ts`), each row alone. */
  protected override async _claimWithMarkers(
    records: readonly DeliveryRecord[],
    markers: readonly OccurrenceMarker[],
    keyStates: readonly KeyState[],
  ): Promise<ClaimedWith> {
    const now = this.now();
    const marking = this.#markersAndCounters.markerRows(markers, now);
    const keying = this.#markersAndCounters.keyStateRows(keyStates, now);
    const result: ClaimedWith = {
      claims: [],
      markers: markers.map(() => false),
      keyStates: keyStates.map(() => false),
    };
    const riders = {
      rows: [...marking.rows, ...keying.rows],
      settle: async (outcomes: readonly WriteOutcome[]) => {
        const [markerOutcomes, keyOutcomes] = [
          outcomes.slice(0, marking.rows.length),
          outcomes.slice(marking.rows.length),
        ];
        await Promise.all([
          marking.settle(markerOutcomes).then(
            (written) => {
              result.markers = written;
            },
            (markersError: unknown) => {
              result.markersError = markersError;
            },
          ),
          keying.settle(keyOutcomes).then(
            (written) => {
              result.keyStates = written;
            },
            (keyStatesError: unknown) => {
              result.keyStatesError = keyStatesError;
            },
          ),
        ]);
      },
    };
    result.claims = await this.#claims.claim(records, riders);
    return result;
  }

  /** All records in a constant number of round trips (index entries, compare-and-sets, old entries). */
  protected async _putIfVersion(records: readonly DeliveryRecord[], expected: readonly number[]): Promise<boolean[]> {
    return this.#dueIndex.transition(records, expected);
  }

  /** The counters ride in the compare-and-set batch of the records' transition: one BatchWriteRow for both. */
  protected override async _replaceManyCounting(
    records: readonly DeliveryRecord[],
    delta: CounterDelta,
    ttlSeconds: number,
  ): Promise<{ written: boolean[]; countersError?: unknown }> {
    const { updates, expiresAt } = this.counterUpdates(delta, ttlSeconds);
    const counters = this.#markersAndCounters.counterRows(updates, expiresAt);
    let countersError: unknown;
    const riders = {
      rows: counters.rows,
      // Increments are not idempotent: an ambiguous failure is not retried (a count may be lost, never doubled).
      retryAmbiguous: false,
      settle: (outcomes: readonly WriteOutcome[]) =>
        counters.settle(outcomes).catch((error: unknown) => {
          countersError = error;
        }),
    };
    const expected = records.map((record) => record.version - 1);
    const written = await this.#dueIndex.transition(records, expected, riders);
    return countersError === undefined ? { written } : { written, countersError };
  }

  protected async _get(deliveryKeys: readonly string[]): Promise<Map<string, DeliveryRecord>> {
    return this.#tables.readRecords(this.#budget(), [...new Set(deliveryKeys)]);
  }

  /** From the due index: O(due entries), whatever the history. */
  protected async _listDue(limit: number, now: number, until: number): Promise<DeliveryRecord[]> {
    return this.#dueIndex.listDue(limit, now, until);
  }

  /** From the due index: O(backlog), whatever the history. */
  protected async _outboxSummary(): Promise<OutboxSummary> {
    return this.#dueIndex.summary();
  }

  /** Every row of the main table, paged: O(history). For status counts on small tables and tools, not the relay. */
  protected async _scan(): Promise<DeliveryRecord[]> {
    return this.#tables.scanRecords(() => this.#budget());
  }

  // Occurrence markers, key states and health counters (`markersAndCounters.ts`).

  protected async _getMarkers(dedupKeys: readonly string[]): Promise<Map<string, OccurrenceMarker>> {
    return this.#markersAndCounters.getMarkers(dedupKeys);
  }

  /** One BatchGetRow of the main table for all three (up to `BATCH_GET_MAX_ROWS` rows per request). */
  protected override async _getWithMarkers(
    deliveryKeys: readonly string[],
    dedupKeys: readonly string[],
    keyIds: readonly string[],
  ): Promise<ReadWith> {
    return this.#markersAndCounters.getWithMarkers(deliveryKeys, dedupKeys, keyIds);
  }

  protected async _putMarkers(markers: readonly OccurrenceMarker[]): Promise<boolean[]> {
    return this.#markersAndCounters.putMarkers(markers, this.now());
  }

  protected async _getKeyStates(keyIds: readonly string[]): Promise<Map<string, KeyState>> {
    return this.#markersAndCounters.getKeyStates(keyIds);
  }

  protected async _putKeyStates(states: readonly KeyState[]): Promise<boolean[]> {
    return this.#markersAndCounters.putKeyStates(states, this.now());
  }

  protected async _addCounters(
    updates: readonly { bucket: number; delta: CounterDelta }[],
    expiresAt: number,
  ): Promise<void> {
    return this.#markersAndCounters.addCounters(updates, expiresAt);
  }

  protected async _readCounters(buckets: readonly number[]): Promise<CounterTotals[]> {
    return this.#markersAndCounters.readCounters(buckets);
  }
}

export type { TablestoreConnectOptions, TablestoreStoreOptions };
export { TablestoreStore };
