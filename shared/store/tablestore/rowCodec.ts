/**
 * The row codec of the delivery store: how every record the port knows becomes Tablestore cells and back, and the SDK
 * request pieces that carry them (INTEGER values as `TableStore.Long`, never JS numbers, which are DOUBLEs; conditions;
 * primary keys; batch rows). `reference/tablestore.md` §3, §4, §13. Two tables:
 *
 * - **main** `<TABLESTORE_TABLE>`, PK `pk` (STRING) = delivery key: one row per delivery, every column of
 *   `DeliveryRecord` (integers as INTEGER, the event as a JSON string, never a routing key). Each write is a full-row
 *   conditional put, so all cells of a row share one TTL.
 * - **due index** `<TABLESTORE_TABLE>_due`, PK `[shard INTEGER, dueAt INTEGER, pk STRING]`: one entry per delivery
 *   that is PENDING/RETRY (due at `nextAttemptAt`) or SENDING (due when `leaseUntil` passes). The relay reads
 *   `dueAt <= now` by range, so its cost follows the undelivered rows, never the delivered history. `shard` (a hash
 *   of the key, `DUE_SHARDS` values) keeps the time-ordered key from being one hot partition (`dueIndex.ts`).
 *
 * Occurrence markers (`OccurrenceMarker.ts`), key states (`KeyState.ts`) and the health counters (`Counters.ts`) are
 * main-table rows too, keyed `m1-<hash>`, `k1-<keyId>` and `c1-<minute>-…` (delivery keys start `d1-`), with a `kind`
 * column: same table, same TTL, same RAM policy; the full scan skips them. Markers and key states are both versioned
 * rows (`VersionedRows`), written by the same compare-and-set (`markersAndCounters.ts`).
 */
import { createHash } from 'node:crypto';
import type { DeliveryStatus, EventAction } from '../../constants';
import { StoreError } from '../../errors';
import type { PagerDutyEventBody } from '../../pagerduty/types';
import type { DeliveryRecord } from '../DeliveryRecord';
import type { KeyState } from '../KeyState';
import { markerKeyOf, type OccurrenceMarker } from '../OccurrenceMarker';
import { dueTimeOf } from '../storeRules';
import type { WriteRow } from './calls';
import {
  loadTablestoreSdk,
  type SdkAttributeColumns,
  type SdkColumnCondition,
  type SdkCondition,
  type SdkPrimaryKey,
  type SdkRow,
} from './sdk';

/** Primary key column of the main table. */
const MAIN_PK = 'pk';
/** Column compared by every compare-and-set. */
const VERSION_COLUMN = 'version';

/**
 * Shards of the due index. Part of the layout: changing it strands entries in shards no longer read, so a change needs
 * the index rebuilt (drop `<table>_due`, and re-put an entry per undelivered row).
 */
const DUE_SHARDS = 4;
const DUE_TABLE_SUFFIX = '_due';

/** Primary keys of both tables, as `createTable` and the fake take them. */
const MAIN_PRIMARY_KEY = [{ name: MAIN_PK, type: 'STRING' as const }];
const DUE_PRIMARY_KEY = [
  { name: 'shard', type: 'INTEGER' as const },
  { name: 'dueAt', type: 'INTEGER' as const },
  { name: MAIN_PK, type: 'STRING' as const },
];

/** A cell as stored: STRING or INTEGER (bigint here; the adapter turns it into `TableStore.Long`). */
type CellValue = string | bigint;

/** Integer fields of a record (INTEGER columns); optional ones are absent when undefined. */
const INTEGER_FIELDS = [
  'occurrence',
  'version',
  'attempts',
  'createdAt',
  'updatedAt',
  'nextAttemptAt',
  'leaseUntil',
  'deliveredAt',
  'expiresAt',
] as const;
const STRING_FIELDS = ['dedupKey', 'action', 'routeName', 'status', 'lastError'] as const;

function dueTableName(table: string): string {
  return `${table}${DUE_TABLE_SUFFIX}`;
}

/** The main row's attribute cells for a record. Column names are the record's field names (ASCII, reference §3). */
function recordCells(record: DeliveryRecord): Record<string, CellValue> {
  const cells: Record<string, CellValue> = {};
  for (const field of STRING_FIELDS) {
    const value = record[field];
    if (value !== undefined) cells[field] = value;
  }
  for (const field of INTEGER_FIELDS) {
    const value = record[field];
    if (value !== undefined) cells[field] = BigInt(value);
  }
  cells.event = JSON.stringify(record.event);
  return cells;
}

/** Reads an INTEGER cell as it comes back from the SDK (`Int64LE`), from the fake (bigint), or a number. */
function toNumber(value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  if (typeof (value as { toNumber?: unknown }).toNumber === 'function')
    return (value as { toNumber(): number }).toNumber();
  return Number(String(value));
}

