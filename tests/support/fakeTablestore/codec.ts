// PlainBuffer reading (our own: the SDK's reader rejects INF_MIN/INF_MAX and update cells), typed values, value
// comparison, and column-condition evaluation for the fake Tablestore server. Responses are written with the SDK's own
// PlainBufferBuilder (correct CRC8 checksums), see `rowToPlainBuffer`.
import { F, isSdkLong, type SdkPk, type SdkValue, TableStore } from './sdk';

export type Value =
  | { t: 'int'; v: bigint }
  | { t: 'double'; v: number }
  | { t: 'bool'; v: boolean }
  | { t: 'string'; v: string }
  | { t: 'blob'; v: Buffer }
  | { t: 'inf_min' }
  | { t: 'inf_max' }
  | { t: 'auto_incr' };

export type CellOp = 'put' | 'delete_all' | 'delete_one' | 'increment';
export interface DecodedCell {
  name: string;
  value?: Value;
  op: CellOp;
  ts?: number;
}
export interface DecodedRow {
  pk: Array<{ name: string; value: Value }>;
  cells: DecodedCell[];
  deleteMarker: boolean;
}

export class OtsError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}
export const invalid = (message: string) => new OtsError(400, 'OTSParameterInvalid', message);

const TAG = {
  ROW_PK: 1,
  ROW_DATA: 2,
  CELL: 3,
  NAME: 4,
  VALUE: 5,
  TYPE: 6,
  TS: 7,
  DEL_ROW: 8,
  ROW_CRC: 9,
  CELL_CRC: 10,
};

class Reader {
  pos = 0;
  constructor(readonly buf: Buffer) {}
  need(n: number): void {
    if (this.pos + n > this.buf.length) throw invalid('PlainBuffer truncated');
  }
  u8(): number {
    this.need(1);
    return this.buf[this.pos++] as number;
  }
  u32(): number {
    this.need(4);
    const v = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }
  i64(): bigint {
    this.need(8);
    const v = this.buf.readBigInt64LE(this.pos);
    this.pos += 8;
    return v;
  }
  bytes(n: number): Buffer {
    this.need(n);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }
  atEnd(): boolean {
    return this.pos >= this.buf.length;
  }
}

/** Variant: type byte + payload (a filter's column_value; the body of a CELL_VALUE). */
function readVariant(r: Reader): Value {
  const type = r.u8();
  switch (type) {
    case 0:
      return { t: 'int', v: r.i64() };
    case 1: {
      const v = r.bytes(8).readDoubleLE(0);
      return { t: 'double', v };
    }
    case 2:
      return { t: 'bool', v: r.u8() !== 0 };
    case 3:
      return { t: 'string', v: r.bytes(r.u32()).toString('utf8') };
    case 7:
      return { t: 'blob', v: Buffer.from(r.bytes(r.u32())) };
    case 9:
      return { t: 'inf_min' };
    case 10:
      return { t: 'inf_max' };
    case 11:
      return { t: 'auto_incr' };
    default:
      throw invalid(`Unsupported value type ${type}`);
  }
}

export function decodeVariant(buf: Uint8Array): Value {
  return readVariant(new Reader(Buffer.from(buf)));
}

