/**
 * The wire fake's own test: the fake Tablestore server (`tests/support/fakeTablestore.ts`) answers the REAL `tablestore`
 * SDK over loopback HTTP as the service does (`reference/tablestore.md` §10–§11): conditions, batch limits, TTL, errors
 * and faults. It tests the fake every Tablestore test stands on, not the bridge.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type FakeTablestore, type FakeTablestoreOptions, startFakeTablestore } from '../support/fakeTablestore';
import {
  type SdkClient,
  type SdkError,
  type SdkLong,
  type SdkRowResult,
  TableStore,
} from '../support/fakeTablestore/sdk';

const { Condition, RowExistenceExpectation: REE, SingleColumnCondition: SCC, CompositeCondition, Long } = TableStore;
const CT = TableStore.ComparatorType;
const LO = TableStore.LogicalOperator;
const DAY = 86_400_000;
const T = 'alert_delivery';

let fake: FakeTablestore;
let clock = 1_700_000_000_000;

async function start(opts: FakeTablestoreOptions = {}): Promise<FakeTablestore> {
  fake = await startFakeTablestore({ now: () => clock, ...opts });
  return fake;
}
afterEach(async () => {
  await fake?.close();
});

function client(o: { maxRetries?: number; timeout?: number; secret?: string; instance?: string } = {}): SdkClient {
  return new TableStore.Client({
    accessKeyId: 'test-ak',
    secretAccessKey: o.secret ?? 'test-sk',
    endpoint: fake.endpoint,
    instancename: o.instance ?? fake.instance,
    maxRetries: o.maxRetries ?? 0,
    httpOptions: { timeout: o.timeout ?? 2000 },
  });
}

/** The adapter's normalisation (reference §5a): numeric err.code, OTS code inside the raw protobuf message. */
function otsCode(err: unknown): string {
  const e = err as SdkError;
  if (typeof e?.code === 'string' && e.code.startsWith('OTS')) return e.code;
  return /OTS[A-Za-z]+/.exec(String(e?.message ?? ''))?.[0] ?? String(e?.code ?? 'Unknown');
}
async function failure(p: Promise<unknown>): Promise<SdkError> {
  try {
    await p;
  } catch (e) {
    return e as SdkError;
  }
  throw new Error('expected the call to fail');
}

async function createTable(c: SdkClient, name = T, ttl = 7 * 86400): Promise<void> {
  await c.createTable({
    tableMeta: { tableName: name, primaryKey: [{ name: 'pk', type: 'STRING' }] },
    reservedThroughput: { capacityUnit: { read: 0, write: 0 } },
    tableOptions: { timeToLive: ttl, maxVersions: 1 },
  });
}
function attrs(row: SdkRowResult): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const a of row.attributes ?? []) {
    const v = a.columnValue as unknown;
    out[a.columnName] = typeof v === 'object' && v !== null && !Buffer.isBuffer(v) ? (v as SdkLong).toString() : v;
  }
  return out;
}
const put = (c: SdkClient, pk: string, cols: Array<Record<string, unknown>>, ree: number = REE.IGNORE) =>
  c.putRow({ tableName: T, condition: new Condition(ree, null), primaryKey: [{ pk }], attributeColumns: cols });
const get = (c: SdkClient, pk: string, extra: object = {}) =>
  c.getRow({ tableName: T, primaryKey: [{ pk }], maxVersions: 1, ...extra });

