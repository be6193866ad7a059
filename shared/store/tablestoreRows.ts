/**
 * The Tablestore row layout of the delivery store (`reference/tablestore.md` §13), shared by the adapter, the
 * create-table script and the tests. Two tables:
 *
 * - **main** `<TABLESTORE_TABLE>`, PK `pk` (STRING) = delivery key: one row per delivery, every column of
 *   `DeliveryRecord` (integers as INTEGER, the event as a JSON string, never a routing key). Each write is a full-row
 *   conditional put, so all cells of a row share one TTL.
 * - **due index** `<TABLESTORE_TABLE>_due`, PK `[shard INTEGER, dueAt INTEGER, pk STRING]`: one entry per delivery
 *   that is PENDING/RETRY (due at `nextAttemptAt`) or SENDING (due when `leaseUntil` passes). The relay reads
 *   `dueAt <= now` by range, so its cost follows the undelivered rows, never the delivered history. `shard` (a hash
 *   of the key, `DUE_SHARDS` values) keeps the time-ordered key from being one hot partition.
 *
 * Occurrence markers (`OccurrenceMarker.ts`), key states (`KeyState.ts`) and the health counters (`Counters.ts`) are
 * main-table rows too, keyed `m1-<hash>`, `k1-<keyId>` and `c1-<minute>-…` (delivery keys start `d1-`), with a `kind`
 * column: same table, same TTL, same RAM policy; the full scan skips them. Markers and key states are both versioned
 * rows (`VersionedRows`), written by the same compare-and-set.
 */
import { createHash } from 'node:crypto';
import { DeliveryStatus, type EventAction } from '../constants';
import type { PagerDutyEventBody } from '../pagerduty/types';
import type { DeliveryRecord } from './DeliveryRecord';
import type { KeyState } from './KeyState';
import { markerKeyOf, type OccurrenceMarker } from './OccurrenceMarker';

/** Primary key column of the main table. */
const MAIN_PK = 'pk';
/** Column compared by every compare-and-set. */
const VERSION_COLUMN = 'version';
const EXPIRES_COLUMN = 'expiresAt';

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
 * written and read back. `tablestoreAuxiliary.ts` writes every kind the same way.
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

/** When the relay should look at a record, or undefined when it never should (same rule as `isDue`). */
function dueAtOf(record: DeliveryRecord): number | undefined {
  switch (record.status) {
    case DeliveryStatus.PENDING:
    case DeliveryStatus.RETRY:
      return record.nextAttemptAt ?? 0;
    case DeliveryStatus.SENDING:
      return record.leaseUntil ?? 0;
    default:
      return undefined;
  }
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
  const dueAt = dueAtOf(record);
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
  return record !== undefined && dueAtOf(record) === entry.dueAt;
}

export type { CellValue, DueEntry, VersionedRows };
export {
  bucketStartKey,
  COUNTER_KIND,
  counterRowKey,
  DUE_PRIMARY_KEY,
  DUE_SHARDS,
  dueAtOf,
  dueEntryCells,
  dueEntryOf,
  dueTableName,
  EXPIRES_COLUMN,
  entryMatches,
  isAuxiliaryRow,
  KEY_STATE_ROWS,
  KIND_COLUMN,
  LATEST_KIND,
  MAIN_PK,
  MAIN_PRIMARY_KEY,
  MARKER_ROWS,
  parseCounterRowKey,
  recordCells,
  recordFromCells,
  sameCells,
  sameVersionedRow,
  shardOf,
  toNumber,
  VERSION_COLUMN,
};
