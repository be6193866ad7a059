/**
 * Request pieces of the Tablestore adapter: INTEGER values as `TableStore.Long` (never JS numbers, which are DOUBLEs),
 * conditions, primary keys, batch rows, and the decoding of returned rows (`reference/tablestore.md` §3, §4).
 */
import { StoreError } from '../errors';
import type { DeliveryRecord } from './DeliveryRecord';
import type { WriteOutcome, WriteRow } from './tablestoreCalls';
import { toStoreError } from './tablestoreErrors';
import {
  type CellValue,
  type DueEntry,
  dueEntryCells,
  MAIN_PK,
  recordFromCells,
  toNumber,
  VERSION_COLUMN,
} from './tablestoreRows';
import {
  loadTablestoreSdk,
  type SdkAttributeColumns,
  type SdkColumnCondition,
  type SdkCondition,
  type SdkPrimaryKey,
  type SdkRow,
} from './tablestoreSdk';

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

/** The `StoreError` of a row that failed for good; ambiguous when any attempt may have landed. */
function rowError(operation: string, outcome: Extract<WriteOutcome, { status: 'failed' }>): StoreError {
  const failure = { ...outcome.failure, mayHaveLanded: outcome.failure.mayHaveLanded || outcome.retried };
  return toStoreError(operation, failure, true);
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

export type { Check };
export {
  cellsOf,
  columnsOf,
  condition,
  deleteEntry,
  deleteMainRow,
  dueKey,
  entryOf,
  equal,
  long,
  mainKey,
  putEntry,
  putRow,
  recordOf,
  rowError,
  sdk,
};
