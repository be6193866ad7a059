#!/usr/bin/env node
// npm run build: bundles each function into dist/<function>/index.js for Function Compute 3.0 (nodejs20).
//
// CommonJS, because the tablestore SDK breaks as ESM (shared/reference: tablestore.md §8); a {"type":"commonjs"}
// package.json beside each bundle makes Node load it the same way locally and on FC, whatever the repo root says.
// The JSON Schemas are compiled to standalone validators first, so no function compiles a schema at cold start.
//
// A function's folder holds its bundle as app.js, a V8 code cache of it (app.cache, taken after one first invocation:
// scripts/codeCache/produce.ts) and index.js, the loader FC requires (scripts/codeCache/loader.cjs): the cold start
// deserializes the compiled bundle and what its first invocation runs; a cache V8 refuses (another Node version or V8
// flags) costs one log line and the compile it would have cost anyway.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { packageRoutesFile } from './build/routesFile.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** Loaded lazily by the webhook (the kick); bundled apart from the function's index.js. */
const LAZY_SDK = '@alicloud/fc2';
/**
 * The function bundles take the SDK's protobuf from shared/store/tablestore/protocol/tablestoreProto.js (npm run proto): only the
 * messages of the calls the functions make, instead of the SDK's 652 KiB module for every Tablestore API. The infra
 * and ops tools keep the full module (infra:tablestore creates and describes tables).
 */
const TRIMMED_PROTO = join(root, 'shared/store/tablestore/protocol/tablestoreProto.js');
const sdkProtocolDir = join(dirname(createRequire(join(root, 'package.json')).resolve('tablestore')), 'lib/protocol');

/** Resolves the SDK's compiled protobuf to the trimmed one, and that one's protobufjs runtime to the SDK's own. */
const trimmedTablestoreProto = {
  name: 'trimmed-tablestore-proto',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /[/\\]tablestore_compiled_proto\.js$/ }, (args) =>
      resolve(args.resolveDir, args.path) === join(sdkProtocolDir, 'tablestore_compiled_proto.js')
        ? { path: TRIMMED_PROTO }
        : undefined,
    );
    // protobufjs-cli (the generator) brings protobufjs 7 to the top of node_modules; the runtime stays the SDK's.
    pluginBuild.onResolve({ filter: /^protobufjs\/minimal$/ }, (args) =>
      args.importer === TRIMMED_PROTO
        ? pluginBuild.resolve(args.path, { kind: args.kind, resolveDir: sdkProtocolDir })
        : undefined,
    );
  },
};

/**
 * @middy/core imports `node:stream/web` at its top for Lambda's response streaming, which FC never uses: the function
 * bundles get it on first use instead, so no cold start compiles Node's web streams (its `node:stream` imports are
 * loaded by `node:http` anyway).
 */
const LAZY_BUILTINS = { 'node:stream/web': ['ReadableStream'] };
const lazyMiddyBuiltins = {
  name: 'lazy-middy-builtins',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /^node:stream\/web$/ }, (args) =>
      /[/\\]@middy[/\\]core[/\\]/.test(args.importer) ? { path: args.path, namespace: 'lazy-builtin' } : undefined,
    );
    pluginBuild.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, (args) => ({
      contents: `module.exports = {${LAZY_BUILTINS[args.path]
        .map((name) => `get ${name}() { return require(${JSON.stringify(args.path)}).${name}; }`)
        .join(', ')}};`,
      loader: 'js',
    }));
  },
};

/**
 * No DEP0005 ("Buffer() is deprecated") on every cold start: Node prints it for `new Buffer()` called from outside
 * node_modules, which every call from a bundle is. The dependencies' `buffer` module is `bufferShim.cjs`, and so is
 * int64-buffer's global `Buffer`: their constructor calls make the same bytes through `Buffer.alloc`/`Buffer.from`.
 * The SDK's protobufjs 6 makes an empty bytes field with `new this.buf.constructor(0)`: that one call becomes
 * `this.buf.slice(0, 0)`, the same empty value of the same class (a build fails if the line is gone). Our own code
 * keeps Node's module.
 */
const EMPTY_BYTES = 'new this.buf.constructor(0)';
const BUFFER_SHIM = join(root, 'scripts/bufferShim.cjs');
const quietBuffer = {
  name: 'quiet-buffer',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /^(node:)?buffer$/ }, (args) =>
      /[/\\]node_modules[/\\]/.test(args.importer) ? { path: BUFFER_SHIM } : undefined,
    );
    pluginBuild.onLoad({ filter: /[/\\]node_modules[/\\]int64-buffer[/\\]int64-buffer\.js$/ }, (args) => ({
      contents: `var Buffer = require(${JSON.stringify(BUFFER_SHIM)}).Buffer;\n${readFileSync(args.path, 'utf8')}`,
      loader: 'js',
    }));
    pluginBuild.onLoad(
      { filter: /[/\\]tablestore[/\\]node_modules[/\\]protobufjs[/\\]src[/\\]reader\.js$/ },
      (args) => {
        const source = readFileSync(args.path, 'utf8');
        if (!source.includes(EMPTY_BYTES))
          throw new Error(`${args.path} no longer has ${EMPTY_BYTES}: review quietBuffer`);
        return { contents: source.replace(EMPTY_BYTES, 'this.buf.slice(0, 0)'), loader: 'js' };
      },
    );
  },
};