/** `kind` column of the main table's non-delivery rows (markers, counters); delivery rows have none. */
const KIND_COLUMN = 'kind';
const MARKER_KIND = 'marker';
const COUNTER_KIND = 'counter';
const LATEST_KIND = 'latest';
/** Counter rows: `c1-<bucket, 16 digits>-n-<name>` (a count) and `…-t-<name>` (a latest time); one INTEGER `value`. */
const COUNTER_PREFIX = 'c1-';
const BUCKET_DIGITS = 16;

function counterRowKey(bucket: number, type: 'n' | 't', name: string): string {
  return `${COUNTER_PREFIX}${String(bucket).padStart(BUCKET_DIGITS, '0')}-${type}-${name}`;
}

/** The first key of a bucket's rows (range bounds: `[bucketStart(first), bucketStart(last + 1))`). */
function bucketStartKey(bucket: number): string {
  return `${COUNTER_PREFIX}${String(bucket).padStart(BUCKET_DIGITS, '0')}`;
}

/** `{ bucket, type, name }` of a counter row key, or undefined for any other key. */
function parseCounterRowKey(key: string): { bucket: number; type: 'n' | 't'; name: string } | undefined {
  const match = /^c1-(\d{16})-([nt])-(.+)$/.exec(key);
  if (match === null) return undefined;
  return { bucket: Number(match[1]), type: match[2] as 'n' | 't', name: match[3] as string };
}

/** Rows of the main table that are not deliveries (markers, counters): the full scan skips them. */
function isAuxiliaryRow(cells: ReadonlyMap<string, unknown>): boolean {
  return cells.has(KIND_COLUMN);
}

/**
 * A kind of main-table row moved forward by compare-and-set on `version` (markers, key states): how its rows are keyed,
 * written and read back. `markersAndCounters.ts` writes every kind the same way.
 */
interface VersionedRows<T extends { version: number; expiresAt: number }> {
  /** What the rows are, in errors. */
  name: string;
  /** The row's id in the port (a dedup key, a key id). */
  idOf(row: T): string;
  /** The main-table primary key of an id. */
  rowKeyOf(id: string): string;
  cellsOf(row: T): Record<string, CellValue>;
  /** The row of these cells, or undefined when they are not a row of this kind. */
  fromCells(cells: ReadonlyMap<string, unknown>): T | undefined;
}

/** An INTEGER cell that must be there. */
function requiredInt(cells: ReadonlyMap<string, unknown>, name: string, kind: string): number {
  const value = toNumber(cells.get(name));
  if (value === undefined) throw new Error(`${kind} row has no ${name} column`);
  return value;
}

const MARKER_ROWS: VersionedRows<OccurrenceMarker> = {
  name: 'marker',
  idOf: (marker) => marker.dedupKey,
  rowKeyOf: markerKeyOf,
  cellsOf: (marker) => ({
    [KIND_COLUMN]: MARKER_KIND,
    dedupKey: marker.dedupKey,
    latestOccurrence: BigInt(marker.latestOccurrence),
    version: BigInt(marker.version),
    updatedAt: BigInt(marker.updatedAt),
    expiresAt: BigInt(marker.expiresAt),
  }),
  fromCells(cells) {
    if (cells.get(KIND_COLUMN) !== MARKER_KIND) return undefined;
    return {
      dedupKey: String(cells.get('dedupKey')),
      latestOccurrence: requiredInt(cells, 'latestOccurrence', 'marker'),
      version: requiredInt(cells, 'version', 'marker'),
      updatedAt: requiredInt(cells, 'updatedAt', 'marker'),
      expiresAt: requiredInt(cells, 'expiresAt', 'marker'),
    };
  },
};

const KEY_STATE_KIND = 'keystate';
/** Key state rows: `k1-<keyId>` (a hash of the routing key), `data` as one JSON string. */
const KEY_STATE_PREFIX = 'k1-';

const KEY_STATE_ROWS: VersionedRows<KeyState> = {
  name: 'key state',
  idOf: (state) => state.keyId,
  rowKeyOf: (keyId) => `${KEY_STATE_PREFIX}${keyId}`,
  cellsOf: (state) => ({
    [KIND_COLUMN]: KEY_STATE_KIND,
    keyId: state.keyId,
    version: BigInt(state.version),
    updatedAt: BigInt(state.updatedAt),
    expiresAt: BigInt(state.expiresAt),
    data: JSON.stringify(state.data),
  }),
  fromCells(cells) {
    if (cells.get(KIND_COLUMN) !== KEY_STATE_KIND) return undefined;
    return {
      keyId: String(cells.get('keyId')),
      version: requiredInt(cells, 'version', 'key state'),
      updatedAt: requiredInt(cells, 'updatedAt', 'key state'),
      expiresAt: requiredInt(cells, 'expiresAt', 'key state'),
      data: JSON.parse(String(cells.get('data') ?? '{}')) as Record<string, unknown>,
    };
  },
};