describe('tables', () => {
  it('creates with TTL, describes, lists, updates TTL, rejects short TTL, deletes', async () => {
    await start();
    const c = client();
    await createTable(c);
    const d = await c.describeTable({ tableName: T });
    expect(d.tableMeta.tableName).toBe(T);
    expect(d.tableMeta.primaryKey).toEqual([expect.objectContaining({ name: 'pk', type: 2 })]);
    expect(d.tableOptions.timeToLive).toBe(7 * 86400);
    expect(d.tableStatus).toBe(1);
    expect((await c.listTable({})).tableNames).toEqual([T]);

    const dup = await failure(createTable(c));
    expect([dup.code, otsCode(dup)]).toEqual([409, 'OTSObjectAlreadyExist']);
    const short = await failure(createTable(c, 'short_ttl', 3600));
    expect([short.code, otsCode(short)]).toEqual([400, 'OTSParameterInvalid']);

    const u = await c.updateTable({ tableName: T, tableOptions: { timeToLive: 30 * 86400 } });
    expect(u.tableOptions.timeToLive).toBe(30 * 86400);
    expect((await c.describeTable({ tableName: T })).tableOptions.timeToLive).toBe(30 * 86400);

    await c.deleteTable({ tableName: T });
    const gone = await failure(c.describeTable({ tableName: T }));
    expect([gone.code, otsCode(gone)]).toEqual([404, 'OTSObjectNotExist']);
  });

  it('rejects a wrong instance, a bad signature and unknown operations', async () => {
    await start({ credentials: { accessKeyId: 'test-ak', secretAccessKey: 'test-sk' } });
    await createTable(client()); // right credentials pass the signature check
    expect(otsCode(await failure(client({ secret: 'wrong' }).listTable({})))).toBe('OTSAuthFailed');
    expect(otsCode(await failure(client({ instance: 'other' }).listTable({})))).toBe('OTSAuthFailed');
    const res = await fetch(`${fake.endpoint}/SQLQuery`, { method: 'POST', body: '' });
    expect(res.status).toBe(400);
  });
});

