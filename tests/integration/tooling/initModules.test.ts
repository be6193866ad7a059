/**
 * What a function's init loads: nothing its first answer does not need. Node's modules that only another store or
 * another runtime uses stay unloaded at module scope (each costs its load at every cold start, FC bills init too). And
 * what a cold start prints: no warning of Node's (the SDK's deprecated `Buffer()` calls are the build's to quiet). The
 * test run builds first (`npm test`).
 */
import { execFile, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { startTablestoreOverFake } from '../../support/tablestoreOverFake';

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

/**
 * Runs `dist/<fn>/index.js` in a fresh process: its module scope, then one invocation with `event` (an FC event's
 * JSON). Returns the answer's status and every warning Node emitted (`process.on('warning')`).
 */
async function firstInvocation(fn: string, event: unknown, env: Record<string, string>) {
  const script = `const warnings = [];
    process.on('warning', (warning) => warnings.push(warning.code + ' ' + warning.message));
    const { handler } = require(${JSON.stringify(join(root, 'dist', fn, 'index.js'))});
    const event = Buffer.from(${JSON.stringify(JSON.stringify(event))});
    Promise.resolve(handler(event, { requestId: 'init-test', credentials: {}, function: { name: '${fn}' } }))
      .then((answer) => setTimeout(() => {
        process.stdout.write(JSON.stringify({ status: answer && answer.statusCode, warnings }));
        process.exit(0);
      }, 20));`;
  const { stdout } = await promisify(execFile)(process.execPath, ['-e', script], {
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'ERROR', ...env },
    encoding: 'utf8',
  });
  return JSON.parse(stdout) as { status: number; warnings: string[] };
}

describe('A cold start of the webhook', () => {
  it('answers its first callback on Tablestore without a warning of Node (no DEP0005 from the SDK)', async () => {
    // Prepare: the wire fake; a new alert, so the first read finds no row (the SDK decodes empty bytes fields).
    const tablestore = await startTablestoreOverFake();
    const body = readFileSync(join(root, 'tests/fixtures/arms/sample.json'), 'utf8');
    const event = {
      version: 'v1',
      rawPath: '/',
      body,
      isBase64Encoded: false,
      headers: { 'Content-Type': 'application/json' },
      queryParameters: {},
      requestContext: { requestId: 'init-test', http: { method: 'POST', path: '/' } },
    };

    // Act
    try {
      const run = await firstInvocation('alert-webhook', event, { ...tablestore.env, DRY_RUN: 'true' });

      // Assess: stored (dry-run answers 200 once its row is written), and nothing printed by Node.
      expect(run.status).toBe(200);
      expect(run.warnings).toEqual([]);
      expect((await tablestore.store.list()).map((row) => row.status)).toEqual(['DRY_RUN']);
    } finally {
      await tablestore.close();
    }
  });
});