/** Same stored cells (what a retry compares to tell "my earlier attempt landed" from "someone else's row"). */
function sameVersionedRow<T extends { version: number; expiresAt: number }>(
  kind: VersionedRows<T>,
  a: T,
  b: T,
): boolean {
  const text = (row: T) => JSON.stringify(kind.cellsOf(row), (_, v) => (typeof v === 'bigint' ? v.toString() : v));
  return text(a) === text(b);
}

/** The record of a main row; throws on a row that is not one (missing key columns, unparsable event). */
function recordFromCells(deliveryKey: string, cells: ReadonlyMap<string, unknown>): DeliveryRecord {
  const text = (name: string) => {
    const value = cells.get(name);
    return value === undefined ? undefined : String(value);
  };
  const required = <T>(name: string, value: T | undefined): T => {
    if (value === undefined) throw new Error(`row ${deliveryKey} has no ${name} column`);
    return value;
  };
  const int = (name: string) => toNumber(cells.get(name));
  const record: DeliveryRecord = {
    deliveryKey,
    dedupKey: required('dedupKey', text('dedupKey')),
    occurrence: required('occurrence', int('occurrence')),
    action: required('action', text('action')) as EventAction,
    routeName: required('routeName', text('routeName')),
    status: required('status', text('status')) as DeliveryStatus,
    version: required('version', int('version')),
    event: JSON.parse(required('event', text('event'))) as PagerDutyEventBody,
    attempts: required('attempts', int('attempts')),
    createdAt: required('createdAt', int('createdAt')),
    updatedAt: required('updatedAt', int('updatedAt')),
    expiresAt: required('expiresAt', int('expiresAt')),
  };
  const optional = {
    lastError: text('lastError'),
    nextAttemptAt: int('nextAttemptAt'),
    leaseUntil: int('leaseUntil'),
    deliveredAt: int('deliveredAt'),
  };
  for (const [name, value] of Object.entries(optional)) {
    if (value !== undefined) Object.assign(record, { [name]: value });
  }
  return record;
}

/** Same stored content (what a retry compares to tell "my earlier attempt landed" from "someone else's row"). */
function sameCells(a: DeliveryRecord, b: DeliveryRecord): boolean {
  const left = recordCells(a);
  const right = recordCells(b);
  const keys = Object.keys(left);
  return (
    a.deliveryKey === b.deliveryKey &&
    keys.length === Object.keys(right).length &&
    keys.every((key) => left[key] === right[key])
  );
}

/** The due-index shard of a delivery key. */
function shardOf(deliveryKey: string): number {
  return (createHash('sha256').update(deliveryKey).digest()[0] ?? 0) % DUE_SHARDS;
}

/** One due-index entry: its key and the attributes that let the relay tell a live entry from a stale one. */
interface DueEntry {
  shard: number;
  dueAt: number;
  deliveryKey: string;
  /** Version of the main row this entry was written for (guards conditional deletes). */
  version: number;
  /** When it was written (`now()` of the writer): young unmatched entries may belong to a write in flight. */
  writtenAt: number;
  /** Status of the main row it was written for (diagnostics only). */
  status: string;
}

function dueEntryOf(record: DeliveryRecord, writtenAt: number): DueEntry | undefined {
  const dueAt = dueTimeOf(record);
  if (dueAt === undefined) return undefined;
  return {
    shard: shardOf(record.deliveryKey),
    dueAt,
    deliveryKey: record.deliveryKey,
    version: record.version,
    writtenAt,
    status: record.status,
  };
}

/** The entry's attribute cells. */
function dueEntryCells(entry: DueEntry): Record<string, CellValue> {
  return { version: BigInt(entry.version), writtenAt: BigInt(entry.writtenAt), status: entry.status };
}

/** An entry whose main row is due exactly at its `dueAt` is the row's live entry; any other entry is stale. */
function entryMatches(entry: DueEntry, record: DeliveryRecord | undefined): boolean {
  return record !== undefined && dueTimeOf(record) === entry.dueAt;
}

// ------------------------------------------------------------------------------------------------------------
// SDK request pieces
// ------------------------------------------------------------------------------------------------------------

type Existence = 'IGNORE' | 'EXPECT_EXIST' | 'EXPECT_NOT_EXIST';

const sdk = loadTablestoreSdk;
const long = (value: number | bigint) => sdk().Long.fromString(String(value));

function columnsOf(cells: Record<string, CellValue>): SdkAttributeColumns {
  return Object.entries(cells).map(([name, value]) => ({ [name]: typeof value === 'bigint' ? long(value) : value }));
}