describe('rows and conditions', () => {
  beforeEach(async () => {
    await start();
    await createTable(client());
  });

  it('EXPECT_NOT_EXIST twice: the second is a 403 OTSConditionCheckFail with a request id', async () => {
    const c = client();
    const first = await put(c, 'a', [{ status: 'SENDING' }, { version: Long.fromNumber(1) }], REE.EXPECT_NOT_EXIST);
    expect(first.RequestId).toMatch(/^fake-/);
    const withPk = await c.putRow({
      tableName: T,
      condition: new Condition(REE.EXPECT_NOT_EXIST, null),
      primaryKey: [{ pk: 'b' }],
      attributeColumns: [{ s: 'x' }],
      returnContent: { returnType: 1 }, // TableStore.ReturnType.Primarykey
    });
    expect(withPk.row.primaryKey).toEqual([{ name: 'pk', value: 'b' }]);
    const err = await failure(put(c, 'a', [{ status: 'OTHER' }], REE.EXPECT_NOT_EXIST));
    expect(err.code).toBe(403); // a number, not the OTS code (reference §5)
    expect(err.message).toContain('OTSConditionCheckFail');
    expect(err.message).toContain('Condition check failed.');
    expect(err.headers?.['x-ots-requestid']).toMatch(/^fake-/);
    expect(otsCode(err)).toBe('OTSConditionCheckFail');
    expect(attrs((await get(c, 'a')).row)).toEqual({ status: 'SENDING', version: '1' });
  });

  it('reads: hit with Long round trip and timestamps, miss as {}, columnsToGet, filter', async () => {
    const c = client();
    await put(c, 'a', [{ version: Long.fromString('9007199254740993') }, { s: 'x' }, { d: 1.5 }, { b: true }]);
    const hit = await get(c, 'a');
    expect(hit.row.primaryKey).toEqual([{ name: 'pk', value: 'a' }]);
    expect(attrs(hit.row)).toEqual({ b: true, d: 1.5, s: 'x', version: '9007199254740993' });
    expect(hit.row.attributes?.[0]?.timestamp.toNumber()).toBe(clock);
    expect((await get(c, 'missing')).row).toEqual({});
    expect(attrs((await get(c, 'a', { columnsToGet: ['s'] })).row)).toEqual({ s: 'x' });
    const no = new SCC('s', 'y', CT.EQUAL);
    expect((await get(c, 'a', { columnFilter: no })).row).toEqual({});
  });

  it('CAS on a version column: single-column condition, passIfMissing, composite AND/OR/NOT', async () => {
    const c = client();
    await put(c, 'a', [{ status: 'SENDING' }, { version: Long.fromNumber(1) }], REE.EXPECT_NOT_EXIST);
    const cas = (v: number) => new Condition(REE.EXPECT_EXIST, new SCC('version', Long.fromNumber(v), CT.EQUAL, false));
    await c.updateRow({
      tableName: T,
      primaryKey: [{ pk: 'a' }],
      condition: cas(1),
      updateOfAttributeColumns: [
        { PUT: [{ status: 'DELIVERED' }, { version: Long.fromNumber(2) }] },
        { INCREMENT: [{ attempts: Long.fromNumber(1) }] },
      ],
    });
    const stale = await failure(
      c.updateRow({
        tableName: T,
        primaryKey: [{ pk: 'a' }],
        condition: cas(1),
        updateOfAttributeColumns: [{ PUT: [{ status: 'X' }] }],
      }),
    );
    expect(otsCode(stale)).toBe('OTSConditionCheckFail');
    expect(attrs((await get(c, 'a')).row)).toEqual({ attempts: '1', status: 'DELIVERED', version: '2' });

    // EXPECT_EXIST on a missing row fails; a missing column fails only when passIfMissing=false
    expect(otsCode(await failure(put(c, 'nope', [{ s: 1 }], REE.EXPECT_EXIST)))).toBe('OTSConditionCheckFail');
    const missing = (pass: boolean) => new Condition(REE.IGNORE, new SCC('leaseOwner', 'me', CT.EQUAL, pass));
    await c.putRow({
      tableName: T,
      primaryKey: [{ pk: 'a' }],
      condition: missing(true),
      attributeColumns: [{ n: 'p' }],
    });
    expect(
      otsCode(
        await failure(
          c.putRow({
            tableName: T,
            primaryKey: [{ pk: 'a' }],
            condition: missing(false),
            attributeColumns: [{ n: 'q' }],
          }),
        ),
      ),
    ).toBe('OTSConditionCheckFail');

    await put(c, 'b', [{ status: 'SENDING' }, { leaseUntil: Long.fromNumber(100) }, { version: Long.fromNumber(5) }]);
    // (status = SENDING AND leaseUntil < 200) OR NOT(version >= 5, passIfMissing): NOT of a missing column fails
    const and = new CompositeCondition(LO.AND);
    and.addSubCondition(new SCC('status', 'SENDING', CT.EQUAL, false));
    and.addSubCondition(new SCC('leaseUntil', Long.fromNumber(200), CT.LESS_THAN, false));
    const not = new CompositeCondition(LO.NOT);
    not.addSubCondition(new SCC('version', Long.fromNumber(5), CT.GREATER_EQUAL, true));
    const or = new CompositeCondition(LO.OR);
    or.addSubCondition(and);
    or.addSubCondition(not);
    const takeover = (cond: object) =>
      c.putRow({ tableName: T, primaryKey: [{ pk: 'b' }], condition: cond, attributeColumns: [{ status: 'TAKEN' }] });
    await takeover(new Condition(REE.EXPECT_EXIST, or));
    expect(attrs((await get(c, 'b')).row)).toEqual({ status: 'TAKEN' }); // PutRow replaces the whole row
    expect(otsCode(await failure(takeover(new Condition(REE.EXPECT_EXIST, or))))).toBe('OTSConditionCheckFail');

    // A JS number is a DOUBLE on the wire: comparing it with an INTEGER column is rejected loudly
    await put(c, 'a', [{ version: Long.fromNumber(2) }]);
    const typed = await failure(
      c.putRow({
        tableName: T,
        primaryKey: [{ pk: 'a' }],
        condition: new Condition(REE.EXPECT_EXIST, new SCC('version', 2, CT.EQUAL, false)),
        attributeColumns: [{ s: 'w' }],
      }),
    );
    expect([typed.code, otsCode(typed)]).toEqual([400, 'OTSParameterInvalid']);
  });

  it('updateRow DELETE_ALL and deleteRow with conditions', async () => {
    const c = client();
    await put(c, 'a', [{ status: 'RETRY' }, { lastError: 'boom' }]);
    await c.updateRow({
      tableName: T,
      primaryKey: [{ pk: 'a' }],
      condition: new Condition(REE.EXPECT_EXIST, null),
      updateOfAttributeColumns: [{ DELETE_ALL: ['lastError'] }],
    });
    expect(attrs((await get(c, 'a')).row)).toEqual({ status: 'RETRY' });
    const guard = new Condition(REE.EXPECT_EXIST, new SCC('status', 'DELIVERED', CT.EQUAL));
    expect(otsCode(await failure(c.deleteRow({ tableName: T, primaryKey: [{ pk: 'a' }], condition: guard })))).toBe(
      'OTSConditionCheckFail',
    );
    await c.deleteRow({ tableName: T, primaryKey: [{ pk: 'a' }], condition: new Condition(REE.IGNORE, null) });
    expect((await get(c, 'a')).row).toEqual({});
  });
});

