#!/usr/bin/env node
// npm run proto: regenerates shared/store/tablestore/protocol/tablestoreProto.js, the trimmed protobuf module the function bundles
// use in place of the tablestore SDK's lib/protocol/tablestore_compiled_proto.js (652 KiB minified, every API).
//
// Generated from the SDK's own .proto files with protobufjs-cli's static code generator (pbjs -t static-module, as the
// SDK's build_proto.sh does), keeping only the messages the SDK's encoder and decoder touch for the calls the
// functions make (BatchWriteRow, BatchGetRow, GetRange) and the filter messages and enums its condition encoding and
// filter.js use, with everything they reference. The SDK reads `search.proto` at module scope (encoder.js,
// decoder.js), so that namespace stays, empty. The header names the SDK version it was generated from;
// tests/unit/tablestoreProto.test.ts fails when the installed SDK differs, or when this output does.
//
//   node scripts/generate-tablestore-proto.mjs [outfile]   (default: the committed module)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));
const outfile = resolve(process.argv[2] ?? join(root, 'shared/store/tablestore/protocol/tablestoreProto.js'));

/** Types the SDK reaches on the functions' calls; their dependencies are added by the walk below. */
const KEEP = [
  // encoder.js encodeBatchWriteRow / encodeBatchGetRow / encodeGetRange, decoder.js decodeBatchWriteRow / …
  'main.proto.BatchWriteRowRequest',
  'main.proto.BatchWriteRowResponse',
  'main.proto.BatchGetRowRequest',
  'main.proto.BatchGetRowResponse',
  'main.proto.GetRangeRequest',
  'main.proto.GetRangeResponse',
  'main.proto.Direction',
  // encoder.js _makeColumnCondition and friends; filter.js reads the two enums at module scope
  'filter.proto.Filter',
  'filter.proto.FilterType',
  'filter.proto.SingleColumnValueFilter',
  'filter.proto.CompositeColumnValueFilter',
  'filter.proto.ColumnPaginationFilter',
  'filter.proto.ComparatorType',
  'filter.proto.LogicalOperator',
];
/** Namespaces the SDK dereferences at load even when none of their types is used. */
const EMPTY_NAMESPACES = ['search.proto'];

const sdkDir = dirname(require.resolve('tablestore/package.json'));
const sdkVersion = JSON.parse(readFileSync(join(sdkDir, 'package.json'), 'utf8')).version;
const protocolDir = join(sdkDir, 'lib/protocol');
const protoFiles = ['tablestore.proto', 'tablestore_filter.proto'];
// The generator's own protobufjs (protobufjs-cli's peer), for reading the .proto files the same way pbjs does.
const protobuf = require('protobufjs');

const full = new protobuf.Root();
full.loadSync(
  protoFiles.map((file) => join(protocolDir, file)),
  { keepCase: false },
);
full.resolveAll();

/** Full names (no leading dot) of the kept types, closed over field, map and nested references. */
const kept = new Set();
function keep(type) {
  const name = type.fullName.slice(1);
  if (kept.has(name)) return;
  kept.add(name);
  if (type instanceof protobuf.Type) {
    for (const field of type.fieldsArray) if (field.resolvedType) keep(field.resolvedType);
    for (const nested of type.nestedArray) keep(nested);
  }
  // A nested type keeps its parent message (its code is generated inside it).
  if (type.parent instanceof protobuf.Type) keep(type.parent);
}
for (const name of KEEP) {
  const type = full.lookup(name);
  if (!(type instanceof protobuf.Type || type instanceof protobuf.Enum)) throw new Error(`no type ${name} in the SDK`);
  keep(type);
}

/** The reflection JSON of `namespace`, keeping only kept types (and the namespaces leading to them). */
function prune(namespace) {
  const nested = {};
  for (const child of namespace.nestedArray) {
    const name = child.fullName.slice(1);
    if (child instanceof protobuf.Type || child instanceof protobuf.Enum) {
      if (kept.has(name)) nested[child.name] = child.toJSON();
    } else if (child instanceof protobuf.Namespace) {
      const inner = prune(child);
      if (Object.keys(inner.nested ?? {}).length > 0) nested[child.name] = inner;
    }
  }
  return { nested };
}
const json = prune(full);
for (const path of EMPTY_NAMESPACES) {
  let at = json;
  for (const part of path.split('.')) {
    at.nested[part] ??= { nested: {} };
    at = at.nested[part];
  }
}

const work = mkdtempSync(join(tmpdir(), 'tablestore-proto-'));
try {
  const input = join(work, 'tablestore.json');
  writeFileSync(input, JSON.stringify(json));
  const pbjs = join(dirname(require.resolve('protobufjs-cli/package.json')), 'bin/pbjs');
  const code = execFileSync(
    process.execPath,
    [
      pbjs,
      ...['-t', 'static-module', '-w', 'commonjs'],
      // Only what the SDK calls: create, encode, decode (no verify, from/toObject, delimited forms, JSDoc).
      ...['--no-verify', '--no-convert', '--no-delimited', '--no-comments', '--no-service', '--no-typeurl'],
      input,
    ],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  const cliVersion = JSON.parse(readFileSync(require.resolve('protobufjs-cli/package.json'), 'utf8')).version;
  const header =
    `// Generated by scripts/generate-tablestore-proto.mjs (npm run proto): do not edit.\n` +
    `// From tablestore@${sdkVersion} lib/protocol/{${protoFiles.join(',')}} with protobufjs-cli@${cliVersion} pbjs.\n` +
    `// Types: ${KEEP.join(', ')} and what they reference; ${EMPTY_NAMESPACES.join(', ')} left empty.\n`;
  writeFileSync(outfile, header + code);
  console.log(`wrote ${relative(root, outfile)} (${kept.size} types, tablestore@${sdkVersion})`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
