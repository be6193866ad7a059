// In-memory table of the fake Tablestore: rows by key plus a PK-sorted array for ranges; TTL per cell version.
import { comparePks, type DecodedRow, fromJs, invalid, toJs, type Value } from './codec';
import type { FakeRow, PkType } from './types';

export interface Cell {
  value: Value;
  ts: number;
}
export interface Row {
  pk: Value[];
  cells: Map<string, Cell>;
  writtenAt: number;
}
export type Schema = Array<{ name: string; type: PkType }>;

const VALUE_OF_PK: Record<PkType, Value['t']> = { INTEGER: 'int', STRING: 'string', BINARY: 'blob' };

export const keyOf = (pk: Value[]) =>
  pk.map((v) => (v.t === 'blob' ? `b${v.v.toString('hex')}` : `${v.t[0]}${JSON.stringify(String(toJs(v)))}`)).join('|');

export function validateTtl(ttl: number): void {
  if (ttl !== -1 && ttl < 86400) throw invalid(`TimeToLive must be -1 or >= 86400 seconds, got ${ttl}`);
}

export class Table {
  readonly rows = new Map<string, Row>();
  sorted: Row[] = [];
  reserved = { read: 0, write: 0 };

  constructor(
    readonly name: string,
    readonly schema: Schema,
    public ttl: number,
    public maxVersions: number,
    public allowUpdate: boolean,
    readonly createdAt: number,
  ) {
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,254}$/.test(name)) throw invalid(`Invalid table name: '${name}'.`);
    if (schema.length < 1 || schema.length > 4) throw invalid('The number of primary key columns must be in [1, 4].');
    validateTtl(ttl);
    if (maxVersions < 1) throw invalid('MaxVersions must be >= 1');
  }

  expired(ts: number, at: number): boolean {
    return this.ttl > 0 && ts + this.ttl * 1000 <= at;
  }
  visibleCells(row: Row, at: number): Array<[string, Cell]> {
    return [...row.cells].filter(([, c]) => !this.expired(c.ts, at));
  }
  /** The row if it exists at `at`: some unexpired cell, or no cells and an unexpired write. */
  visible(row: Row | undefined, at: number): Row | undefined {
    if (!row) return undefined;
    if (row.cells.size === 0) return this.expired(row.writtenAt, at) ? undefined : row;
    return this.visibleCells(row, at).length > 0 ? row : undefined;
  }
  find(pk: Value[], at: number): Row | undefined {
    return this.visible(this.rows.get(keyOf(pk)), at);
  }

  /** Validates a request's primary key against the schema (names, order, types, sizes). */
  checkPk(pk: DecodedRow['pk'], allowInf = false): Value[] {
    if (pk.length !== this.schema.length) throw invalid('Validate PK size fail.');
    return pk.map((c, i) => {
      const s = this.schema[i] as Schema[number];
      if (c.name !== s.name) throw invalid(`Validate PK name fail. Input: ${c.name}, Meta: ${s.name}.`);
      const inf = c.value.t === 'inf_min' || c.value.t === 'inf_max';
      if (inf && !allowInf) throw invalid('INF_MIN/INF_MAX are only valid in a range.');
      if (!inf && c.value.t !== VALUE_OF_PK[s.type]) throw invalid(`Validate PK type fail for ${s.name}.`);
      if ((c.value.t === 'string' || c.value.t === 'blob') && Buffer.byteLength(c.value.v) > 1024)
        throw invalid(`The length of pk ${s.name} exceeds 1024.`);
      return c.value;
    });
  }
  pkColumns(pk: Value[]): Array<{ name: string; value: Value }> {
    return this.schema.map((s, i) => ({ name: s.name, value: pk[i] as Value }));
  }

  /** First index whose pk is >= key (strict: > key). */
  bound(key: Value[], strict: boolean): number {
    let lo = 0;
    let hi = this.sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const c = comparePks((this.sorted[mid] as Row).pk, key);
      if (c < 0 || (strict && c === 0)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
  store(row: Row): void {
    const key = keyOf(row.pk);
    if (this.rows.has(key)) this.sorted[this.bound(row.pk, false)] = row;
    else this.sorted.splice(this.bound(row.pk, false), 0, row);
    this.rows.set(key, row);
  }
  remove(pk: Value[]): void {
    if (this.rows.delete(keyOf(pk))) this.sorted.splice(this.bound(pk, false), 1);
  }

  // ---- direct access for tests (no HTTP, no stats) ----
  jsPk(pk: Record<string, unknown>): Value[] {
    return this.schema.map((s) => {
      if (!(s.name in pk)) throw new TypeError(`missing primary key column ${s.name}`);
      return fromJs(pk[s.name]);
    });
  }
  /** Bulk insert/replace: one sort instead of a splice per row. */
  seed(rows: Array<{ pk: Record<string, unknown>; attrs?: Record<string, unknown>; timestamp?: number }>, at: number) {
    const fresh: Row[] = [];
    for (const r of rows) {
      const pk = this.checkPk(this.jsPk(r.pk).map((value, i) => ({ name: this.schema[i]?.name ?? '', value })));
      const ts = r.timestamp ?? at;
      const cells = new Map<string, Cell>();
      for (const [k, v] of Object.entries(r.attrs ?? {})) cells.set(k, { value: fromJs(v), ts });
      const key = keyOf(pk);
      if (!this.rows.has(key)) fresh.push({ pk, cells, writtenAt: ts });
      this.rows.set(key, { pk, cells, writtenAt: ts });
    }
    this.sorted = [...this.sorted, ...fresh]
      .map((row) => this.rows.get(keyOf(row.pk)) as Row)
      .sort((a, b) => comparePks(a.pk, b.pk));
  }
  toFakeRow(row: Row, at: number): FakeRow {
    const out: FakeRow = { pk: {}, attrs: {}, timestamps: {} };
    this.schema.forEach((s, i) => {
      out.pk[s.name] = toJs(row.pk[i] as Value);
    });
    for (const [name, c] of this.visibleCells(row, at)) {
      out.attrs[name] = toJs(c.value);
      out.timestamps[name] = c.ts;
    }
    return out;
  }
}