describe('batches', () => {
  beforeEach(async () => {
    await start();
    await createTable(client());
  });

  it('batchWriteRow reports per-row string codes; batchGetRow hits, misses and per-row errors', async () => {
    const c = client();
    await put(c, 'dup', [{ status: 'SENDING' }, { version: Long.fromNumber(1) }]);
    await put(c, 'c', [{ status: 'OLD' }]);
    const claim = new Condition(REE.EXPECT_NOT_EXIST, null);
    const bw = await c.batchWriteRow({
      tables: [
        {
          tableName: T,
          rows: [
            { type: 'PUT', condition: claim, primaryKey: [{ pk: 'new' }], attributeColumns: [{ status: 'SENDING' }] },
            { type: 'PUT', condition: claim, primaryKey: [{ pk: 'dup' }], attributeColumns: [{ status: 'SENDING' }] },
            {
              type: 'UPDATE',
              condition: new Condition(REE.EXPECT_EXIST, new SCC('version', Long.fromNumber(1), CT.EQUAL, false)),
              primaryKey: [{ pk: 'dup' + '2' }],
              attributeColumns: [{ PUT: [{ status: 'Y' }] }],
            },
            { type: 'DELETE', condition: new Condition(REE.IGNORE, null), primaryKey: [{ pk: 'c' }] },
          ],
        },
      ],
    });
    expect(bw.tables.map((r) => [r.isOk, r.errorCode])).toEqual([
      [true, null],
      [false, 'OTSConditionCheckFail'],
      [false, 'OTSConditionCheckFail'],
      [true, null],
    ]);

    const bg = await c.batchGetRow({
      tables: [
        { tableName: T, primaryKey: [[{ pk: 'new' }], [{ pk: 'dup' }], [{ pk: 'c' }]], maxVersions: 1 },
        { tableName: 'no_such_table', primaryKey: [[{ pk: 'x' }]], maxVersions: 1 },
      ],
    });
    const [rows, missingTable] = bg.tables;
    expect(rows?.map((r) => [r.isOk, r.primaryKey?.[0]?.value ?? null])).toEqual([
      [true, 'new'],
      [true, 'dup'],
      [true, null],
    ]);
    expect(attrs(rows?.[1] as SdkRowResult)).toEqual({ status: 'SENDING', version: '1' });
    expect(missingTable?.[0]).toMatchObject({ isOk: false, errorCode: 'OTSObjectNotExist' });
  });

  it('SDK trap: a batch row without a condition fails client-side with a TypeError (no request sent)', async () => {
    const rows = [{ type: 'PUT', primaryKey: [{ pk: 'a' }], attributeColumns: [{ s: 'x' }] }];
    const err = await failure(client().batchWriteRow({ tables: [{ tableName: T, rows }] }));
    expect(err.code).toBeUndefined();
    expect(err.message).toContain('rowExistence');
    expect(fake.stats.snapshot().requests.BatchWriteRow).toBeUndefined();
  });

  it('rejects duplicate keys in one batch and more than 200 rows', async () => {
    const c = client();
    const row = (pk: string) => ({
      type: 'PUT',
      condition: new Condition(REE.IGNORE, null),
      primaryKey: [{ pk }],
      attributeColumns: [{ s: 'x' }],
    });
    const dup = await failure(c.batchWriteRow({ tables: [{ tableName: T, rows: [row('a'), row('a')] }] }));
    expect([dup.code, otsCode(dup)]).toEqual([400, 'OTSParameterInvalid']);
    const many = Array.from({ length: 201 }, (_, i) => row(`k${i}`));
    expect(otsCode(await failure(c.batchWriteRow({ tables: [{ tableName: T, rows: many }] })))).toBe(
      'OTSParameterInvalid',
    );
    expect(fake.tables.count(T)).toBe(0);
  });
});