/** One bundle per function folder, plus the operator scripts that run from dist/. */
const entries = [
  ...readdirSync(join(root, 'functions'), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => ({
      name: entry.name,
      entry: join(root, 'functions', entry.name, 'index.ts'),
      outName: 'app.js',
      full: false,
      codeCache: true,
    })),
  { name: 'infra', full: true, entry: join(root, 'infra', 'tablestore.ts'), outName: 'tablestore.js', optional: true },
  { name: 'ops', entry: join(root, 'scripts/ops/status.ts'), outName: 'status.js' },
  { name: 'ops', entry: join(root, 'scripts/ops/redrive.ts'), outName: 'redrive.js' },
  { name: 'ops', entry: join(root, 'scripts/ops/sendTest.ts'), outName: 'sendTest.js' },
  { name: 'ops', entry: join(root, 'scripts/ops/routes.ts'), outName: 'routes.js' },
  { name: 'ops', entry: join(root, 'scripts/ops/checkConfig.ts'), outName: 'checkConfig.js' },
  { name: 'ops', entry: join(root, 'scripts/ops/trace.ts'), outName: 'trace.js' },
  // npm start: ES modules (the runtime imports each function's bundle, and finds its worker beside itself).
  { name: 'local-runtime', entry: join(root, 'scripts/local-runtime/main.ts'), outName: 'index.mjs', format: 'esm' },
  {
    name: 'local-runtime',
    entry: join(root, 'scripts/local-runtime/instanceWorker.ts'),
    outName: 'instanceWorker.mjs',
    format: 'esm',
  },
];

execFileSync(process.execPath, [join(root, 'scripts/compile-schemas.mjs')], { stdio: 'inherit' });

const rows = [];
/** Output folders emptied so far: several entries may share one (dist/ops). */
const emptied = new Set();
/**
 * The code-cache producer (scripts/codeCache/produce.ts, which trains each function's cache on one first invocation
 * against the test fakes), bundled once per build into node_modules/.cache, where the fakes' `tablestore` resolves.
 */
const codeCacheProducer = join(root, 'node_modules/.cache/code-cache/produce.cjs');
await build({
  entryPoints: [join(root, 'scripts/codeCache/produce.ts')],
  outfile: codeCacheProducer,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  external: ['tablestore'],
  // The test fakes use import.meta.url (ESM); in this CommonJS bundle it is the bundle's own URL.
  define: { 'import.meta.url': '__producerUrl' },
  banner: { js: "const __producerUrl = require('node:url').pathToFileURL(__filename).href;" },
  logLevel: 'warning',
});

for (const { name, entry, outName = 'index.js', optional, full = true, codeCache = false, format = 'cjs' } of entries) {
  try {
    statSync(entry);
  } catch {
    if (optional) continue;
    throw new Error(`missing entry point ${relative(root, entry)}`);
  }
  const outDir = join(root, 'dist', name);
  if (!emptied.has(outDir)) rmSync(outDir, { recursive: true, force: true });
  emptied.add(outDir);
  mkdirSync(outDir, { recursive: true });
  const outfile = join(outDir, outName);
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format,
    minify: true,
    sourcemap: true,
    // Keep function names: stack traces and Middy's middleware names stay readable in FC logs.
    keepNames: true,
    // urllib (pulled by @alicloud/fc2) asks for an optional proxy-agent it never needs here. The FC SDK itself is
    // bundled on its own, beside the function (below): it loads only on the first kick, and keeping its 1.3 MB out of
    // index.js keeps it out of every cold start's parse.
    external: ['proxy-agent', LAZY_SDK],
    logLevel: 'warning',
    legalComments: 'none',
    plugins: full ? [quietBuffer] : [trimmedTablestoreProto, lazyMiddyBuiltins, quietBuffer],
    // The CommonJS packages inside an ES module bundle (yaml) require Node's built-ins: give them a require.
    ...(format === 'esm'
      ? {
          banner: {
            js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
          },
        }
      : {}),
  });
  if (format === 'cjs') writeFileSync(join(outDir, 'package.json'), `${JSON.stringify({ type: 'commonjs' })}\n`);
  rows.push([relative(root, outfile), statSync(outfile).size]);
  if (codeCache) {
    copyFileSync(join(root, 'scripts/codeCache/loader.cjs'), join(outDir, 'index.js'));
    execFileSync(process.execPath, [codeCacheProducer, outDir, name], {
      cwd: root,
      env: { PATH: process.env.PATH ?? '' },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    rows.push([relative(root, join(outDir, 'app.cache')), statSync(join(outDir, 'app.cache')).size]);
  }
  if (readFileSync(outfile, 'utf8').includes(`require("${LAZY_SDK}")`)) {
    // Resolved by Node from dist/<fn>/index.js as a package: the code package FC gets is the whole folder.
    const sdkDir = join(outDir, 'node_modules', LAZY_SDK);
    await build({
      entryPoints: [LAZY_SDK],
      outfile: join(sdkDir, 'index.js'),
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      minify: true,
      external: ['proxy-agent'],
      logLevel: 'error',
      legalComments: 'none',
    });
    writeFileSync(
      join(sdkDir, 'package.json'),
      `${JSON.stringify({ name: LAZY_SDK, main: 'index.js', type: 'commonjs' })}\n`,
    );
    rows.push([relative(root, join(sdkDir, 'index.js')), statSync(join(sdkDir, 'index.js')).size]);
  }
}

const functionDirs = entries.filter((entry) => entry.codeCache).map((entry) => join(root, 'dist', entry.name));
for (const line of packageRoutesFile(process.env.PAGERDUTY_ROUTES_FILE, root, functionDirs)) console.log(line);

const width = Math.max(...rows.map(([file]) => file.length));
for (const [file, bytes] of rows) {
  console.log(`${file.padEnd(width)}  ${(bytes / 1024).toFixed(1).padStart(8)} KiB`);
}
