/**
 * Writes `dist/<function>/app.cache`: the V8 code cache of `app.js` as `dist/<function>/index.js` (loader.cjs)
 * compiles it, taken after the bundle has run its module scope and one first invocation as deployed (STORE=tablestore,
 * a PagerDuty routing key, webhook tokens) against the wire fakes of the tests on loopback, then the same on the file
 * store: a new ARMS trigger for the webhook, a timer tick for delivery-health. V8 writes into the cache every function
 * compiled so far, so a cold start deserializes the functions its first invocation runs (request reading, validation,
 * events, the claim, the SDK's request encoding and signing, the PagerDuty send) instead of compiling them one by one
 * on first call: a function a cache leaves out compiles slower than without any cache (V8 has no preparse data for
 * it). The cache holds code only, no value of the run (keys, rows, answers).
 *
 * The training must answer as a healthy instance does (2xx, nothing thrown): a cache trained on a failure path holds
 * the wrong code, so the build fails instead of shipping it. Bundled and run by `scripts/build.mjs`:
 * `node produce.cjs dist/<function> <function>`.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Script } from 'node:vm';
import { startFakePagerDuty } from '../../tests/support/fakePagerDuty';
import { httpEvent, timerEvent } from '../../tests/support/fcEvents';
import { startTablestoreOverFake } from '../../tests/support/tablestoreOverFake';

/** The repository (the build runs this script from it): where the training callback's fixture is. */
const ROOT = process.cwd();
/** Opens the training callback's request (what `WEBHOOK_TOKENS` holds in training; never a deployed value). */
const TRAINING_TOKEN = 'code-cache-training-token';
const TRAINING_ROUTING_KEY = 'codecachetrainingroutingkey00032';

/** What a function's first invocation is, in training: its event, and whether the answer is a healthy one. */
const TRAINING: Record<string, { event: () => Buffer; healthy: (result: unknown) => boolean }> = {
  'alert-webhook': {
    event: () =>
      httpEvent({
        body: readFileSync(join(ROOT, 'tests/fixtures/arms/sample.json')),
        base64: false,
        headers: { Authorization: `Bearer ${TRAINING_TOKEN}` },
      }),
    healthy: (result) => {
      const status = (result as { statusCode?: number } | undefined)?.statusCode;
      return status !== undefined && status >= 200 && status < 300;
    },
  },
  'delivery-health': { event: () => timerEvent(), healthy: () => true },
};

async function produce(dir: string, fn: string): Promise<void> {
  const training = TRAINING[fn];
  if (training === undefined) throw new Error(`no code-cache training for function "${fn}"`);
  const tablestore = await startTablestoreOverFake();
  const pagerduty = await startFakePagerDuty();
  const fileStore = mkdtempSync(join(tmpdir(), 'code-cache-file-store-'));
  try {
    Object.assign(process.env, {
      ...tablestore.env,
      PAGERDUTY_ROUTING_KEY: TRAINING_ROUTING_KEY,
      PAGERDUTY_EVENTS_URL: pagerduty.url,
      WEBHOOK_TOKENS: TRAINING_TOKEN,
      LOG_LEVEL: 'ERROR',
    });
    const file = join(dir, 'app.js');
    // The text loader.cjs compiles: Node's CommonJS wrapper on lines of its own.
    const wrapped = `(function (exports, require, module, __filename, __dirname) {\n${readFileSync(file, 'utf8')}\n})`;
    const script = new Script(wrapped, { filename: file, lineOffset: -1 });
    const run = script.runInThisContext();
    // As deployed first, then once more on the file store (local runs, `npm start`): the module scope runs again, and
    // the cache holds both stores' first calls (the file store's adds 20 KiB).
    for (const store of [{}, { STORE: 'file', STORE_PATH: fileStore }]) {
      Object.assign(process.env, store);
      const module = { exports: {} as { handler: (event: Buffer, context: object) => Promise<unknown> } };
      run(module.exports, createRequire(file), module, file, dir);
      const context = { requestId: 'code-cache-training', credentials: {}, function: { name: fn } };
      const result = await module.exports.handler(training.event(), context);
      if (!training.healthy(result)) {
        throw new Error(
          `the training invocation of ${fn} did not answer as a healthy instance: ${JSON.stringify(result)}`,
        );
      }
    }
    writeFileSync(join(dir, 'app.cache'), script.createCachedData());
  } finally {
    rmSync(fileStore, { recursive: true, force: true });
    await pagerduty.close();
    await tablestore.close();
  }
}

const [dir, fn] = process.argv.slice(2);
if (dir === undefined || fn === undefined) throw new Error('usage: node produce.cjs dist/<function> <function>');
produce(resolve(dir), fn).then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`code cache of ${fn}: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