describe('getRange', () => {
  beforeEach(async () => {
    await start();
  });

  it('pages with limit forward and backward, INF bounds, exclusive end, columnsToGet', async () => {
    const c = client();
    await createTable(c);
    for (let i = 0; i < 7; i++) await put(c, `k${i}`, [{ n: Long.fromNumber(i) }, { extra: 'x' }]);
    const scan = async (direction: 'FORWARD' | 'BACKWARD', start: unknown, end: unknown, limit: number) => {
      const seen: string[] = [];
      let next: Array<Record<string, unknown>> | null = [{ pk: start }];
      let pages = 0;
      while (next) {
        const page = await c.getRange({
          tableName: T,
          direction,
          inclusiveStartPrimaryKey: next,
          exclusiveEndPrimaryKey: [{ pk: end }],
          limit,
          maxVersions: 1,
          columnsToGet: ['n'],
        });
        pages++;
        for (const r of page.rows) {
          expect(Object.keys(attrs(r))).toEqual(['n']);
          seen.push(String(r.primaryKey?.[0]?.value));
        }
        next = page.nextStartPrimaryKey?.map((col) => ({ [col.name]: col.value })) ?? null;
      }
      return { seen, pages };
    };
    const all = ['k0', 'k1', 'k2', 'k3', 'k4', 'k5', 'k6'];
    expect(await scan('FORWARD', TableStore.INF_MIN, TableStore.INF_MAX, 3)).toEqual({ seen: all, pages: 3 });
    expect(await scan('BACKWARD', TableStore.INF_MAX, TableStore.INF_MIN, 2)).toEqual({
      seen: [...all].reverse(),
      pages: 4,
    });
    expect((await scan('FORWARD', 'k2', 'k5', 10)).seen).toEqual(['k2', 'k3', 'k4']);
    expect((await scan('BACKWARD', 'k5', 'k2', 10)).seen).toEqual(['k5', 'k4', 'k3']);
  });

  it('multi-column due index: range on [shard, dueAt, pk], filter, scan cap gives empty pages with a next key', async () => {
    await fake.close();
    await start({ scanLimit: 4 });
    const c = client();
    await c.createTable({
      tableMeta: {
        tableName: 'due',
        primaryKey: [
          { name: 'shard', type: 'INTEGER' },
          { name: 'dueAt', type: 'INTEGER' },
          { name: 'pk', type: 'STRING' },
        ],
      },
      reservedThroughput: { capacityUnit: { read: 0, write: 0 } },
      tableOptions: { timeToLive: -1, maxVersions: 1 },
    });
    fake.tables.seed(
      'due',
      Array.from({ length: 10 }, (_, i) => ({
        pk: { shard: 0n, dueAt: BigInt(1000 + i), pk: `d${i}` },
        attrs: { status: i === 9 ? 'RETRY' : 'DELIVERED' },
      })),
    );
    const L = (n: number) => Long.fromNumber(n);
    let next: Array<Record<string, unknown>> | null = [
      { shard: L(0) },
      { dueAt: TableStore.INF_MIN },
      { pk: TableStore.INF_MIN },
    ];
    const pages: number[] = [];
    const found: string[] = [];
    while (next) {
      const page = await c.getRange({
        tableName: 'due',
        direction: 'FORWARD',
        inclusiveStartPrimaryKey: next,
        exclusiveEndPrimaryKey: [{ shard: L(0) }, { dueAt: L(1010) }, { pk: TableStore.INF_MIN }],
        limit: 100,
        maxVersions: 1,
        columnFilter: new SCC('status', 'RETRY', CT.EQUAL, false),
      });
      pages.push(page.rows.length);
      for (const r of page.rows) found.push(String(r.primaryKey?.[2]?.value));
      next = page.nextStartPrimaryKey?.map((col) => ({ [col.name]: col.value })) ?? null;
    }
    expect(found).toEqual(['d9']);
    expect(pages).toEqual([0, 0, 1]); // 4 + 4 + 2 rows scanned
    expect(fake.stats.rowsRead).toBe(10);
  });
});

