/**
 * `npm run trace` through its built bundle (`dist/ops/trace.js`): "was this alert paged, and if not, why?", against a
 * file store seeded through the real webhook handler while a fake PagerDuty answers as each case needs.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DeliveryStatus } from '../../../shared/constants';
import { FileStore } from '../../../shared/store/FileStore';
import { assertBuilt, runOpsTool, type ToolRun } from '../../support/opsTool';
import { fakePagerDutyPerFile } from '../../support/pagerDutyPerFile';
import { webhookHarness } from '../../support/webhook';

const ROOT = join(__dirname, '..', '..', '..');
const ROUTING_KEY = 'TRACER0UTINGKEY00000000000000001';
const FINGERPRINT = 'bec72890cc2c7b4a027e008df0cd1013';
const sample = JSON.parse(readFileSync(join(ROOT, 'tests/fixtures/arms/sample.json'), 'utf8'));
const resolved = readFileSync(join(ROOT, 'tests/fixtures/arms/resolved.json'), 'utf8');
const INVALID_EVENT = {
  status: 400,
  body: { status: 'invalid event', message: 'Event object is invalid', errors: ["'payload.summary' is missing"] },
};

/** The sample's alert with another fingerprint, instance and (optionally) status and startsAt. */
function alert(id: string, changes: Record<string, unknown> = {}) {
  return {
    ...sample.alerts[0],
    fingerprint: `trace-${id}`,
    labels: { ...sample.alerts[0].labels, instance: `node-${id}` },
    ...changes,
  };
}
const callback = (...alerts: unknown[]) => JSON.stringify({ ...sample, alerts });

const fake = fakePagerDutyPerFile();
let storePath: string;
let env: Record<string, string>;
const trace = (args: string[], extra: Record<string, string> = {}) => runOpsTool('trace', args, { ...env, ...extra });
const harness = (extra: Record<string, string> = {}) =>
  webhookHarness({ ...env, ...extra }, new FileStore({ path: storePath }));
const noKey = (run: ToolRun) => expect(`${run.stdout}${run.stderr}`).not.toContain(ROUTING_KEY);

beforeAll(() => {
  assertBuilt(['trace']);
});
beforeEach(() => {
  storePath = mkdtempSync(join(tmpdir(), 'bridge-trace-'));
  env = { STORE: 'file', STORE_PATH: storePath, PAGERDUTY_ROUTING_KEY: ROUTING_KEY, PAGERDUTY_EVENTS_URL: fake.pd.url };
});
afterEach(() => rmSync(storePath, { recursive: true, force: true }));

