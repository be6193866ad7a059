/**
 * The trimmed protobuf module the function bundles use in place of the SDK's (`shared/store/tablestore/protocol/tablestoreProto.js`,
 * `npm run proto`, aliased by scripts/build.mjs): generated for the installed SDK, still what the generator writes,
 * and encoding and decoding the messages of the functions' calls exactly as the SDK's full module does. That the SDK
 * runs on it end to end is held by tests/integration/adapters/tablestoreProtoBundle.test.ts (the built bundles on the fake).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(__dirname, '..', '..', '..');
const TRIMMED = join(root, 'shared/store/tablestore/protocol/tablestoreProto.js');
const requireFromRoot = createRequire(join(root, 'package.json'));
const sdkDir = dirname(requireFromRoot.resolve('tablestore/package.json'));

interface MessageType {
  create(properties: unknown): unknown;
  encode(message: unknown): { finish(): Uint8Array };
  decode(bytes: Uint8Array): unknown;
}
type Module = Record<'main' | 'filter', { proto: Record<string, MessageType & Record<string, unknown>> }>;
const trimmed = requireFromRoot(TRIMMED) as Module;
const full = createRequire(join(sdkDir, 'package.json'))('./lib/protocol/tablestore_compiled_proto.js') as Module;

const bytes = (...values: number[]) => Buffer.from(values);
const consumed = { capacityUnit: { read: 1, write: 0 } };

/** Requests the SDK encodes on the functions' calls, and responses it decodes, with every field they use. */
const REQUESTS: Array<[pkg: 'main' | 'filter', name: string, properties: Record<string, unknown>]> = [
  [
    'main',
    'BatchWriteRowRequest',
    {
      tables: [
        {
          tableName: 'alert_delivery',
          rows: [
            {
              type: 1,
              rowChange: bytes(0x75, 1, 2),
              condition: { rowExistence: 2, columnCondition: bytes(3, 4) },
              returnContent: { returnType: 1 },
            },
            { type: 3, rowChange: bytes(0x75, 5), condition: { rowExistence: 1 } },
          ],
        },
      ],
    },
  ],
  ['main', 'BatchGetRowRequest', { tables: [{ tableName: 'alert_delivery', primaryKey: [bytes(1), bytes(2)] }] }],
  [
    'main',
    'GetRangeRequest',
    {
      tableName: 'alert_delivery',
      direction: 0,
      columnsToGet: ['status', 'dueAt'],
      maxVersions: 1,
      limit: 100,
      inclusiveStartPrimaryKey: bytes(0x75, 1),
      exclusiveEndPrimaryKey: bytes(0x75, 2),
      filter: bytes(7),
    },
  ],
  ['filter', 'Filter', { type: 2, filter: bytes(8, 9) }],
  ['filter', 'CompositeColumnValueFilter', { combinator: 2, subFilters: [{ type: 1, filter: bytes(1) }] }],
  [
    'filter',
    'SingleColumnValueFilter',
    { comparator: 6, columnName: 'leaseUntil', columnValue: bytes(3), filterIfMissing: true, latestVersionOnly: true },
  ],
  ['filter', 'ColumnPaginationFilter', { offset: 0, limit: 1 }],
];
const RESPONSES: Array<[name: string, properties: Record<string, unknown>]> = [
  [
    'BatchWriteRowResponse',
    {
      tables: [
        {
          tableName: 'alert_delivery',
          rows: [
            { isOk: true, consumed, row: bytes(0x75) },
            { isOk: false, error: { code: 'OTSConditionCheckFail', message: 'Condition check failed.' } },
          ],
        },
      ],
    },
  ],
  [
    'BatchGetRowResponse',
    { tables: [{ tableName: 'alert_delivery', rows: [{ isOk: true, consumed, row: bytes(0x75, 1) }] }] },
  ],
  ['GetRangeResponse', { consumed, rows: bytes(0x75, 2), nextStartPrimaryKey: bytes(0x75, 3) }],
];

const encode = (module: Module, pkg: 'main' | 'filter', name: string, properties: unknown) => {
  const type = module[pkg].proto[name] as MessageType;
  return Buffer.from(type.encode(type.create(properties)).finish());
};

/** A decoded message as plain data: own fields only (the SDK's module adds toJSON), bytes as arrays. */
function plain(value: unknown): unknown {
  if (value instanceof Uint8Array) return Array.from(value);
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, plain(inner)]));
  }
  return value;
}

describe('Module: shared/store/tablestore/protocol/tablestoreProto.js', () => {
  const work = mkdtempSync(join(tmpdir(), 'tablestore-proto-test-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('was generated for the tablestore SDK that is installed and locked (else: npm run proto)', () => {
    // Prepare
    const header = /^\/\/ From tablestore@(\S+) /m.exec(readFileSync(TRIMMED, 'utf8'));
    const installed = JSON.parse(readFileSync(join(sdkDir, 'package.json'), 'utf8')).version;
    const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8'));

    // Assess
    expect(header?.[1]).toBe(installed);
    expect(lock.packages['node_modules/tablestore'].version).toBe(installed);
  });

  it('is what the generator writes today (else: npm run proto)', () => {
    // Act
    const out = join(work, 'tablestoreProto.js');
    execFileSync(process.execPath, [join(root, 'scripts/generate-tablestore-proto.mjs'), out], { stdio: 'pipe' });

    // Assess
    expect(readFileSync(out, 'utf8')).toBe(readFileSync(TRIMMED, 'utf8'));
  });

  it('keeps the namespaces the SDK dereferences at load, and only a fraction of its module', () => {
    // Assess
    expect(Object.keys(trimmed).sort()).toEqual(['filter', 'main', 'search']);
    expect(statSync(TRIMMED).size).toBeLessThan(
      statSync(join(sdkDir, 'lib/protocol/tablestore_compiled_proto.js')).size / 10,
    );
    expect(trimmed.main.proto.Direction).toEqual(full.main.proto.Direction);
    expect(trimmed.filter.proto.ComparatorType).toEqual(full.filter.proto.ComparatorType);
    expect(trimmed.filter.proto.LogicalOperator).toEqual(full.filter.proto.LogicalOperator);
  });

  it.each(REQUESTS)('encodes %s.proto.%s byte for byte as the SDK’s module', (pkg, name, properties) => {
    // Act
    const ours = encode(trimmed, pkg, name, properties);

    // Assess
    expect(ours.length).toBeGreaterThan(0);
    expect(ours).toEqual(encode(full, pkg, name, properties));
  });

  it.each(RESPONSES)('decodes main.proto.%s as the SDK’s module does', (name, properties) => {
    // Prepare
    const wire = encode(full, 'main', name, properties);

    // Act
    const ours = (trimmed.main.proto[name] as MessageType).decode(wire);

    // Assess
    expect(plain(ours)).toEqual(plain((full.main.proto[name] as MessageType).decode(wire)));
    expect(encode(trimmed, 'main', name, ours)).toEqual(wire);
  });
});
