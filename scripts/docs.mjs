#!/usr/bin/env node
// npm run docs: writes the generated reference, docs/configuration.md, from shared/config/settings.ts
// (scripts/docs/configurationDoc.ts renders it; tests/unit/config/configurationDoc.test.ts fails when it is stale).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const tmp = mkdtempSync(join(tmpdir(), 'docs-'));
try {
  // The renderer is TypeScript (it reads the settings table): bundle it to load it, as compile-schemas.mjs does.
  const entry = join(tmp, 'configurationDoc.cjs');
  await build({
    entryPoints: [join(root, 'scripts/docs/configurationDoc.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    outfile: entry,
    logLevel: 'error',
  });
  const { renderConfigurationDoc } = createRequire(import.meta.url)(entry);
  writeFileSync(join(root, 'docs/configuration.md'), renderConfigurationDoc());
  console.log('wrote docs/configuration.md');
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