/** Reads every row of a PlainBuffer (header 0x75, then rows); stops at a 0x00 tag (the SDK pads INF keys). */
export function decodeRows(input: Uint8Array): DecodedRow[] {
  const r = new Reader(Buffer.from(input.buffer, input.byteOffset, input.byteLength));
  if (r.u32() !== 0x75) throw invalid('Invalid PlainBuffer header');
  const rows: DecodedRow[] = [];
  let tag = r.atEnd() ? 0 : r.u8();
  while (tag !== 0) {
    const row: DecodedRow = { pk: [], cells: [], deleteMarker: false };
    let section = 0;
    while (tag !== 0 && tag !== TAG.ROW_CRC) {
      if (tag === TAG.ROW_PK || tag === TAG.ROW_DATA) section = tag;
      else if (tag === TAG.DEL_ROW) row.deleteMarker = true;
      else if (tag === TAG.CELL) {
        const cell: DecodedCell = { name: '', op: 'put' };
        for (let t = r.u8(); t !== TAG.CELL_CRC; t = r.u8()) {
          if (t === TAG.NAME) cell.name = r.bytes(r.u32()).toString('utf8');
          else if (t === TAG.VALUE) cell.value = readVariant(new Reader(r.bytes(r.u32())));
          else if (t === TAG.TYPE) {
            const op = r.u8();
            cell.op = op === 1 ? 'delete_all' : op === 3 ? 'delete_one' : op === 4 ? 'increment' : 'put';
          } else if (t === TAG.TS) cell.ts = Number(r.i64());
          else throw invalid(`Unexpected PlainBuffer cell tag ${t}`);
        }
        r.u8(); // cell checksum (not verified)
        if (section === TAG.ROW_PK) {
          if (!cell.value) throw invalid(`Primary key column ${cell.name} has no value`);
          row.pk.push({ name: cell.name, value: cell.value });
        } else row.cells.push(cell);
      } else throw invalid(`Unexpected PlainBuffer tag ${tag}`);
      tag = r.atEnd() ? 0 : r.u8();
    }
    if (tag === TAG.ROW_CRC) {
      r.u8();
      tag = r.atEnd() ? 0 : r.u8();
    }
    rows.push(row);
  }
  return rows;
}

export function decodeRow(input: Uint8Array): DecodedRow {
  const rows = decodeRows(input);
  if (rows.length !== 1 || !rows[0]) throw invalid('Expected exactly one row');
  return rows[0];
}

// ---- value conversions ----

/** Plain JS form used by the seeding/inspection API: INTEGER ↔ bigint, DOUBLE ↔ number. */
export type JsValue = string | bigint | number | boolean | Buffer;

export function fromJs(v: unknown): Value {
  if (typeof v === 'string') return { t: 'string', v };
  if (typeof v === 'bigint') return { t: 'int', v: BigInt.asIntN(64, v) };
  if (typeof v === 'number') return { t: 'double', v };
  if (typeof v === 'boolean') return { t: 'bool', v };
  if (Buffer.isBuffer(v)) return { t: 'blob', v: Buffer.from(v) };
  if (isSdkLong(v)) return { t: 'int', v: BigInt(v.toString(10)) };
  throw new TypeError(`Unsupported value ${String(v)} (use string, bigint/TableStore.Long, number, boolean, Buffer)`);
}

export function toJs(v: Value): JsValue {
  switch (v.t) {
    case 'int':
    case 'double':
    case 'bool':
    case 'string':
      return v.v;
    case 'blob':
      return Buffer.from(v.v);
    default:
      throw new TypeError(`${v.t} has no stored form`);
  }
}

function toSdk(v: Value): SdkValue {
  if (v.t === 'int') return TableStore.Long.fromString(v.v.toString());
  return toJs(v) as Exclude<JsValue, bigint>;
}

/** One row in PlainBuffer (with checksums) via the SDK's own builder. */
export function rowToPlainBuffer(
  pk: Array<{ name: string; value: Value }>,
  cells: Array<{ name: string; value: Value; ts: number }>,
): Buffer {
  const sdkPk: SdkPk = pk.map((c) => ({ [c.name]: toSdk(c.value) as string }));
  if (cells.length === 0) return TableStore.PlainBufferBuilder.serializePrimaryKey(sdkPk);
  const cols = cells.map((c) => ({ [c.name]: toSdk(c.value), timestamp: c.ts }));
  return TableStore.PlainBufferBuilder.serializeForPutRow(sdkPk, cols);
}

export function pkToPlainBuffer(pk: Array<{ name: string; value: Value }>): Buffer {
  return rowToPlainBuffer(pk, []);
}

// ---- comparison ----

const RANK: Record<Value['t'], number> = {
  inf_min: 0,
  int: 1,
  double: 1,
  bool: 1,
  string: 1,
  blob: 1,
  auto_incr: 1,
  inf_max: 2,
};