describe('npm run trace -- <dedup_key>', () => {
  it('shows a delivered alert once, its repeat a duplicate, from a few point reads; exit 0', async () => {
    // Prepare
    const bridge = harness();
    await bridge.post(JSON.stringify(sample));
    const repeat = await bridge.post(JSON.stringify(sample));
    expect(repeat.json).toMatchObject({ duplicates: 1 });

    // Act
    const run = await trace([FINGERPRINT]);

    // Assess
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`dedup_key ${FINGERPRINT}: 1 delivery, newest first`);
    expect(run.stdout).toContain('read the occurrence marker and 4 candidate rows of the latest occurrence');
    expect(run.stdout).toMatch(/received \S+ {2}trigger {2}DELIVERED {2}route default/);
    expect(run.stdout).toContain('occurrence  2021-02-22T07:18:15.578Z');
    expect(run.stdout).toContain('attempts    1');
    expect(run.stdout).toMatch(/outcome {5}sent: PagerDuty accepted it at \S+ after 1 attempt; repeat notifications/);
    expect(run.stdout).toContain('are duplicates (answered, not sent again)');
    expect(run.stdout).toContain('Older occurrences of this dedup_key are read only with --scan');
    noKey(run);
  });

  it("shows a dead delivery with PagerDuty's HTTP status and its own words for the 400", async () => {
    // Prepare
    fake.pd.script([INVALID_EVENT]);
    await harness().post(JSON.stringify(sample));

    // Act
    const run = await trace([FINGERPRINT]);

    // Assess
    expect(run.stdout).toContain('trigger  DEAD  route default');
    expect(run.stdout).toContain("PagerDuty   HTTP 400: Event object is invalid: 'payload.summary' is missing");
    expect(run.stdout).toContain(
      'why         dead: PagerDuty rejected the event, not retried; fix the cause, then npm run redrive',
    );
  });

  it("shows a delivery waiting on its routing key's open circuit, with PagerDuty's answer and the next probe", async () => {
    // Prepare
    fake.pd.script([{ status: 503 }]);
    await harness().post(JSON.stringify(sample));

    // Act
    const run = await trace([FINGERPRINT]);

    // Assess
    expect(run.stdout).toContain('trigger  RETRY  route default');
    expect(run.stdout).toContain('PagerDuty   HTTP 503: PagerDuty answered 503 Service Unavailable');
    expect(run.stdout).toMatch(/next {8}\d{4}-\d\d-\d\dT/);
    expect(run.stdout).toMatch(
      /why {9}waiting: circuit open on route default until \S+ \(server: PagerDuty answered 503/,
    );
  });

  it('shows a resolve that came before its trigger was sent as superseded, and the trigger it stopped', async () => {
    // Prepare: one event per minute on the key, so the second alert's trigger is left queued, never attempted.
    const bridge = harness({ PAGERDUTY_RATE_PER_MINUTE: '1' });
    const first = await bridge.post(callback(alert('a'), alert('b')));
    expect(first.json).toMatchObject({ delivered: 1, queued: 1 });
    await bridge.post(callback(alert('b', { status: 'resolved', endsAt: '2021-02-22T07:30:00Z' })));

    // Act
    const run = await trace(['trace-b']);

    // Assess
    const blocks = run.stdout.split('\nreceived ').slice(1);
    expect(run.stdout).toContain('dedup_key trace-b: 2 deliveries, newest first');
    expect(blocks[0]).toMatch(/^\S+ {2}resolve {2}SUPERSEDED/);
    expect(blocks[0]).toContain('why         superseded: resolved before its trigger was delivered; not sent');
    expect(blocks[1]).toMatch(/^\S+ {2}trigger {2}SUPERSEDED/);
    expect(blocks[1]).toContain('attempts    0');
  });

  it('shows a dry-run delivery as stored and never sent', async () => {
    // Prepare
    await harness({ PAGERDUTY_ROUTING_KEY: '' }).post(JSON.stringify(sample));

    // Act
    const run = await trace([FINGERPRINT], { PAGERDUTY_ROUTING_KEY: '' });

    // Assess
    expect(run.stdout).toContain('trigger  DRY_RUN  route default');
    expect(run.stdout).toContain('why         dry-run: stored and logged, never sent');
  });

  it('finds older occurrences only with --scan, and --limit keeps the newest', async () => {
    // Prepare
    const bridge = harness();
    await bridge.post(JSON.stringify(sample));
    await bridge.post(resolved);
    await bridge.post(callback({ ...sample.alerts[0], startsAt: '2021-02-23T08:00:00Z' }));

    // Act
    const latest = await trace([FINGERPRINT]);
    const all = await trace([FINGERPRINT, '--scan']);
    const limited = await trace([FINGERPRINT, '--scan', '--limit', '1']);

    // Assess
    expect(latest.stdout).toContain(': 1 delivery');
    expect(latest.stdout).toContain('occurrence  2021-02-23T08:00:00.000Z');
    expect(all.stdout).toContain(`dedup_key ${FINGERPRINT}: 3 deliveries, newest first`);
    expect(all.stdout).toContain('read every stored row (3 deliveries)');
    expect(all.stdout.match(/^received /gm)).toHaveLength(3);
    expect(all.stdout.indexOf('2021-02-23T08:00:00.000Z')).toBeLessThan(all.stdout.indexOf('resolve  DELIVERED'));
    expect(limited.stdout).toContain('3 deliveries (the newest 1: --limit)');
    expect(limited.stdout.match(/^received /gm)).toHaveLength(1);
  });

  it('says nothing is stored and where to look next, exit 1', async () => {
    // Act
    const run = await trace(['never-seen-fingerprint']);

    // Assess
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('dedup_key never-seen-fingerprint: 0 deliveries');
    expect(run.stdout).toContain('Nothing is stored for it');
    expect(run.stdout).toContain('npm run routes -- <labels>');
  });
});

