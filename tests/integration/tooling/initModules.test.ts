/**
 * What a function's init loads: nothing its first answer does not need. Node's modules that only another store or
 * another runtime uses stay unloaded at module scope (each costs its load at every cold start, FC bills init too). The
 * test run builds first (`npm test`).
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(__dirname, '..', '..', '..');

/** Node's modules loaded once `dist/<fn>/index.js` has run its module scope on `env`. */
function modulesAfterInit(fn: string, env: Record<string, string>): string[] {
  const script = `require(${JSON.stringify(join(root, 'dist', fn, 'index.js'))});
    process.stdout.write(JSON.stringify(process.moduleLoadList));`;
  const stdout = execFileSync(process.execPath, ['-e', script], {
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'ERROR', ...env },
    encoding: 'utf8',
  });
  return JSON.parse(stdout) as string[];
}

/** Modules only a store or a runtime the deployed functions do not run needs. */
const NOT_AT_INIT = [
  'NativeModule worker_threads', // the file store's lock holder names its thread
  'NativeModule stream/web', // @middy/core's response streaming (Lambda only)
];

describe('Init of the function bundles', () => {
  it.each([
    ['alert-webhook', 'tablestore'],
    ['alert-webhook', 'memory'],
    ['delivery-health', 'tablestore'],
  ])('%s on STORE=%s loads no module only another store or runtime needs', (fn, store) => {
    // Prepare: the deployed store's endpoint is a closed loopback port (init's one connection attempt is refused)
    const env = {
      STORE: store,
      TABLESTORE_ENDPOINT: 'http://127.0.0.1:9',
      TABLESTORE_INSTANCE: 'init-test',
      ALIBABA_CLOUD_ACCESS_KEY_ID: 'init-test-ak',
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'init-test-sk',
    };

    // Act
    const loaded = modulesAfterInit(fn, env);

    // Assess
    expect(loaded).toContain('NativeModule http');
    expect(loaded.filter((name) => NOT_AT_INIT.includes(name))).toEqual([]);
  });
});
