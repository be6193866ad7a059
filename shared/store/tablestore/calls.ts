/**
 * The Tablestore calls the delivery store makes, each bounded by the operation's budget and retried here (the SDK's
 * retries are off, `connection.ts`): batch writes in chunks of at most `BATCH_WRITE_MAX_ROWS` rows and
 * `BATCH_WRITE_MAX_BYTES` (a delivery row carries its event, up to `EVENT_MAX_BYTES`), with every row's `isOk` checked
 * and only failed rows retried; batch reads in chunks of `BATCH_GET_MAX_ROWS`; and paged ranges.
 */
import { mapLimited, sleep } from '../../async';
import { BATCH_GET_MAX_ROWS, BATCH_WRITE_MAX_BYTES, BATCH_WRITE_MAX_ROWS } from '../../constants';
import type { Deadline } from '../../deadline';
import { StoreError } from '../../errors';
import { type SdkClientSource, withDeadline } from './connection';
import { DEADLINE_EXCEEDED, fromBatchRow, fromCallError, type OtsFailure, toStoreError } from './errors';
import type { SdkBatchWriteRow, SdkClient, SdkPrimaryKey, SdkRow } from './sdk';

/** Attempts per row (the first and two retries), all inside the operation's budget. */
const MAX_ATTEMPTS = 3;
/** Below this many milliseconds left, no new attempt starts: it could not finish. */
const MIN_ATTEMPT_MS = 25;
/** Optional writes (`tidy`) are skipped with less than this left of the budget. */
const TIDY_MIN_MS = 50;
/** Calls of one operation in flight at once (the connection keeps 16 sockets). */
const MAX_PARALLEL_CALLS = 8;

/** One row of a batch write, addressed to a table. */
interface WriteRow {
  tableName: string;
  row: SdkBatchWriteRow;
}

/** A row's final outcome. `retried`: an earlier attempt of this row may have landed (resolve by reading). */
type WriteOutcome =
  | { status: 'ok'; retried: boolean }
  | { status: 'condition'; retried: boolean }
  | { status: 'failed'; failure: OtsFailure; retried: boolean };

/** Bytes a cell costs in a request beyond its name and value (the wire format's tags, lengths and checksums). */
const CELL_OVERHEAD_BYTES = 16;

/** A generous estimate of the bytes a value takes in a request: names and values, plus an overhead per cell. */
function sizeOf(value: unknown): number {
  if (typeof value === 'string') return Buffer.byteLength(value);
  if (Buffer.isBuffer(value)) return value.length;
  if (Array.isArray(value)) return value.reduce<number>((sum, item) => sum + sizeOf(item), 0);
  if (value !== null && typeof value === 'object' && typeof (value as { toNumber?: unknown }).toNumber !== 'function') {
    let sum = 0;
    for (const [name, item] of Object.entries(value))
      sum += Buffer.byteLength(name) + sizeOf(item) + CELL_OVERHEAD_BYTES;
    return sum;
  }
  return 8; // an integer (`Long`), a number or a boolean
}

/** A write row's estimated size in a request: its primary key and columns (conditions are small and bounded). */
function rowBytes(row: WriteRow): number {
  return Buffer.byteLength(row.tableName) + sizeOf(row.row.primaryKey) + sizeOf(row.row.attributeColumns ?? []);
}

/**
 * Splits groups of row indexes into chunks of at most `maxRows` rows and `maxBytes` (by `bytes` per row), never
 * splitting a group; a group larger than a chunk is a chunk of its own (the store refuses it, and says why).
 */