describe('TTL with the injected clock', () => {
  it('expires cells per write time; expired rows are gone for reads and conditions', async () => {
    clock = 1_700_000_000_000;
    await start();
    const c = client();
    await createTable(c, T, 86400);
    await put(c, 'a', [{ status: 'SENDING' }]);
    clock += DAY / 2;
    await c.updateRow({
      tableName: T,
      primaryKey: [{ pk: 'a' }],
      condition: new Condition(REE.EXPECT_EXIST, null),
      updateOfAttributeColumns: [{ PUT: [{ touched: 'yes' }] }],
    });
    clock += DAY / 2; // status written exactly one TTL ago: expired; touched survives (partial expiry)
    expect(attrs((await get(c, 'a')).row)).toEqual({ touched: 'yes' });
    clock += DAY / 2;
    expect((await get(c, 'a')).row).toEqual({});
    const range = await c.getRange({
      tableName: T,
      direction: 'FORWARD',
      inclusiveStartPrimaryKey: [{ pk: TableStore.INF_MIN }],
      exclusiveEndPrimaryKey: [{ pk: TableStore.INF_MAX }],
      maxVersions: 1,
    });
    expect(range.rows).toEqual([]);
    await put(c, 'a', [{ status: 'NEW' }], REE.EXPECT_NOT_EXIST); // the expired row no longer exists
    expect(fake.tables.get(T, { pk: 'a' })?.attrs).toEqual({ status: 'NEW' });
  });
});

