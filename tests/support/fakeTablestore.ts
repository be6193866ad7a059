// A wire-compatible fake Tablestore (OTS) server on loopback that the unmodified `tablestore` SDK talks to.
// Requests are decoded with the SDK's compiled protobuf module, PlainBuffer rows with our own reader (codec.ts),
// responses encoded with the SDK's PlainBufferBuilder. See ../shared/reference/tablestore.md §10–§11.
import { createHash, createHmac, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  comparePks,
  type DecodedRow,
  decodeRow,
  evalFilter,
  invalid,
  type JsValue,
  OtsError,
  pkToPlainBuffer,
  rowToPlainBuffer,
  toJs,
  type Value,
} from './fakeTablestore/codec';
import { defaultStatus, FaultRegistry, requestInfo } from './fakeTablestore/faults';
import { encodeMessage, P } from './fakeTablestore/sdk';
import { type Cell, type Row, Table, validateTtl } from './fakeTablestore/table';
import type {
  FakeTablestore,
  FakeTablestoreOptions,
  FaultAction,
  LoggedRequest,
  OtsErrorSpec,
  OtsOperation,
  PkType,
  StatsSnapshot,
  TableCounters,
} from './fakeTablestore/types';

export type * from './fakeTablestore/types';

const OPERATIONS = new Set<string>([
  'CreateTable',
  'DescribeTable',
  'ListTable',
  'DeleteTable',
  'UpdateTable',
  'PutRow',
  'GetRow',
  'UpdateRow',
  'DeleteRow',
  'BatchGetRow',
  'BatchWriteRow',
  'GetRange',
]);

interface Cond {
  rowExistence: number;
  columnCondition?: Uint8Array;
}
type Req = Record<string, unknown>;
type RowFault = Extract<FaultAction, { kind: 'rowError' }>;

const PK_TYPES: Record<number, PkType> = { 1: 'INTEGER', 2: 'STRING', 3: 'BINARY' };
const PK_CODES: Record<PkType, number> = { INTEGER: 1, STRING: 2, BINARY: 3 };
const MAX_RESPONSE_BYTES = 4 * 1024 * 1024;

