// Public types of the fake Tablestore server (see ../fakeTablestore.ts).
import type { JsValue, TypeMismatch } from './codec';

export type OtsOperation =
  | 'CreateTable'
  | 'DescribeTable'
  | 'ListTable'
  | 'DeleteTable'
  | 'UpdateTable'
  | 'PutRow'
  | 'GetRow'
  | 'UpdateRow'
  | 'DeleteRow'
  | 'BatchGetRow'
  | 'BatchWriteRow'
  | 'GetRange';

export interface FakeTablestoreOptions {
  /** Expected `x-ots-instancename` (others get 403 OTSAuthFailed). Default 'fake-instance'. */
  instance?: string;
  /** Clock in ms for cell versions and TTL. Default Date.now. */
  now?: () => number;
  /** Seed of the PRNG behind `FaultSpec.probability`. Default 1. */
  seed?: number;
  /** When set, `x-ots-accesskeyid`/`x-ots-signature` (and `x-ots-ststoken`) are verified → 403 OTSAuthFailed. */
  credentials?: { accessKeyId: string; secretAccessKey: string; stsToken?: string };
  /** Rows scanned per GetRange call before it stops with a next key, filter or not (real: 5000). */
  scanLimit?: number;
  /** Comparing different value types in a condition/filter: 'error' (OTSParameterInvalid, default) or 'false'. */
  typeMismatch?: TypeMismatch;
  /** Entries kept in `stats.log`. Default 1000. */
  logLimit?: number;
}

export interface OtsErrorSpec {
  code: string;
  /** Default from the code: 503 busy/unavailable/timeout, 500 internal, 403 condition/auth/capacity, 400 otherwise. */
  status?: number;
  message?: string;
}
export type FaultAction =
  | ({ kind: 'error' } & OtsErrorSpec) // answered without touching data
  | ({ kind: 'landThenError' } & OtsErrorSpec) // the operation is applied, then this error is answered
  | { kind: 'hang' } // never answered (until close); the client's socket timeout fires
  | { kind: 'landThenHang' }
  | { kind: 'reset' } // socket destroyed without an answer → client NetworkingError (ECONNRESET)
  | { kind: 'landThenReset' }
  | { kind: 'delay'; ms: number } // answered normally after ms
  | ({ kind: 'rowError'; rows?: (table: string, pk: Record<string, JsValue>) => boolean; land?: boolean } & Omit<
      OtsErrorSpec,
      'status'
    >); // batch ops only: matching rows get isOk:false with this code (applied first if land)

export interface FaultRequestInfo {
  op: OtsOperation;
  tables: string[];
  /** Row keys addressed by the request (not for GetRange). */
  keys: Array<{ table: string; pk: Record<string, JsValue> }>;
  request: Record<string, unknown>;
}
export interface FaultSpec {
  op?: OtsOperation | OtsOperation[];
  table?: string;
  when?: (info: FaultRequestInfo) => boolean;
  /** Let this many matching requests through first. Default 0. */
  skip?: number;
  /** Fire for this many matching requests. Default 1; Infinity = until removed. */
  times?: number;
  /** Fire with this probability (seeded PRNG), else let the request through. */
  probability?: number;
  action: FaultAction;
}
export interface FaultHandle {
  readonly fired: number;
  readonly remaining: number;
  remove(): void;
}

export interface TableCounters {
  /** Rows examined by GetRow/BatchGetRow/GetRange (visible rows, before filters). */
  rowsRead: number;
  /** Rows returned to the client. */
  rowsReturned: number;
  /** Row mutations applied (put, update, delete), including landed-then-error ones. */
  rowsWritten: number;
}
export interface StatsSnapshot extends TableCounters {
  requests: Partial<Record<string, number>>;
  /** Answered errors by OTS code, including per-row batch errors. */
  errors: Partial<Record<string, number>>;
  faultsFired: number;
  byTable: Record<string, TableCounters>;
}
export interface LoggedRequest {
  op: string;
  tables: string[];
  status: number;
  code?: string;
  fault?: FaultAction['kind'];
  request?: Record<string, unknown>;
}

export type PkType = 'STRING' | 'INTEGER' | 'BINARY';
export interface FakeRow {
  pk: Record<string, JsValue>;
  attrs: Record<string, JsValue>;
  timestamps: Record<string, number>;
}
/** INTEGER: bigint or TableStore.Long; a JS number is a DOUBLE (as in the SDK). */
export interface SeedRow {
  pk: Record<string, unknown>;
  attrs?: Record<string, unknown>;
  /** Cell timestamp (ms). Default now(). */
  timestamp?: number;
}

export interface FakeTablestore {
  endpoint: string;
  instance: string;
  now(): number;
  close(): Promise<void>;
  faults: { add(spec: FaultSpec): FaultHandle; clear(): void; readonly active: number };
  stats: {
    snapshot(): StatsSnapshot;
    reset(): void;
    readonly rowsRead: number;
    readonly rowsReturned: number;
    readonly rowsWritten: number;
    readonly log: readonly LoggedRequest[];
  };
  tables: {
    create(
      name: string,
      pk: Array<{ name: string; type: PkType }>,
      opts?: { timeToLive?: number; maxVersions?: number },
    ): void;
    names(): string[];
    /** Inserts/replaces rows directly (no HTTP, no stats): 20,000 rows in well under a second. */
    seed(table: string, rows: SeedRow[]): void;
    get(table: string, pk: Record<string, unknown>): FakeRow | undefined;
    /** Visible rows in primary-key order. */
    rows(table: string): FakeRow[];
    count(table: string): number;
    drop(table: string): void;
  };
}
