/**
 * The few shapes of the `tablestore` SDK (5.6.5, CommonJS, no typings) this adapter uses, and a lazy loader: the SDK
 * (≈ 0.8 MB minified, mostly its compiled protobuf module) is evaluated only when a Tablestore store is built, so
 * STORE=file/memory instances do not pay for it at cold start. Facts: `reference/tablestore.md` §1–§4.
 */

/** The SDK's INTEGER value (`int64-buffer` Int64LE): reads return it, writes need it (a JS number is a DOUBLE). */
interface SdkLong {
  toString(radix?: number): string;
  toNumber(): number;
}
type SdkPkValue = string | SdkLong | object;
type SdkCellValue = string | number | boolean | Buffer | SdkLong;
/** `[{ name: value }]`, one object per column, in schema order. */
type SdkPrimaryKey = Array<Record<string, SdkPkValue>>;
type SdkAttributeColumns = Array<Record<string, SdkCellValue>>;

interface SdkRow {
  primaryKey?: Array<{ name: string; value: SdkPkValue }>;
  attributes?: Array<{ columnName: string; columnValue: SdkCellValue }>;
}
interface SdkBatchRowResult extends SdkRow {
  isOk: boolean;
  /** A string code per row (`'OTSConditionCheckFail'`), unlike the numeric `err.code` of a failed call. */
  errorCode: string | null;
  errorMessage: string | null;
  tableName: string;
}

/** Opaque SDK objects passed back into requests. */
interface SdkCondition {
  readonly __sdkCondition?: never;
}
interface SdkColumnCondition {
  readonly __sdkColumnCondition?: never;
}
interface SdkCompositeCondition extends SdkColumnCondition {
  addSubCondition(condition: SdkColumnCondition): void;
}

interface SdkBatchWriteRow {
  type: 'PUT' | 'UPDATE' | 'DELETE';
  /** Required on every batch row: without it the SDK throws a TypeError client-side (reference §4). */
  condition: SdkCondition;
  primaryKey: SdkPrimaryKey;
  /** PUT: the columns. UPDATE: `[{ PUT: columns }, { INCREMENT: columns }, { DELETE_ALL: names }]`. */
  attributeColumns?: SdkAttributeColumns | SdkUpdateColumns;
}
type SdkUpdateColumns = Array<{ PUT?: SdkAttributeColumns; INCREMENT?: SdkAttributeColumns; DELETE_ALL?: string[] }>;

interface SdkClient {
  createTable(params: object): Promise<unknown>;
  describeTable(params: { tableName: string }): Promise<{
    tableMeta: { tableName: string; primaryKey: Array<{ name: string; type: number | string }> };
    tableOptions: { timeToLive: number; maxVersions: number };
  }>;
  updateTable(params: object): Promise<unknown>;
  listTable(params: object): Promise<{ tableNames: string[] }>;
  getRange(params: {
    tableName: string;
    direction: 'FORWARD' | 'BACKWARD';
    inclusiveStartPrimaryKey: SdkPrimaryKey;
    exclusiveEndPrimaryKey: SdkPrimaryKey;
    limit: number;
    maxVersions: 1;
    columnsToGet?: string[];
  }): Promise<{ rows: SdkRow[]; nextStartPrimaryKey: Array<{ name: string; value: SdkPkValue }> | null }>;
  batchGetRow(params: {
    tables: Array<{ tableName: string; primaryKey: SdkPrimaryKey[]; maxVersions: 1; columnsToGet?: string[] }>;
  }): Promise<{ tables: SdkBatchRowResult[][] }>;
  batchWriteRow(params: { tables: Array<{ tableName: string; rows: SdkBatchWriteRow[] }> }): Promise<{
    tables: SdkBatchRowResult[];
  }>;
}

interface SdkClientConfig {
  accessKeyId: string;
  secretAccessKey: string;
  stsToken?: string;
  endpoint: string;
  /** Lower-case key (`lib/config.js`). */
  instancename: string;
  /** PROCESS-GLOBAL: every request copies it into `TableStore.DefaultRetryPolicy` (reference §6). */
  maxRetries?: number;
  httpOptions?: { timeout?: number; agent?: unknown; maxSockets?: number };
}