function chunkGroups(
  groups: readonly number[][],
  maxRows: number,
  bytes: (index: number) => number = () => 0,
  maxBytes = Number.POSITIVE_INFINITY,
): number[][] {
  const chunks: number[][] = [];
  let current: number[] = [];
  let currentBytes = 0;
  for (const group of groups) {
    const groupBytes = group.reduce((sum, index) => sum + bytes(index), 0);
    if (current.length > 0 && (current.length + group.length > maxRows || currentBytes + groupBytes > maxBytes)) {
      chunks.push(current);
      current = [];
      currentBytes = 0;
    }
    current.push(...group);
    currentBytes += groupBytes;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/** The `StoreError` of a row that failed for good; ambiguous when any attempt may have landed. */
function rowError(operation: string, outcome: Extract<WriteOutcome, { status: 'failed' }>): StoreError {
  const failure = { ...outcome.failure, mayHaveLanded: outcome.failure.mayHaveLanded || outcome.retried };
  return toStoreError(operation, failure, true);
}

function deadlineFailure(): OtsFailure {
  return fromCallError(Object.assign(new Error('store operation deadline reached'), { code: DEADLINE_EXCEEDED }));
}

class TablestoreCalls {
  readonly #source: SdkClientSource;

  public constructor(source: SdkClientSource) {
    this.#source = source;
  }

  /** One SDK call with what is left of the budget. A `StoreError` (no credentials) passes through unchanged. */
  async #call<T>(budget: Deadline, run: (client: SdkClient) => Promise<T>): Promise<T> {
    const ms = budget.remainingMs();
    if (ms <= 0) throw Object.assign(new Error('store operation deadline reached'), { code: DEADLINE_EXCEEDED });
    return withDeadline(run(this.#source.client()), ms);
  }

  /**
   * Writes `rows` with BatchWriteRow (several tables per request allowed), `groups` of row indexes kept in one request
   * (e.g. a main row and its due-index entry). Failed rows are retried while their failure is retryable and the budget
   * lasts (ambiguous ones only with `retryAmbiguous`, default true, or per row index: every write that is not
   * idempotent is conditional, except counter increments); the outcome of each row is returned, never thrown (except
   * a `StoreError` from the connection).
   */
  public async write(
    budget: Deadline,
    rows: readonly WriteRow[],
    groups?: readonly number[][],
    options: { retryAmbiguous?: boolean | ((index: number) => boolean) } = {},
  ): Promise<WriteOutcome[]> {
    const option = options.retryAmbiguous ?? true;
    const retryAmbiguous = typeof option === 'function' ? option : () => option;
    const outcomes: Array<WriteOutcome | undefined> = new Array(rows.length);
    const retried = new Array<boolean>(rows.length).fill(false);
    const lastFailure = new Array<OtsFailure | undefined>(rows.length);
    let pendingGroups = (groups ?? rows.map((_, index) => [index])).filter((group) => group.length > 0);
    const sizes = rows.map(rowBytes);

    for (let attempt = 1; pendingGroups.length > 0; attempt++) {
      const chunks = chunkGroups(
        pendingGroups,
        BATCH_WRITE_MAX_ROWS,
        (index) => sizes[index] as number,
        BATCH_WRITE_MAX_BYTES,
      );
      await mapLimited(chunks, MAX_PARALLEL_CALLS, async (chunk) => {
        const byTable = new Map<string, number[]>();
        for (const index of chunk) {
          const name = (rows[index] as WriteRow).tableName;
          byTable.set(name, [...(byTable.get(name) ?? []), index]);
        }
        const tables = [...byTable].map(([tableName, indexes]) => ({
          tableName,
          rows: indexes.map((index) => (rows[index] as WriteRow).row),
        }));
        // The response's `tables` is FLAT, in request order (reference §4).
        const order = [...byTable.values()].flat();
        try {
          const response = await this.#call(budget, (client) => client.batchWriteRow({ tables }));
          order.forEach((index, position) => {
            const result = response.tables[position];
            if (result?.isOk) outcomes[index] = { status: 'ok', retried: retried[index] as boolean };
            else lastFailure[index] = fromBatchRow(result ?? { errorCode: 'MissingRowResult', errorMessage: null });
          });
        } catch (error) {
          if (error instanceof StoreError) throw error;
          const failure = fromCallError(error);
          for (const index of order) lastFailure[index] = failure;
        }
      });

      const retry: number[][] = [];
      for (const group of pendingGroups) {
        const failedRows = group.filter((index) => outcomes[index] === undefined);
        for (const index of failedRows) {
          const failure = lastFailure[index] as OtsFailure;
          if (failure.code === 'OTSConditionCheckFail') {
            outcomes[index] = { status: 'condition', retried: retried[index] as boolean };
          } else if (
            !failure.retryable ||
            attempt >= MAX_ATTEMPTS ||
            (failure.mayHaveLanded && !retryAmbiguous(index))
          ) {
            outcomes[index] = { status: 'failed', failure, retried: retried[index] as boolean };
          } else {
            retried[index] = (retried[index] as boolean) || failure.mayHaveLanded;
          }
        }
        const again = failedRows.filter((index) => outcomes[index] === undefined);
        if (again.length > 0) retry.push(again);
      }
      pendingGroups = retry;
      if (pendingGroups.length === 0) break;
      const backoff = 20 * 2 ** (attempt - 1) * (0.5 + Math.random() / 2);
      if (budget.remainingMs() < backoff + MIN_ATTEMPT_MS) {
        for (const index of pendingGroups.flat()) {
          const failure = lastFailure[index] ?? deadlineFailure();
          outcomes[index] = { status: 'failed', failure, retried: retried[index] as boolean };
        }
        break;
      }
      await sleep(backoff);
    }
    return outcomes.map((outcome) => outcome ?? { status: 'failed', failure: deadlineFailure(), retried: true });
  }

  /** Best-effort writes (deletes of stale due entries): a failure leaves them to `listDue`, never fails the caller. */
  public async tidy(budget: Deadline, rows: readonly WriteRow[]): Promise<void> {
    if (rows.length === 0 || budget.remainingMs() < TIDY_MIN_MS) return;
    try {
      await this.write(budget, rows);
    } catch {
      // stale entries are found and deleted again by listDue
    }
  }

  /** A read retried while retryable and the budget lasts; failures become a (never ambiguous) `StoreError`. */
  async #read<T>(budget: Deadline, operation: string, run: (client: SdkClient) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#call(budget, run);
      } catch (error) {
        if (error instanceof StoreError) throw error;
        const failure = fromCallError(error);
        const backoff = 20 * 2 ** (attempt - 1);
        if (!failure.retryable || attempt >= MAX_ATTEMPTS || budget.remainingMs() < backoff + MIN_ATTEMPT_MS) {
          throw toStoreError(operation, failure, false);
        }
        await sleep(backoff);
      }
    }
  }

  /**
   * BatchGetRow over `keys` of one table, ≤ `BATCH_GET_MAX_ROWS` per call; rows in key order, undefined if absent.
   * `budget` bounds the whole read, or (a function) each call on its own.
   */
  public async get(
    budget: Deadline | (() => Deadline),
    tableName: string,
    keys: readonly SdkPrimaryKey[],
  ): Promise<Array<SdkRow | undefined>> {
    const chunks: SdkPrimaryKey[][] = [];
    for (let i = 0; i < keys.length; i += BATCH_GET_MAX_ROWS) chunks.push(keys.slice(i, i + BATCH_GET_MAX_ROWS));
    const pages = await mapLimited(chunks, MAX_PARALLEL_CALLS, (chunk) =>
      this.#read(typeof budget === 'function' ? budget() : budget, 'batch get', async (client) => {
        const response = await client.batchGetRow({ tables: [{ tableName, primaryKey: chunk, maxVersions: 1 }] });
        const results = response.tables[0] ?? [];
        // A failed row fails the read: retrying the whole chunk is cheap and keeps the result exact.
        const failed = results.find((row) => !row.isOk);
        if (failed !== undefined) throw Object.assign(new Error(failed.errorMessage ?? ''), { code: failed.errorCode });
        if (results.length !== chunk.length) throw new Error('batch get answered a different number of rows');
        return results.map((row) => (row.primaryKey ? row : undefined));
      }),
    );
    return pages.flat();
  }

  /**
   * GetRange FORWARD from `start` to `end` (exclusive), paged until done or `max` rows (empty pages happen). `budget`
   * bounds the whole read, or (a function) each page on its own, for scans whose length is not bounded.
   */
  public async range(
    budget: Deadline | (() => Deadline),
    tableName: string,
    start: SdkPrimaryKey,
    end: SdkPrimaryKey,
    max: number,
  ): Promise<SdkRow[]> {
    const rows: SdkRow[] = [];
    let next: SdkPrimaryKey | null = start;
    while (next !== null && rows.length < max) {
      const from: SdkPrimaryKey = next;
      const page = await this.#read(typeof budget === 'function' ? budget() : budget, 'range', (client) =>
        client.getRange({
          tableName,
          direction: 'FORWARD',
          inclusiveStartPrimaryKey: from,
          exclusiveEndPrimaryKey: end,
          limit: Math.min(max - rows.length, 5000),
          maxVersions: 1,
        }),
      );
      rows.push(...page.rows);
      next = page.nextStartPrimaryKey?.map((column) => ({ [column.name]: column.value })) ?? null;
    }
    return rows;
  }
}

export type { WriteOutcome, WriteRow };
export { chunkGroups, rowError, TablestoreCalls };
