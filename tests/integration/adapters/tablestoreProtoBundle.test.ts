/**
 * The function bundles carry the trimmed protobuf module (`shared/store/tablestore/protocol/tablestoreProto.js`, aliased in by
 * scripts/build.mjs) instead of the SDK's module for every Tablestore API: the SDK runs on it end to end, built as FC
 * loads it, against the wire-compatible fake. The webhook claims, reads on a duplicate and queues on a PagerDuty 5xx
 * (BatchWriteRow with conditions, BatchGetRow), loading no file beside its bundle for its first answer (the FC SDK
 * waits for the first kick); delivery-health relays the queued delivery (GetRange with a filter).
 * The store contract suite runs the same adapter from the TypeScript sources, on the SDK's full module.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { invokeBundle } from '../../support/bundle';
import type { FakeTablestore } from '../../support/fakeTablestore';
import { httpEvent, timerEvent } from '../../support/fcEvents';
import { fakePagerDutyPerFile } from '../../support/pagerDutyPerFile';
import { startTablestoreOverFake, type TablestoreOverFake } from '../../support/tablestoreOverFake';

const root = join(__dirname, '..', '..', '..');
const ROUTING_KEY = 'TRIMMEDPROTOROUTINGKEY0000000001';
/** Operations of the messages the trimmed module keeps (scripts/generate-tablestore-proto.mjs). */
const TRIMMED_OPERATIONS = ['BatchGetRow', 'BatchWriteRow', 'GetRange'];
/** A decoder string of CreateTableResponse, an API only the infra tool calls. */
const FULL_MODULE_ONLY = "missing required 'tableMeta'";
const sample = JSON.parse(readFileSync(join(root, 'tests/fixtures/arms/sample.json'), 'utf8'));

/** Runs the webhook bundle once in a fresh process and lists the files it loaded (`require.cache`). */
async function loadedFiles(event: Buffer): Promise<{ statusCode: number; files: string[] }> {
  const script = `
    const bundle = require(${JSON.stringify(join(root, 'dist/alert-webhook/index.js'))});
    const context = { requestId: 'loaded-files', credentials: {}, function: { name: 'alert-webhook' } };
    bundle.handler(Buffer.from(process.env.EVENT_B64, 'base64'), context).then((result) => {
      process.stdout.write(JSON.stringify({ statusCode: result.statusCode, files: Object.keys(require.cache) }));
    });`;
  const { stdout } = await promisify(execFile)(process.execPath, ['-e', script], {
    env: { PATH: process.env.PATH ?? '', EVENT_B64: event.toString('base64'), ...env },
    timeout: 15_000,
  });
  return JSON.parse(stdout);
}

function callback(fingerprint: string): Buffer {
  return httpEvent({ body: JSON.stringify({ ...sample, alerts: [{ ...sample.alerts[0], fingerprint }] }) });
}

const fake = fakePagerDutyPerFile();
let over: TablestoreOverFake;
let tablestore: FakeTablestore;
let env: Record<string, string>;
beforeAll(async () => {
  over = await startTablestoreOverFake();
  tablestore = over.fake;
  env = {
    ...over.env,
    PAGERDUTY_ROUTING_KEY: ROUTING_KEY,
    PAGERDUTY_EVENTS_URL: fake.pd.url,
    LOG_LEVEL: 'WARN',
  };
});
afterAll(async () => {
  await over.close();
});

describe('Bundles on the trimmed Tablestore protobuf', () => {
  it.each(['alert-webhook', 'delivery-health'])('%s carries the trimmed module, not the SDK’s', (fn) => {
    // Assess
    expect(readFileSync(join(root, 'dist', fn, 'app.js'), 'utf8')).not.toContain(FULL_MODULE_ONLY);
  });

  it('infra:tablestore keeps the SDK’s full module (it creates and describes tables)', () => {
    // Assess
    expect(readFileSync(join(root, 'dist/infra/tablestore.js'), 'utf8')).toContain(FULL_MODULE_ONLY);
  });

  it('alert-webhook claims a new alert, delivers it and answers its repeat as a duplicate', async () => {
    // Prepare
    tablestore.stats.reset();

    // Act
    const first = await invokeBundle('alert-webhook', callback('trimmed-new'), env);
    const repeat = await invokeBundle('alert-webhook', callback('trimmed-new'), env);

    // Assess
    expect(first.result.statusCode).toBe(200);
    expect(JSON.parse(first.result.body)).toMatchObject({ received: 1, delivered: 1, duplicates: 0, failed: 0 });
    expect(repeat.result.statusCode).toBe(200);
    expect(JSON.parse(repeat.result.body)).toMatchObject({ received: 1, delivered: 0, duplicates: 1 });
    const log = tablestore.stats.log;
    expect(new Set(log.map((request) => request.op))).toEqual(new Set(['BatchWriteRow', 'BatchGetRow']));
    expect(log.every((request) => request.status === 200)).toBe(true);
  });

  it('alert-webhook answers its first callback without loading the FC SDK or any other file beside its bundle', async () => {
    // Act
    const { statusCode, files } = await loadedFiles(callback('trimmed-first'));

    // Assess: @alicloud/fc2 (dist/alert-webhook/node_modules) loads on the first kick only. protobufjs probes for its
    // optional `long` package, which Node finds here in the repository's node_modules (FC's code package has none).
    expect(statusCode).toBe(200);
    const beside = files.filter((file) => !file.endsWith('/dist/alert-webhook/index.js'));
    expect(beside.filter((file) => !/[/\\]node_modules[/\\]long[/\\]/.test(file))).toEqual([]);
  });

  it('delivery-health relays what the webhook queued on a PagerDuty 5xx', async () => {
    // Prepare: PagerDuty fails the send; the key's circuit probes again after RETRY_BASE_SECONDS (1 s).
    fake.pd.script([{ status: 500 }]);
    const queued = await invokeBundle('alert-webhook', callback('trimmed-queued'), env);
    await sleep(1_500);
    tablestore.stats.reset();

    // Act
    const { result } = await invokeBundle('delivery-health', timerEvent(), env);

    // Assess
    expect(JSON.parse(queued.result.body)).toMatchObject({ received: 1, queued: 1, delivered: 0 });
    expect(result).toMatchObject({ relay: { delivered: 1 } });
    const log = tablestore.stats.log;
    expect(log.map((request) => request.op)).toContain('GetRange');
    expect(log.every((request) => TRIMMED_OPERATIONS.includes(request.op) && request.status === 200)).toBe(true);
  });
});
