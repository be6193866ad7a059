#!/usr/bin/env node
// npm run bench: measures the bridge against the targets of issues 8 and 12 and writes bench/results/latest.json and
// BENCHMARKS.md (see bench/src/options.ts for BENCH_QUICK, BENCH_ONLY, BENCH_STORE, BENCH_OUT). Expects built bundles
// (`npm run bench` runs scripts/build.mjs first).
//
// The harness is TypeScript (it reuses the test fakes and the real handler chain): it is bundled here on the fly into
// bench/results/build-<pid>.tmp/ (git-ignored), inside the repository so the few packages left external resolve from its
// node_modules.
import { existsSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
// One build directory per run (git-ignored as bench/results/*.tmp), so a smoke test and a full run never share one.
const buildDir = join(root, `bench/results/build-${process.pid}.tmp`);

for (const fn of ['alert-webhook', 'delivery-health']) {
  if (!existsSync(join(root, 'dist', fn, 'index.js'))) {
    console.error(`[bench] dist/${fn}/index.js is missing: run \`npm run build\` first (npm run bench does)`);
    process.exit(1);
  }
}

const common = {
  outdir: buildDir,
  outExtension: { '.js': '.cjs' },
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: 'inline',
  // Loaded at run time from node_modules: the bundler itself, and what the bundles also keep external or lazy.
  external: ['esbuild', 'tablestore', 'proxy-agent', '@alicloud/fc2'],
  // The test fakes use import.meta.url (ESM); in this CommonJS bundle it is the bundle's own URL.
  define: { 'import.meta.url': '__benchImportMetaUrl' },
  banner: { js: "const __benchImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
  logLevel: 'warning',
};
await build({ ...common, entryPoints: [join(root, 'bench/src/main.ts')] });
// The warm-CPU child times the handler chain itself: built as scripts/build.mjs builds the function bundles (minified,
// names kept), since minification changes what V8 inlines and keepNames adds a call per named function.
await build({ ...common, entryPoints: [join(root, 'bench/src/warmChild.ts')], minify: true, keepNames: true });

const { runBench } = createRequire(import.meta.url)(join(buildDir, 'main.cjs'));
try {
  await runBench({ buildDir, argv: process.argv.slice(2) });
} catch (error) {
  console.error(`[bench] ${error instanceof Error ? error.stack : error}`);
  process.exitCode = 1;
} finally {
  rmSync(buildDir, { recursive: true, force: true });
}
// The fakes and runtimes are closed; do not wait on a stray keep-alive socket.
setTimeout(() => process.exit(), 500).unref();