describe('npm run trace -- <delivery key> / <label matchers>', () => {
  it('a delivery key shows that delivery and the other half of its occurrence', async () => {
    // Prepare
    const bridge = harness();
    await bridge.post(JSON.stringify(sample));
    await bridge.post(resolved);
    const trigger = (await bridge.store.list()).find((record) => record.action === 'trigger');

    // Act
    const run = await trace([trigger?.deliveryKey as string]);

    // Assess
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`delivery ${trigger?.deliveryKey}: 2 deliveries, newest first`);
    expect(run.stdout).toContain('read 2 rows (the delivery and its counterpart)');
    expect(run.stdout).toContain('resolve  DELIVERED');
  });

  it('label matchers need --scan (exit 2), then find the deliveries whose labels match all of them', async () => {
    // Prepare
    const bridge = harness();
    await bridge.post(callback(alert('a'), alert('b'), alert('c')));

    // Act
    const refused = await trace(['instance=~"node-(a|b)"']);
    const run = await trace(['instance=~"node-(a|b)"', 'namespace=arms-prom', '--scan']);
    const none = await trace(['alertname=Nope', '--scan']);

    // Assess
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('label matchers are answered by reading every stored row: add --scan');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('alerts matching instance=~"node-(a|b)" namespace=arms-prom: 2 deliveries');
    expect(run.stdout).toContain('dedup_key trace-a');
    expect(run.stdout).toContain('dedup_key trace-b');
    expect(run.stdout).not.toContain('dedup_key trace-c');
    expect(none.code).toBe(1);
  });

  it('--json gives each delivery with its explanation', async () => {
    // Prepare
    await harness().post(JSON.stringify(sample));

    // Act
    const run = await trace([FINGERPRINT, '--json']);

    // Assess
    const result = JSON.parse(run.stdout);
    expect(result.total).toBe(1);
    expect(result.deliveries[0]).toMatchObject({
      record: { dedupKey: FINGERPRINT, status: DeliveryStatus.DELIVERED },
      explanation: { reason: 'delivered', sent: true },
    });
  });
});

describe('npm run trace: arguments, configuration and store', () => {
  it.each([
    [[], 'give a dedup_key, a delivery key or label matchers'],
    [['team==db', 'env=prod'], 'matcher "team==db" is not a valid matcher'],
    [['abc', '--limit', '0'], '--limit takes a whole number of at least 1'],
    [['abc', '--verbose'], '--help'],
  ])('refuses %j with exit 2', async (args, message) => {
    // Act
    const run = await trace(args);

    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
  });

  it('exits 3 on an invalid configuration and on an unreachable store, never printing a secret', async () => {
    // Act
    const config = await trace(['abc'], { HEALTH_WINDOW_SECONDS: 'soon' });
    const store = await trace(['abc'], {
      STORE: 'tablestore',
      TABLESTORE_ENDPOINT: 'http://127.0.0.1:9',
      TABLESTORE_INSTANCE: 'bridge',
      STORE_TIMEOUT_MS: '1000',
      ALIBABA_CLOUD_ACCESS_KEY_ID: 'LTAItraceaccesskeyid0001',
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'trace-access-key-secret-0002',
    });

    // Assess
    expect(config.code).toBe(3);
    expect(config.stderr).toContain('HEALTH_WINDOW_SECONDS must be an integer');
    expect(store.code).toBe(3);
    expect(store.stderr).toContain('the store is unreachable (tablestore http://127.0.0.1:9 instance bridge');
    for (const secret of ['LTAItraceaccesskeyid0001', 'trace-access-key-secret-0002']) {
      expect(`${store.stdout}${store.stderr}`).not.toContain(secret);
    }
  });

  it('--help says what each query costs, with an example', async () => {
    // Act
    const run = await trace(['--help'], { STORE: 'tablestore' });

    // Assess
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Usage: npm run trace --');
    expect(run.stdout).toContain('What a query reads');
    expect(run.stdout).toContain('npm run trace -- bec72890cc2c7b4a027e008df0cd1013');
    expect(run.stderr).toBe('');
  });
});