interface TablestoreSdk {
  Client: new (config: SdkClientConfig) => SdkClient;
  Long: { fromNumber(n: number): SdkLong; fromString(s: string): SdkLong };
  INF_MIN: object;
  INF_MAX: object;
  /** Numeric: 0 IGNORE, 1 EXPECT_EXIST, 2 EXPECT_NOT_EXIST. */
  RowExistenceExpectation: { IGNORE: number; EXPECT_EXIST: number; EXPECT_NOT_EXIST: number };
  ComparatorType: { EQUAL: number; GREATER_THAN: number; LESS_THAN: number };
  LogicalOperator: { AND: number };
  Condition: new (rowExistence: number, columnCondition: SdkColumnCondition | null) => SdkCondition;
  SingleColumnCondition: new (
    name: string,
    value: SdkCellValue,
    comparator: number,
    passIfMissing?: boolean,
    latestVersionOnly?: boolean,
  ) => SdkColumnCondition;
  CompositeCondition: new (operator: number) => SdkCompositeCondition;
}

/**
 * Names the SDK assigns without declaring them, relying on sloppy mode to create globals: `key`
 * (`plian_buffer_builder.js` `computePrimaryKeySize`, used by every row write), `size` (`computeDeleteRowSize`), `pro`
 * and `combinator` (`filter.js`, conditions), `sub` (`encoder.js`). Our bundles are strict (esbuild puts "use strict"
 * on top, from tsconfig's `strict`), where each such assignment throws `ReferenceError: key is not defined` (the CJS
 * cousin of reference §8's "pro is not defined"). Pre-creating them gives the SDK exactly the globals it would create
 * unbundled. Found with `tsc --checkJs` over `tablestore/lib` (TS2304 "Cannot find name"); `cell_type` is also listed
 * there, but it is read before any write (the SDK's own bug on update cells, reference §10), never on our paths.
 */
const SDK_IMPLICIT_GLOBALS = ['key', 'size', 'pro', 'combinator', 'sub'] as const;

/** The SDK's request plumbing (`lib/util.js`, `lib/http/node.js`) that {@link streamlineRequests} replaces. */
interface SdkInternals {
  util: { urlParse(url: string): object };
  NodeHttpClient: {
    prototype: { writeBody(stream: { end(body?: Uint8Array | string): void }, request: object): void };
  };
}

/**
 * Two per-request costs of the SDK that buy us nothing, removed on load (the requests on the wire stay the same):
 * - Every request builds its endpoint anew with Node's legacy `url.parse` (`lib/http.js` `Endpoint`, 0.1 ms a call
 *   cold, 0.65 ms the first): the endpoint is one string, parsed once. `Endpoint` copies the fields it gets and
 *   never changes the parsed object, so sharing it is safe.
 * - Every request body goes through two streams made for it (`writeBody`: a Readable piped to the request and to an
 *   upload-progress Writable, a `sendProgress` event per chunk, over several ticks): we never listen to upload
 *   progress, so the body is written as it is, with the request's end (headers and body in one write).
 */
function streamlineRequests(internals: SdkInternals): void {
  const urlParse = internals.util.urlParse;
  const parsed = new Map<string, object>();
  internals.util.urlParse = function urlParseOnce(url: string): object {
    let result = parsed.get(url);
    if (result === undefined) {
      result = urlParse(url);
      parsed.set(url, result);
    }
    return result;
  };
  const client = internals.NodeHttpClient.prototype;
  const writeBody = client.writeBody;
  client.writeBody = function writeBodyAtOnce(stream, request) {
    const body = (request as { body?: unknown }).body;
    // A stream body (the SDK's API allows one; ours are encoded messages) keeps the SDK's own path.
    if (body instanceof Uint8Array || typeof body === 'string') stream.end(body);
    else writeBody.call(this, stream, request);
  };
}

let sdk: TablestoreSdk | undefined;

/** The SDK module, required on first use (a static `require` string, so esbuild still bundles it). */
function loadTablestoreSdk(): TablestoreSdk {
  if (sdk !== undefined) return sdk;
  for (const name of SDK_IMPLICIT_GLOBALS) {
    if (!(name in globalThis)) {
      Object.defineProperty(globalThis, name, { value: undefined, writable: true, configurable: true });
    }
  }
  const loaded = require('tablestore') as TablestoreSdk & SdkInternals;
  streamlineRequests(loaded);
  sdk = loaded;
  return sdk;
}

export type {
  SdkAttributeColumns,
  SdkBatchRowResult,
  SdkBatchWriteRow,
  SdkCellValue,
  SdkClient,
  SdkClientConfig,
  SdkColumnCondition,
  SdkCondition,
  SdkLong,
  SdkPkValue,
  SdkPrimaryKey,
  SdkRow,
  TablestoreSdk,
};
export { loadTablestoreSdk };