describe('faults', () => {
  beforeEach(async () => {
    await start({ seed: 42 });
    await createTable(client());
  });

  it('answers injected errors; the SDK retries reads (not writes) on 503', async () => {
    fake.faults.add({ op: 'PutRow', action: { kind: 'error', code: 'OTSServerBusy' } });
    const busy = await failure(put(client(), 'a', [{ s: 'x' }]));
    expect([busy.code, otsCode(busy)]).toEqual([503, 'OTSServerBusy']);
    expect(fake.tables.get(T, { pk: 'a' })).toBeUndefined();
    await put(client(), 'a', [{ s: 'x' }]); // the fault was for one request only

    fake.stats.reset();
    fake.faults.add({ op: 'GetRow', times: 2, action: { kind: 'error', code: 'OTSInternalServerError' } });
    expect(attrs((await get(client({ maxRetries: 2 }), 'a')).row)).toEqual({ s: 'x' });
    expect(fake.stats.snapshot().requests.GetRow).toBe(3);
    expect(fake.stats.snapshot().errors.OTSInternalServerError).toBe(2);

    const h = fake.faults.add({ op: 'PutRow', action: { kind: 'error', code: 'OTSConditionCheckFail' } });
    expect((await failure(put(client(), 'z', [{ s: 'x' }]))).code).toBe(403);
    expect([h.fired, h.remaining, fake.faults.active]).toEqual([1, 0, 0]);
  });

  it('hang: the client socket timeout fires (NetworkingError) and close() still returns', async () => {
    fake.faults.add({ op: 'GetRow', action: { kind: 'hang' } });
    const started = Date.now();
    const err = await failure(get(client({ timeout: 200 }), 'a'));
    expect(err.code).toBe('NetworkingError');
    expect(err.message).toContain('timed out after 200ms');
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('reset: a destroyed connection is a NetworkingError', async () => {
    fake.faults.add({ op: 'PutRow', action: { kind: 'reset' } });
    const err = await failure(put(client(), 'a', [{ s: 'x' }]));
    expect(err.code).toBe('NetworkingError');
    expect(fake.tables.get(T, { pk: 'a' })).toBeUndefined();
  });

  it('landed-but-error writes are visible on read (error, hang, reset variants)', async () => {
    fake.faults.add({ op: 'PutRow', action: { kind: 'landThenError', code: 'OTSInternalServerError' } });
    const e1 = await failure(put(client(), 'a', [{ leaseOwner: 'me' }], REE.EXPECT_NOT_EXIST));
    expect([e1.code, otsCode(e1)]).toEqual([500, 'OTSInternalServerError']);
    expect(attrs((await get(client(), 'a')).row)).toEqual({ leaseOwner: 'me' });
    // the retry of the ambiguous claim now fails its condition: read leaseOwner to see it was ours
    expect(otsCode(await failure(put(client(), 'a', [{ leaseOwner: 'me' }], REE.EXPECT_NOT_EXIST)))).toBe(
      'OTSConditionCheckFail',
    );

    fake.faults.add({ op: 'PutRow', action: { kind: 'landThenHang' } });
    expect((await failure(put(client({ timeout: 200 }), 'b', [{ s: 'x' }]))).code).toBe('NetworkingError');
    fake.faults.add({ op: 'BatchWriteRow', action: { kind: 'landThenReset' } });
    const rows = [
      {
        type: 'PUT',
        condition: new Condition(REE.IGNORE, null),
        primaryKey: [{ pk: 'c' }],
        attributeColumns: [{ s: 'y' }],
      },
    ];
    expect((await failure(client().batchWriteRow({ tables: [{ tableName: T, rows }] }))).code).toBe('NetworkingError');
    expect(fake.tables.rows(T).map((r) => r.pk.pk)).toEqual(['a', 'b', 'c']);
  });

  it('per-row batch faults, predicates, skip/times and seeded probability', async () => {
    const row = (pk: string) => ({
      type: 'PUT',
      condition: new Condition(REE.IGNORE, null),
      primaryKey: [{ pk }],
      attributeColumns: [{ s: 'x' }],
    });
    fake.faults.add({
      op: 'BatchWriteRow',
      action: { kind: 'rowError', code: 'OTSServerBusy', rows: (_t, pk) => pk.pk === 'b' },
    });
    const bw = await client().batchWriteRow({ tables: [{ tableName: T, rows: [row('a'), row('b'), row('c')] }] });
    expect(bw.tables.map((r) => r.errorCode)).toEqual([null, 'OTSServerBusy', null]);
    expect(fake.tables.rows(T).map((r) => r.pk.pk)).toEqual(['a', 'c']);

    // the 2nd PutRow on key 'k' fails, only that one
    fake.faults.add({
      op: 'PutRow',
      when: (info) => info.keys[0]?.pk.pk === 'k',
      skip: 1,
      action: { kind: 'error', code: 'OTSServerBusy' },
    });
    await put(client(), 'k', [{ s: '1' }]);
    await put(client(), 'other', [{ s: '1' }]);
    expect(otsCode(await failure(put(client(), 'k', [{ s: '2' }])))).toBe('OTSServerBusy');
    await put(client(), 'k', [{ s: '3' }]);

    const outcomes = async () => {
      const out: boolean[] = [];
      for (let i = 0; i < 12; i++)
        out.push(
          await get(client(), 'a').then(
            () => true,
            () => false,
          ),
        );
      return out;
    };
    const rule = { op: 'GetRow' as const, times: Number.POSITIVE_INFINITY, probability: 0.5 };
    fake.faults.add({ ...rule, action: { kind: 'error', code: 'OTSServerBusy' } });
    const first = await outcomes();
    expect(first).toContain(true);
    expect(first).toContain(false);
    await fake.close();
    await start({ seed: 42 });
    await createTable(client());
    fake.faults.add({ ...rule, action: { kind: 'error', code: 'OTSServerBusy' } });
    expect(await outcomes()).toEqual(first); // same seed, same sequence
  });

  it('delay answers late but correctly', async () => {
    fake.faults.add({ op: 'PutRow', action: { kind: 'delay', ms: 150 } });
    const started = Date.now();
    await put(client(), 'a', [{ s: 'x' }]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });
});

describe('stats and seeding', () => {
  it('counts requests and rows; rows read stay flat while history grows', async () => {
    await start();
    const c = client();
    await createTable(c, 'history');
    await c.createTable({
      tableMeta: {
        tableName: 'due',
        primaryKey: [
          { name: 'dueAt', type: 'INTEGER' },
          { name: 'pk', type: 'STRING' },
        ],
      },
      reservedThroughput: { capacityUnit: { read: 0, write: 0 } },
      tableOptions: { timeToLive: -1, maxVersions: 1 },
    });
    fake.tables.seed(
      'due',
      Array.from({ length: 10 }, (_, i) => ({ pk: { dueAt: BigInt(i), pk: `due${i}` }, attrs: { status: 'PENDING' } })),
    );
    const relayRun = async () => {
      fake.stats.reset();
      const page = await c.getRange({
        tableName: 'due',
        direction: 'FORWARD',
        inclusiveStartPrimaryKey: [{ dueAt: TableStore.INF_MIN }, { pk: TableStore.INF_MIN }],
        exclusiveEndPrimaryKey: [{ dueAt: Long.fromNumber(clock) }, { pk: TableStore.INF_MIN }],
        limit: 200,
        maxVersions: 1,
      });
      expect(page.rows).toHaveLength(10);
      return fake.stats.snapshot();
    };
    const seedHistory = (from: number, to: number) =>
      fake.tables.seed(
        'history',
        Array.from({ length: to - from }, (_, i) => ({
          pk: { pk: `h${(from + i).toString().padStart(6, '0')}` },
          attrs: { status: 'DELIVERED', version: 3n, event: '{"summary":"x"}' },
        })),
      );
    seedHistory(0, 1000);
    const small = await relayRun();
    const t0 = Date.now();
    seedHistory(1000, 20_000);
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(fake.tables.count('history')).toBe(20_000);
    const large = await relayRun();
    expect([small.rowsRead, large.rowsRead]).toEqual([10, 10]);
    expect(large.byTable.history).toBeUndefined();
    expect(large.requests).toEqual({ GetRange: 1 });

    fake.stats.reset();
    await c.putRow({
      tableName: 'history',
      condition: new Condition(REE.IGNORE, null),
      primaryKey: [{ pk: 'h000001' }],
      attributeColumns: [{ status: 'X' }],
    });
    await c.getRow({ tableName: 'history', primaryKey: [{ pk: 'h000001' }], maxVersions: 1 });
    await c.getRow({ tableName: 'history', primaryKey: [{ pk: 'absent' }], maxVersions: 1 });
    const s = fake.stats.snapshot();
    expect(s).toMatchObject({ rowsWritten: 1, rowsRead: 1, rowsReturned: 1, requests: { PutRow: 1, GetRow: 2 } });
    expect(fake.stats.log.map((l) => [l.op, l.status])).toEqual([
      ['PutRow', 200],
      ['GetRow', 200],
      ['GetRow', 200],
    ]);
    expect(fake.tables.get('history', { pk: 'h000001' })?.attrs).toEqual({ status: 'X' });
  });
});