/** Compares two values of the same type; INF_MIN/INF_MAX sort outside everything. null = incomparable types. */
export function compareValues(a: Value, b: Value): number | null {
  const ra = RANK[a.t];
  const rb = RANK[b.t];
  if (ra !== rb || ra !== 1) return ra - rb;
  if (a.t !== b.t) return null;
  switch (a.t) {
    case 'int':
      return a.v < (b as typeof a).v ? -1 : a.v > (b as typeof a).v ? 1 : 0;
    case 'double':
    case 'bool': {
      const x = Number(a.v);
      const y = Number((b as typeof a).v);
      return x < y ? -1 : x > y ? 1 : 0;
    }
    case 'string':
      return Buffer.compare(Buffer.from(a.v, 'utf8'), Buffer.from((b as typeof a).v, 'utf8'));
    case 'blob':
      return Buffer.compare(a.v, (b as typeof a).v);
    default:
      return 0;
  }
}

export function comparePks(a: Value[], b: Value[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i];
    const y = b[i];
    if (!x || !y) return x ? 1 : y ? -1 : 0;
    const c = compareValues(x, y) ?? 0;
    if (c !== 0) return c;
  }
  return 0;
}

// ---- column conditions / filters (filter.proto) ----

export type TypeMismatch = 'error' | 'false';

/**
 * Evaluates an encoded `filter.proto.Filter` against a row's visible columns. A missing column passes iff
 * `filter_if_missing` is false (SDK: passIfMissing). Comparing different types (e.g. an INTEGER column with a JS
 * number, which the SDK sends as DOUBLE) is an OTSParameterInvalid error by default (real semantics UNCONFIRMED).
 */
export function evalFilter(encoded: Uint8Array, columns: Map<string, Value>, mismatch: TypeMismatch): boolean {
  return evalDecoded(F('Filter').decode(encoded) as unknown as DecodedFilter, columns, mismatch);
}

interface DecodedFilter {
  type: number;
  filter: Uint8Array;
}

function evalDecoded(f: DecodedFilter, columns: Map<string, Value>, mismatch: TypeMismatch): boolean {
  if (f.type === 1) {
    const s = F('SingleColumnValueFilter').decode(f.filter) as unknown as {
      comparator: number;
      columnName: string;
      columnValue: Uint8Array;
      filterIfMissing: boolean;
    };
    const actual = columns.get(s.columnName);
    if (!actual) return !s.filterIfMissing;
    const expected = decodeVariant(s.columnValue);
    const c = compareValues(actual, expected);
    if (c === null) {
      if (mismatch === 'error')
        throw invalid(
          `Column ${s.columnName}: cannot compare ${actual.t.toUpperCase()} with ${expected.t.toUpperCase()}`,
        );
      return s.comparator === 2;
    }
    switch (s.comparator) {
      case 1:
        return c === 0;
      case 2:
        return c !== 0;
      case 3:
        return c > 0;
      case 4:
        return c >= 0;
      case 5:
        return c < 0;
      case 6:
        return c <= 0;
      default:
        throw invalid(`Unknown comparator ${s.comparator}`);
    }
  }
  if (f.type === 2) {
    const comp = F('CompositeColumnValueFilter').decode(f.filter) as unknown as {
      combinator: number;
      subFilters: DecodedFilter[];
    };
    const subs = comp.subFilters;
    if (subs.length === 0 || subs.length > 32) throw invalid('A composite condition takes 1..32 sub-conditions');
    if (comp.combinator === 1) {
      if (subs.length !== 1) throw invalid('NOT takes exactly one sub-condition');
      return !evalDecoded(subs[0] as DecodedFilter, columns, mismatch);
    }
    if (comp.combinator === 2) return subs.every((s) => evalDecoded(s, columns, mismatch));
    if (comp.combinator === 3) return subs.some((s) => evalDecoded(s, columns, mismatch));
    throw invalid(`Unknown logical operator ${comp.combinator}`);
  }
  throw invalid(`Unsupported filter type ${f.type} (column pagination is not emulated)`);
}
