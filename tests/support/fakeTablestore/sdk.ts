// Typed handle on the real `tablestore` SDK (5.6.5, CommonJS, no typings) and its compiled protobuf module, for the
// fake server and the tests that drive it. Loaded through createRequire so no ambient `declare module` is needed. The
// client's configuration is the production declaration's (`shared/store/tablestore/sdk.ts`); the rest is the fake's
// wider view of the SDK (its protobuf module, its conditions), which production code does not use.
import { createRequire } from 'node:module';
import type { SdkClientConfig } from '../../../shared/store/tablestore/sdk';

const load = createRequire(import.meta.url);

/** The SDK's INTEGER value (`int64-buffer` Int64LE). */
export interface SdkLong {
  toString(radix?: number): string;
  toNumber(): number;
  toBuffer(): Buffer;
}
export type SdkPkValue = string | Buffer | SdkLong;
export type SdkValue = string | number | boolean | Buffer | SdkLong;
export type SdkPk = Array<Record<string, SdkPkValue | object>>;

export interface SdkRowResult {
  primaryKey?: Array<{ name: string; value: SdkPkValue }>;
  attributes?: Array<{ columnName: string; columnValue: SdkValue; timestamp: SdkLong }>;
}
export interface SdkBatchRowResult {
  isOk: boolean;
  errorCode: string | null;
  errorMessage: string | null;
  tableName: string;
  primaryKey: SdkRowResult['primaryKey'] | null;
  attributes: SdkRowResult['attributes'] | null;
}
export interface SdkError extends Error {
  code: number | string;
  headers?: Record<string, string>;
  retryable?: boolean;
}

// Result shapes the SDK's decoder produces (only the fields callers use).
export interface SdkClient {
  createTable(p: object): Promise<object>;
  deleteTable(p: object): Promise<object>;
  listTable(p: object): Promise<{ tableNames: string[] }>;
  describeTable(p: object): Promise<{
    tableMeta: { tableName: string; primaryKey: Array<{ name: string; type: number }> };
    tableOptions: { timeToLive: number; maxVersions: number };
    tableStatus: number;
  }>;
  updateTable(p: object): Promise<{ tableOptions: { timeToLive: number; maxVersions: number } }>;
  putRow(p: object): Promise<{ row: SdkRowResult; RequestId: string }>;
  updateRow(p: object): Promise<{ row: SdkRowResult }>;
  deleteRow(p: object): Promise<{ row: SdkRowResult }>;
  getRow(p: object): Promise<{ row: SdkRowResult; RequestId: string }>;
  getRange(p: object): Promise<{
    rows: SdkRowResult[];
    nextStartPrimaryKey: Array<{ name: string; value: SdkPkValue }> | null;
  }>;
  batchGetRow(p: object): Promise<{ tables: SdkBatchRowResult[][] }>;
  batchWriteRow(p: object): Promise<{ tables: SdkBatchRowResult[] }>;
}

export interface SdkColumnCondition {
  readonly __columnCondition?: never;
}
export interface SdkCompositeCondition extends SdkColumnCondition {
  addSubCondition(c: SdkColumnCondition): void;
}

export interface TableStoreSdk {
  Client: new (config: SdkClientConfig) => SdkClient;
  Long: { fromNumber(n: number): SdkLong; fromString(s: string): SdkLong };
  INF_MIN: object;
  INF_MAX: object;
  RowExistenceExpectation: { IGNORE: 0; EXPECT_EXIST: 1; EXPECT_NOT_EXIST: 2 };
  ComparatorType: Record<'EQUAL' | 'NOT_EQUAL' | 'GREATER_THAN' | 'GREATER_EQUAL' | 'LESS_THAN' | 'LESS_EQUAL', number>;
  LogicalOperator: Record<'NOT' | 'AND' | 'OR', number>;
  Condition: new (rowExistence: number, columnCondition: SdkColumnCondition | null) => object;
  SingleColumnCondition: new (
    name: string,
    value: SdkValue,
    comparator: number,
    passIfMissing?: boolean,
    latestVersionOnly?: boolean,
  ) => SdkColumnCondition;
  CompositeCondition: new (op: number) => SdkCompositeCondition;
  DefaultRetryPolicy: { maxRetryTimes: number };
  PlainBufferBuilder: {
    serializePrimaryKey(pk: SdkPk): Buffer;
    serializeForPutRow(pk: SdkPk, columns: Array<Record<string, SdkValue | number>>): Buffer;
  };
}

export const TableStore = load('tablestore') as TableStoreSdk;

/** The class of SDK INTEGER values, for `instanceof` checks. */
export const Int64LE = Object.getPrototypeOf(TableStore.Long.fromNumber(0)).constructor as new (
  ...args: unknown[]
) => SdkLong;

export function isSdkLong(v: unknown): v is SdkLong {
  return v instanceof Int64LE;
}

// ---- compiled protobuf module (static protobufjs) ----
export interface ProtoType {
  decode(buf: Uint8Array): Record<string, unknown>;
  encode(msg: unknown): { finish(): Uint8Array };
  create(props: unknown): unknown;
}
type ProtoNamespace = Record<string, ProtoType | undefined>;

const compiled = load('tablestore/lib/protocol/tablestore_compiled_proto.js') as {
  main: { proto: ProtoNamespace };
  filter: { proto: ProtoNamespace };
};
function lookup(ns: ProtoNamespace, pkg: string, name: string): ProtoType {
  const t = ns[name];
  if (!t) throw new Error(`${pkg}.${name} is not in the compiled tablestore proto`);
  return t;
}
/** A `main.proto` message type: PutRowRequest, GetRangeResponse, Error, … */
export const P = (name: string): ProtoType => lookup(compiled.main.proto, 'main.proto', name);
/** A `filter.proto` message type: Filter, SingleColumnValueFilter, CompositeColumnValueFilter. */
export const F = (name: string): ProtoType => lookup(compiled.filter.proto, 'filter.proto', name);

export function encodeMessage(type: ProtoType, props: unknown): Buffer {
  return Buffer.from(type.encode(type.create(props)).finish());
}