/** A column check of a condition: `[column, comparator, integer]`; a missing column fails it. */
type Check = [string, 'EQUAL' | 'GREATER_THAN', number];
const equal = (column: string, value: number): Check => [column, 'EQUAL', value];

/** `existence`, plus every check (AND). */
function condition(existence: Existence, checks: readonly Check[] = []): SdkCondition {
  const { Condition, RowExistenceExpectation, SingleColumnCondition, CompositeCondition, ComparatorType } = sdk();
  const single = ([name, comparator, value]: Check) =>
    new SingleColumnCondition(name, long(value), ComparatorType[comparator], false);
  let column: SdkColumnCondition | null = null;
  if (checks.length === 1) column = single(checks[0] as Check);
  else if (checks.length > 1) {
    const and = new CompositeCondition(sdk().LogicalOperator.AND);
    for (const check of checks) and.addSubCondition(single(check));
    column = and;
  }
  return new Condition(RowExistenceExpectation[existence], column);
}

const mainKey = (deliveryKey: string): SdkPrimaryKey => [{ [MAIN_PK]: deliveryKey }];
const dueKey = (entry: DueEntry): SdkPrimaryKey => [
  { shard: long(entry.shard) },
  { dueAt: long(entry.dueAt) },
  { [MAIN_PK]: entry.deliveryKey },
];

function cellsOf(row: SdkRow): Map<string, unknown> {
  return new Map((row.attributes ?? []).map((cell) => [cell.columnName, cell.columnValue]));
}

function recordOf(row: SdkRow): DeliveryRecord {
  const key = String(row.primaryKey?.[0]?.value);
  try {
    return recordFromCells(key, cellsOf(row));
  } catch (error) {
    throw new StoreError(`tablestore row ${key} is not a delivery record: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

function entryOf(row: SdkRow): DueEntry {
  const pk = new Map((row.primaryKey ?? []).map((column) => [column.name, column.value]));
  const cells = cellsOf(row);
  return {
    shard: toNumber(pk.get('shard')) ?? 0,
    dueAt: toNumber(pk.get('dueAt')) ?? 0,
    deliveryKey: String(pk.get(MAIN_PK)),
    version: toNumber(cells.get(VERSION_COLUMN)) ?? 0,
    writtenAt: toNumber(cells.get('writtenAt')) ?? 0,
    status: String(cells.get('status') ?? ''),
  };
}

/** A full-row PUT of `key` in `tableName` on `rowCondition`. */
function putRow(
  tableName: string,
  key: string,
  cells: Record<string, CellValue>,
  rowCondition: SdkCondition,
): WriteRow {
  return {
    tableName,
    row: { type: 'PUT', condition: rowCondition, primaryKey: mainKey(key), attributeColumns: columnsOf(cells) },
  };
}

/** A DELETE of a main row, only if it exists and passes `checks`. */
function deleteMainRow(tableName: string, key: string, checks: readonly Check[]): WriteRow {
  return { tableName, row: { type: 'DELETE', condition: condition('EXPECT_EXIST', checks), primaryKey: mainKey(key) } };
}

/** A due-index entry PUT. Overwriting an entry with the same key (same row, same due time) is harmless: it stays live. */
function putEntry(dueTable: string, entry: DueEntry): WriteRow {
  return {
    tableName: dueTable,
    row: {
      type: 'PUT',
      condition: condition('IGNORE'),
      primaryKey: dueKey(entry),
      attributeColumns: columnsOf(dueEntryCells(entry)),
    },
  };
}

/** Deletes an entry only if it is still the one read (a rewrite of the same key since then survives). */
function deleteEntry(
  dueTable: string,
  entry: DueEntry,
  checks: readonly Check[] = [equal(VERSION_COLUMN, entry.version), equal('writtenAt', entry.writtenAt)],
): WriteRow {
  return {
    tableName: dueTable,
    row: { type: 'DELETE', condition: condition('EXPECT_EXIST', checks), primaryKey: dueKey(entry) },
  };
}

export type { DueEntry, VersionedRows };
export {
  bucketStartKey,
  COUNTER_KIND,
  cellsOf,
  condition,
  counterRowKey,
  DUE_PRIMARY_KEY,
  DUE_SHARDS,
  deleteEntry,
  deleteMainRow,
  dueEntryOf,
  dueTableName,
  entryMatches,
  entryOf,
  equal,
  isAuxiliaryRow,
  KEY_STATE_ROWS,
  KIND_COLUMN,
  LATEST_KIND,
  long,
  MAIN_PK,
  MAIN_PRIMARY_KEY,
  MARKER_ROWS,
  mainKey,
  parseCounterRowKey,
  putEntry,
  putRow,
  recordCells,
  recordFromCells,
  recordOf,
  sameCells,
  sameVersionedRow,
  sdk,
  shardOf,
  toNumber,
  VERSION_COLUMN,
};