export async function startFakeTablestore(opts: FakeTablestoreOptions = {}): Promise<FakeTablestore> {
  const instance = opts.instance ?? 'fake-instance';
  const now = opts.now ?? Date.now;
  const scanLimit = opts.scanLimit ?? 5000;
  const mismatch = opts.typeMismatch ?? 'error';
  const logLimit = opts.logLimit ?? 1000;
  const tables = new Map<string, Table>();
  const faults = new FaultRegistry(opts.seed ?? 1);
  const timers = new Set<NodeJS.Timeout>();
  let closed = false;
  let requestSeq = 0;

  // ---------------- stats ----------------
  let counters = freshStats();
  let log: LoggedRequest[] = [];
  function freshStats(): StatsSnapshot {
    return { requests: {}, errors: {}, faultsFired: 0, rowsRead: 0, rowsReturned: 0, rowsWritten: 0, byTable: {} };
  }
  function count(table: string, field: keyof TableCounters, n = 1): void {
    counters[field] += n;
    counters.byTable[table] ??= { rowsRead: 0, rowsReturned: 0, rowsWritten: 0 };
    counters.byTable[table][field] += n;
  }
  const countError = (code: string) => {
    counters.errors[code] = (counters.errors[code] ?? 0) + 1;
  };

  // ---------------- tables ----------------
  function table(name: string): Table {
    const t = tables.get(name);
    if (!t) throw new OtsError(404, 'OTSObjectNotExist', 'Requested table does not exist.');
    return t;
  }
  function createTable(name: string, schema: Table['schema'], ttl: number, maxVersions: number, allowUpdate = true) {
    const t = new Table(name, schema, ttl, maxVersions, allowUpdate, now());
    if (tables.has(name)) throw new OtsError(409, 'OTSObjectAlreadyExist', 'Requested table already exists.');
    tables.set(name, t);
    return t;
  }

  // ---------------- row operations ----------------
  function validateCells(t: Table, cells: DecodedRow['cells'], update: boolean): void {
    for (const c of cells) {
      if (!c.name || c.name.length > 255) throw invalid(`Invalid column name: '${c.name}'.`);
      if (t.schema.some((s) => s.name === c.name)) throw invalid(`Column ${c.name} is a primary key column.`);
      if (!update && c.op !== 'put') throw invalid('PutRow takes no update cell types.');
      if ((c.op === 'put' || c.op === 'increment') && !c.value) throw invalid(`Column ${c.name} has no value.`);
      if (c.op === 'increment' && c.value?.t !== 'int') throw invalid(`INCREMENT on ${c.name} needs an INTEGER.`);
      if (c.value && (c.value.t === 'string' || c.value.t === 'blob') && Buffer.byteLength(c.value.v) > 2 * 1024 * 1024)
        throw invalid(`The length of column ${c.name} exceeds 2MB.`);
      if (c.value && ['inf_min', 'inf_max', 'auto_incr'].includes(c.value.t)) throw invalid('Invalid column value.');
    }
  }
  function checkCondition(t: Table, row: Row | undefined, cond: Cond, at: number): void {
    const fail = () => new OtsError(403, 'OTSConditionCheckFail', 'Condition check failed.');
    if (cond.rowExistence === 1 && !row) throw fail();
    if (cond.rowExistence === 2 && row) throw fail();
    if (cond.columnCondition && cond.columnCondition.length > 0) {
      const cols = new Map(row ? t.visibleCells(row, at).map(([n, c]) => [n, c.value]) : []);
      if (!evalFilter(cond.columnCondition, cols, mismatch)) throw fail();
    }
  }
  /** Applies one row mutation atomically (Node runs it without interleaving). Returns the row's pk. */
  function writeRow(t: Table, type: 'put' | 'update' | 'delete', change: DecodedRow, cond: Cond): Value[] {
    const at = now();
    const pk = t.checkPk(change.pk);
    if (type === 'update' && !t.allowUpdate)
      throw invalid('UpdateRow is not allowed on this table (allowUpdate=false).');
    validateCells(t, change.cells, type === 'update');
    const existing = t.find(pk, at);
    checkCondition(t, existing, cond, at);
    if (type === 'delete') t.remove(pk);
    else {
      const cells = new Map<string, Cell>(type === 'update' && existing ? t.visibleCells(existing, at) : []);
      for (const c of change.cells) {
        const old = cells.get(c.name);
        if (c.op === 'delete_all' || (c.op === 'delete_one' && old?.ts === c.ts)) cells.delete(c.name);
        else if (c.op === 'increment' && c.value?.t === 'int') {
          if (old && old.value.t !== 'int') throw invalid(`INCREMENT on non-INTEGER column ${c.name}.`);
          const base = old?.value.t === 'int' ? old.value.v : 0n;
          cells.set(c.name, { value: { t: 'int', v: BigInt.asIntN(64, base + c.value.v) }, ts: c.ts ?? at });
        } else if (c.op === 'put' && c.value && !(old && c.ts !== undefined && c.ts < old.ts))
          cells.set(c.name, { value: c.value, ts: c.ts ?? at });
      }
      t.store({ pk, cells, writtenAt: at });
    }
    count(t.name, 'rowsWritten');
    return pk;
  }
  /** Visible row → PlainBuffer after columns_to_get and filter (filter sees only the projected columns). */
  function readRow(t: Table, row: Row, columnsToGet: string[], filter: Uint8Array | undefined, at: number) {
    const wanted = columnsToGet.length > 0 ? new Set(columnsToGet) : undefined;
    const cells = t
      .visibleCells(row, at)
      .filter(([n]) => !wanted || wanted.has(n))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    if (filter && filter.length > 0 && !evalFilter(filter, new Map(cells.map(([n, c]) => [n, c.value])), mismatch))
      return undefined;
    return rowToPlainBuffer(
      t.pkColumns(row.pk),
      cells.map(([name, c]) => ({ name, value: c.value, ts: c.ts })),
    );
  }
  function getOne(t: Table, pkBuf: Uint8Array, columnsToGet: string[], filter: Uint8Array | undefined) {
    const at = now();
    const row = t.find(t.checkPk(decodeRow(pkBuf).pk), at);
    if (!row) return Buffer.alloc(0);
    count(t.name, 'rowsRead');
    const out = readRow(t, row, columnsToGet, filter, at);
    if (out) count(t.name, 'rowsReturned');
    return out ?? Buffer.alloc(0);
  }
  const consumed = (read: number, write: number) => ({ capacityUnit: { read, write } });
  const returned = (q: Req, pk: Value[], t: Table) =>
    (q.returnContent as { returnType?: number } | undefined)?.returnType === 1
      ? pkToPlainBuffer(t.pkColumns(pk))
      : undefined;
  const tableOptions = (t: Table) => ({
    timeToLive: t.ttl,
    maxVersions: t.maxVersions,
    deviationCellVersionInSec: 86400,
    allowUpdate: t.allowUpdate,
  });
  const throughput = (t: Table) => ({ capacityUnit: t.reserved, lastIncreaseTime: Math.floor(t.createdAt / 1000) });
  const has = (o: unknown, k: string) => typeof o === 'object' && o !== null && Object.hasOwn(o, k);

  function execute(op: OtsOperation, q: Req, rowFault?: RowFault): { type: string; body: unknown } {
    const res = (body: unknown) => ({ type: `${op}Response`, body });
    switch (op) {
      case 'CreateTable': {
        const meta = q.tableMeta as { tableName: string; primaryKey: Array<{ name: string; type: number }> };
        const o = q.tableOptions as Record<string, number | boolean> | undefined;
        const schema = meta.primaryKey.map((c) => {
          const type = PK_TYPES[c.type];
          if (!type) throw invalid(`Unsupported primary key type ${c.type}`);
          return { name: c.name, type };
        });
        const ttl = has(o, 'timeToLive') ? Number(o?.timeToLive) : -1;
        const versions = has(o, 'maxVersions') ? Number(o?.maxVersions) : 1;
        createTable(meta.tableName, schema, ttl, versions, has(o, 'allowUpdate') ? o?.allowUpdate !== false : true);
        const cu = (q.reservedThroughput as { capacityUnit?: { read?: number; write?: number } })?.capacityUnit;
        table(meta.tableName).reserved = { read: cu?.read ?? 0, write: cu?.write ?? 0 };
        return res({});
      }
      case 'ListTable':
        return res({ tableNames: [...tables.keys()] });
      case 'DeleteTable':
        table(q.tableName as string);
        tables.delete(q.tableName as string);
        return res({});
      case 'DescribeTable': {
        const t = table(q.tableName as string);
        return res({
          tableMeta: { tableName: t.name, primaryKey: t.schema.map((s) => ({ name: s.name, type: PK_CODES[s.type] })) },
          reservedThroughputDetails: throughput(t),
          tableOptions: tableOptions(t),
          tableStatus: 1,
        });
      }
      case 'UpdateTable': {
        const t = table(q.tableName as string);
        const o = q.tableOptions as Record<string, number | boolean> | undefined;
        if (has(o, 'timeToLive')) validateTtl(Number(o?.timeToLive));
        if (has(o, 'timeToLive')) t.ttl = Number(o?.timeToLive);
        if (has(o, 'maxVersions')) t.maxVersions = Math.max(1, Number(o?.maxVersions));
        if (has(o, 'allowUpdate')) t.allowUpdate = o?.allowUpdate !== false;
        return res({ reservedThroughputDetails: throughput(t), tableOptions: tableOptions(t) });
      }
      case 'PutRow':
      case 'UpdateRow':
      case 'DeleteRow': {
        const t = table(q.tableName as string);
        const type = op === 'PutRow' ? 'put' : op === 'UpdateRow' ? 'update' : 'delete';
        const buf = (op === 'PutRow' ? q.row : op === 'UpdateRow' ? q.rowChange : q.primaryKey) as Uint8Array;
        const pk = writeRow(t, type, decodeRow(buf), q.condition as Cond);
        return res({ consumed: consumed(0, 1), row: returned(q, pk, t) });
      }
      case 'GetRow': {
        const t = table(q.tableName as string);
        const row = getOne(t, q.primaryKey as Uint8Array, q.columnsToGet as string[], q.filter as Uint8Array);
        return res({ consumed: consumed(1, 0), row });
      }
      case 'GetRange':
        return res(getRange(q));
      case 'BatchGetRow': {
        const reqTables = q.tables as Array<Req & { tableName: string; primaryKey: Uint8Array[] }>;
        const total = reqTables.reduce((n, tq) => n + tq.primaryKey.length, 0);
        if (total > 100) throw invalid('Rows count exceeds the upper limit: 100.');
        return res({
          tables: reqTables.map((tq) => ({
            tableName: tq.tableName,
            rows: tq.primaryKey.map((pkBuf) => {
              try {
                const t = table(tq.tableName);
                if (rowFault && matchesRow(rowFault, tq.tableName, pkBuf)) throw faultError(rowFault);
                const row = getOne(t, pkBuf, tq.columnsToGet as string[], tq.filter as Uint8Array);
                return { isOk: true, consumed: consumed(1, 0), row };
              } catch (e) {
                return rowError(e);
              }
            }),
          })),
        });
      }
      case 'BatchWriteRow': {
        const reqTables = q.tables as Array<{
          tableName: string;
          rows: Array<{ type: number; rowChange: Uint8Array; condition: Cond }>;
        }>;
        if (reqTables.reduce((n, tq) => n + tq.rows.length, 0) > 200)
          throw invalid('Rows count exceeds the upper limit: 200.');
        const decoded = reqTables.map((tq) => {
          const seen = new Set<string>();
          return tq.rows.map((r) => {
            const change = decodeRow(r.rowChange);
            const key = JSON.stringify(change.pk.map((c) => [c.name, String(toJs(c.value))]));
            if (seen.has(key)) throw invalid('The input parameter is invalid: duplicated primary key in one batch.');
            seen.add(key);
            return change;
          });
        });
        return res({
          tables: reqTables.map((tq, ti) => ({
            tableName: tq.tableName,
            rows: tq.rows.map((r, ri) => {
              try {
                const t = table(tq.tableName);
                const hit = rowFault && matchesRow(rowFault, tq.tableName, r.rowChange);
                if (hit && !rowFault.land) throw faultError(rowFault);
                const type = r.type === 1 ? 'put' : r.type === 2 ? 'update' : 'delete';
                writeRow(t, type, decoded[ti]?.[ri] as DecodedRow, r.condition);
                if (hit) throw faultError(rowFault);
                return { isOk: true, consumed: consumed(0, 1) };
              } catch (e) {
                return rowError(e);
              }
            }),
          })),
        });
      }
    }
  }
  function rowError(e: unknown) {
    if (!(e instanceof OtsError)) throw e;
    countError(e.code);
    return { isOk: false, error: { code: e.code, message: e.message } };
  }
  const faultError = (f: OtsErrorSpec) =>
    new OtsError(f.status ?? defaultStatus(f.code), f.code, f.message ?? `Injected ${f.code}.`);
  function matchesRow(f: RowFault, tableName: string, buf: Uint8Array): boolean {
    if (!f.rows) return true;
    const pk: Record<string, JsValue> = {};
    for (const c of decodeRow(buf).pk) pk[c.name] = toJs(c.value);
    return f.rows(tableName, pk);
  }

  function getRange(q: Req) {
    const t = table(q.tableName as string);
    const at = now();
    const start = t.checkPk(decodeRow(q.inclusiveStartPrimaryKey as Uint8Array).pk, true);
    const end = t.checkPk(decodeRow(q.exclusiveEndPrimaryKey as Uint8Array).pk, true);
    const forward = (q.direction as number) !== 1;
    const order = comparePks(start, end);
    if (forward ? order > 0 : order < 0)
      throw invalid(
        `Begin key must be ${forward ? 'less' : 'more'} than end key in ${forward ? 'FORWARD' : 'BACKWARD'}`,
      );
    const requested = q.limit as number;
    if (requested < 0) throw invalid('The limit must be positive.');
    const limit = Math.min(requested > 0 ? requested : 5000, 5000);
    const out: Buffer[] = [];
    let scanned = 0;
    let bytes = 0;
    let next: Value[] | undefined;
    for (let i = forward ? t.bound(start, false) : t.bound(start, true) - 1; i >= 0 && i < t.sorted.length; ) {
      const row = t.sorted[i] as Row;
      if (forward ? comparePks(row.pk, end) >= 0 : comparePks(row.pk, end) <= 0) break;
      if (out.length >= limit || scanned >= scanLimit || bytes >= MAX_RESPONSE_BYTES) {
        next = row.pk;
        break;
      }
      if (t.visible(row, at)) {
        scanned++;
        const buf = readRow(t, row, q.columnsToGet as string[], q.filter as Uint8Array, at);
        if (buf) {
          out.push(out.length === 0 ? buf : buf.subarray(4));
          bytes += buf.length;
        }
      }
      i += forward ? 1 : -1;
    }
    count(t.name, 'rowsRead', scanned);
    count(t.name, 'rowsReturned', out.length);
    return {
      consumed: consumed(Math.max(1, Math.ceil(bytes / 4096)), 0),
      rows: Buffer.concat(out),
      nextStartPrimaryKey: next ? pkToPlainBuffer(t.pkColumns(next)) : undefined,
    };
  }

  // ---------------- HTTP ----------------
  function verify(req: http.IncomingMessage, op: string, body: Buffer): void {
    const h = req.headers;
    if (h['x-ots-apiversion'] !== '2015-12-31') throw invalid('Missing or unsupported x-ots-apiversion.');
    if (h['x-ots-instancename'] !== instance)
      throw new OtsError(403, 'OTSAuthFailed', `Instance '${String(h['x-ots-instancename'])}' does not exist.`);
    if (h['x-ots-contentmd5'] !== createHash('md5').update(body).digest('base64'))
      throw invalid('Content MD5 mismatch (x-ots-contentmd5).');
    const c = opts.credentials;
    if (!c) return;
    const auth = (m: string) => new OtsError(403, 'OTSAuthFailed', m);
    if (h['x-ots-accesskeyid'] !== c.accessKeyId) throw auth('The AccessKeyID does not exist.');
    if (c.stsToken !== undefined && h['x-ots-ststoken'] !== c.stsToken) throw auth('Invalid STS token.');
    const canonical = Object.keys(h)
      .filter((k) => k.startsWith('x-ots-') && k !== 'x-ots-signature')
      .sort()
      .map((k) => `${k}:${String(h[k])}`)
      .join('\n');
    const expected = createHmac('sha1', c.secretAccessKey).update(`/${op}\nPOST\n\n${canonical}\n`).digest('base64');
    if (h['x-ots-signature'] !== expected) throw auth('Signature mismatch.');
  }

  function respond(res: http.ServerResponse, status: number, body: Buffer, requestId: string): void {
    if (closed || res.destroyed) return;
    res.writeHead(status, {
      'content-type': 'application/x-protobuf',
      'content-length': body.length,
      'x-ots-contenttype': 'protocol buffer',
      'x-ots-contentmd5': createHash('md5').update(body).digest('base64'),
      'x-ots-date': new Date(now()).toISOString(),
      'x-ots-requestid': requestId,
    });
    res.end(body);
  }
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.add(timer);
    });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse, body: Buffer): Promise<void> {
    const op = (req.url ?? '/').split('?')[0]?.slice(1) ?? '';
    const requestId = `fake-${(++requestSeq).toString().padStart(6, '0')}-${randomBytes(4).toString('hex')}`;
    counters.requests[op] = (counters.requests[op] ?? 0) + 1;
    const entry: LoggedRequest = { op, tables: [], status: 200 };
    log.push(entry);
    if (log.length > logLimit) log.shift();
    const fail = (e: OtsError) => {
      entry.status = e.status;
      entry.code = e.code;
      countError(e.code);
      respond(res, e.status, encodeMessage(P('Error'), { code: e.code, message: e.message }), requestId);
    };
    try {
      if (req.method !== 'POST' || !OPERATIONS.has(op))
        throw new OtsError(400, 'OTSUnsupportOperation', `Unsupported operation: '${op}'.`);
      verify(req, op, body);
      let q: Req;
      try {
        q = P(`${op}Request`).decode(body);
      } catch (e) {
        throw invalid(`Cannot decode ${op}Request: ${(e as Error).message}`);
      }
      const info = requestInfo(op as OtsOperation, q);
      Object.assign(entry, { tables: info.tables, request: q });
      const fault = faults.pick(info);
      if (fault) counters.faultsFired++;
      entry.fault = fault?.kind;
      const run = () => {
        const out = execute(op as OtsOperation, q, fault?.kind === 'rowError' ? fault : undefined);
        return encodeMessage(P(out.type), out.body);
      };
      const apply = () => {
        try {
          run();
        } catch {
          // the injected answer replaces whatever happened
        }
      };
      switch (fault?.kind) {
        case 'error':
          throw faultError(fault);
        case 'landThenError':
          apply();
          throw faultError(fault);
        case 'landThenHang':
          apply();
          return;
        case 'hang':
          return; // closed by close()
        case 'landThenReset':
          apply();
          req.socket.destroy();
          return;
        case 'reset':
          req.socket.destroy();
          return;
        case 'delay':
          await sleep(fault.ms);
          if (closed) return;
          break;
      }
      respond(res, 200, run(), requestId);
    } catch (e) {
      if (e instanceof OtsError) fail(e);
      else fail(new OtsError(500, 'OTSInternalServerError', `fake Tablestore bug: ${(e as Error).stack ?? e}`));
    }
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => void handle(req, res, Buffer.concat(chunks)));
  });
  server.keepAliveTimeout = 30_000; // longer than the client agent's idle timeout: no reuse-after-close races
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    instance,
    now,
    async close() {
      if (closed) return;
      closed = true;
      for (const t of timers) clearTimeout(t);
      const done = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await done;
    },
    faults: {
      add: (spec) => faults.add(spec),
      clear: () => faults.clear(),
      get active() {
        return faults.active;
      },
    },
    stats: {
      snapshot: () => structuredClone(counters),
      reset() {
        counters = freshStats();
        log = [];
      },
      get rowsRead() {
        return counters.rowsRead;
      },
      get rowsReturned() {
        return counters.rowsReturned;
      },
      get rowsWritten() {
        return counters.rowsWritten;
      },
      get log() {
        return log;
      },
    },
    tables: {
      create(name, pk, o = {}) {
        createTable(name, pk, o.timeToLive ?? -1, o.maxVersions ?? 1);
      },
      names: () => [...tables.keys()],
      seed(name, rows) {
        table(name).seed(rows, now());
      },
      get(name, pk) {
        const t = table(name);
        const at = now();
        const row = t.find(t.jsPk(pk), at);
        return row && t.toFakeRow(row, at);
      },
      rows(name) {
        const t = table(name);
        const at = now();
        return t.sorted.filter((r) => t.visible(r, at)).map((r) => t.toFakeRow(r, at));
      },
      count(name) {
        const t = table(name);
        const at = now();
        return t.sorted.filter((r) => t.visible(r, at)).length;
      },
      drop(name) {
        tables.delete(name);
      },
    },
  };
}
