/**
 * The operator tools as an operator runs them: `node dist/ops/<tool>.js` in a child process (`tests/support/opsTool.ts`),
 * against a file store in a temporary STORE_PATH seeded through the real webhook handler, and a fake PagerDuty on
 * loopback. The child's environment is hermetic: a developer's routing key or store never reaches it.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseDuration } from '../../../scripts/ops/cli';
import { reasonOf, redriveRecord, selectDead } from '../../../scripts/ops/redriveDead';
import { TEST_DEDUP_PREFIX, testResolve, testTrigger } from '../../../scripts/ops/testPage';
import { DeliveryStatus } from '../../../shared/constants';
import type { DeliveryRecord } from '../../../shared/store/DeliveryRecord';
import { FileStore } from '../../../shared/store/FileStore';
import { assertBuilt, runOpsTool as runTool, type ToolRun } from '../../support/opsTool';
import { fakePagerDutyPerFile } from '../../support/pagerDutyPerFile';
import { webhookHarness } from '../../support/webhook';

const ROOT = join(__dirname, '..', '..', '..');
const ROUTING_KEY = 'OPST00LSR0UTINGKEY00000000000001';
const DB_ROUTING_KEY = 'OPST00LSR0UTINGKEYDB000000000002';
const WEBHOOK_TOKEN = 'ops-test-webhook-token-0001';
const sample = JSON.parse(readFileSync(join(ROOT, 'tests/fixtures/arms/sample.json'), 'utf8'));
const INVALID_EVENT = {
  status: 400,
  body: { status: 'invalid event', message: 'Event object is invalid', errors: ["'payload.summary' is missing"] },
};

/** The sample callback with `count` firing alerts of distinct identities. */
function callbackWith(count: number): string {
  const alerts = Array.from({ length: count }, (_, index) => ({
    ...sample.alerts[0],
    fingerprint: `0000000000000000000000000000ops${index}`,
    labels: { ...sample.alerts[0].labels, instance: `ops-${index}` },
  }));
  return JSON.stringify({ ...sample, alerts });
}

const fake = fakePagerDutyPerFile();
let storePath: string;
let env: Record<string, string>;

beforeAll(() => {
  assertBuilt(['status', 'redrive', 'sendTest']);
});
beforeEach(() => {
  storePath = mkdtempSync(join(tmpdir(), 'bridge-ops-'));
  env = { STORE: 'file', STORE_PATH: storePath, PAGERDUTY_ROUTING_KEY: ROUTING_KEY, PAGERDUTY_EVENTS_URL: fake.pd.url };
});
afterEach(() => {
  rmSync(storePath, { recursive: true, force: true });
});

/** Posts a 3-alert callback while PagerDuty answers 400, 400, 500: two deliveries DEAD (client), one RETRY (server). */
async function seedDeadAndRetry() {
  const bridge = webhookHarness(env, new FileStore({ path: storePath }));
  fake.pd.script([INVALID_EVENT, INVALID_EVENT, { status: 500 }]);
  const response = await bridge.post(callbackWith(3));
  // 202: something stays queued (the RETRY).
  expect(response.statusCode).toBe(202);
  const records = await bridge.store.list();
  const dead = records.filter((record) => record.status === DeliveryStatus.DEAD);
  expect(dead).toHaveLength(2);
  expect(records.filter((record) => record.status === DeliveryStatus.RETRY)).toHaveLength(1);
  return { bridge, dead };
}

const noSecret = (run: ToolRun) => {
  for (const key of [ROUTING_KEY, DB_ROUTING_KEY, WEBHOOK_TOKEN]) {
    expect(run.stdout).not.toContain(key);
    expect(run.stderr).not.toContain(key);
  }
};

describe('npm run status', () => {
  it('reports an empty store as healthy, exit 0', async () => {
    // Act
    const run = await runTool('status', [], env);

    // Assess
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Bridge health: HEALTHY (rule: ok)');
    expect(run.stdout).toContain(`file store ${storePath}`);
  });

  it('shows DEAD and RETRY deliveries and failures by reason, exit 2 (failing)', async () => {
    // Prepare
    await seedDeadAndRetry();

    // Act
    const run = await runTool('status', ['--scan'], env);

    // Assess
    expect(run.code).toBe(2);
    expect(run.stdout).toContain('Bridge health: FAILING (rule: dead-letters)');
    expect(run.stdout).toMatch(/^ {2}RETRY\s+1$/m);
    expect(run.stdout).toMatch(/^ {2}dead\s+2$/m);
    expect(run.stdout).toMatch(/^ {2}client\s+2$/m);
    expect(run.stdout).toMatch(/^ {2}server\s+1$/m);
    expect(run.stdout).toMatch(/Stored deliveries by state \(full scan\)\n(.*\n)*? {2}DEAD\s+2$/m);
    noSecret(run);
  });

  it('--json prints the raw report, as delivery-health builds it without relaying', async () => {
    // Prepare
    await seedDeadAndRetry();
    const sentBefore = fake.pd.requests.length;

    // Act
    const run = await runTool('status', ['--json'], env);

    // Assess
    const report = JSON.parse(run.stdout);
    expect(run.code).toBe(2);
    expect(report).toMatchObject({
      ok: true,
      verdict: 'failing',
      rule: 'dead-letters',
      outbox: { RETRY: 1 },
      storeReachable: true,
      window: { callbacks: 1, alertsReceived: 3, dead: 2, failures: { client: 2, server: 1 } },
    });
    expect(report.relay).toBeUndefined();
    expect(fake.pd.requests.length).toBe(sentBefore);
  });

  it('reports rejected callbacks by error.code as degraded, exit 1', async () => {
    // Prepare
    const withToken = { ...env, WEBHOOK_TOKENS: WEBHOOK_TOKEN };
    const bridge = webhookHarness(withToken, new FileStore({ path: storePath }));
    const refused = await bridge.post(callbackWith(1), { headers: { 'X-Webhook-Token': 'wrong-token-000000' } });
    expect(refused.statusCode).toBe(401);

    // Act
    const run = await runTool('status', [], withToken);

    // Assess
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('Bridge health: DEGRADED (rule: callbacks-rejected)');
    expect(run.stdout).toMatch(/^ {2}unauthorized\s+1$/m);
    noSecret(run);
  });

  it('counts an invalid configuration as failing, exit 2, naming the variable', async () => {
    // Act
    const run = await runTool('status', [], { ...env, HEALTH_WINDOW_SECONDS: 'soon' });

    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('HEALTH_WINDOW_SECONDS');
  });
});

describe('npm run redrive', () => {
  it('--dry-run lists the dead deliveries and changes nothing', async () => {
    // Prepare
    const { bridge } = await seedDeadAndRetry();
    const before = await bridge.store.list();

    // Act
    const run = await runTool('redrive', ['--dry-run'], env);

    // Assess
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('2 DEAD (client 2); 2 match the filter');
    expect(run.stdout).toContain('dry run: nothing changed; 2 would be re-queued');
    expect(run.stdout.match(/^ {2}trigger \(client\) route default, received/gm)).toHaveLength(2);
    expect(await bridge.store.list()).toEqual(before);
    noSecret(run);
  });

  it('filters by reason and age: --reason server and --older-than 1h take none of the fresh 400s', async () => {
    // Prepare
    const { bridge } = await seedDeadAndRetry();
    const before = await bridge.store.list();

    // Act
    const byReason = await runTool('redrive', ['--reason', 'server'], env);
    const byAge = await runTool('redrive', ['--older-than', '1h'], env);

    // Assess
    expect(byReason.stdout).toContain('0 match the filter');
    expect(byAge.stdout).toContain('0 match the filter');
    expect(await bridge.store.list()).toEqual(before);
  });

  it('--reason client re-queues the 400-dead deliveries; the next delivery-health run delivers each exactly once', async () => {
    // Prepare
    const { bridge, dead } = await seedDeadAndRetry();
    const deadKeys = dead.map((record) => record.dedupKey);
    const baseline = fake.pd.events.length;
    const acceptedFor = (key: string) =>
      fake.pd.events
        .slice(baseline)
        .filter((event) => event.outcome === 202 && (event.body as { dedup_key: string }).dedup_key === key).length;

    // Act
    const run = await runTool('redrive', ['--reason', 'client', '--newer-than', '1h'], env);
    const requeued = await bridge.store.get(dead.map((record) => record.deliveryKey));
    await bridge.tick();
    await bridge.tick();

    // Assess
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('re-queued 2 (client 2); lost races 0');
    for (const record of requeued.values()) {
      expect(record).toMatchObject({ status: DeliveryStatus.PENDING, attempts: 1 });
    }
    for (const key of deadKeys) expect(acceptedFor(key)).toBe(1);
    const after = await bridge.store.get(dead.map((record) => record.deliveryKey));
    expect([...after.values()].map((record) => record.status)).toEqual([
      DeliveryStatus.DELIVERED,
      DeliveryStatus.DELIVERED,
    ]);
    for (const event of fake.pd.events.slice(baseline)) expect(event.routingKey).toBe(ROUTING_KEY);
    noSecret(run);
  });

  it('refuses an unknown reason and a malformed duration with exit 64', async () => {
    // Act
    const reason = await runTool('redrive', ['--reason', 'sunspots'], env);
    const age = await runTool('redrive', ['--older-than', 'yesterday'], env);

    // Assess
    expect(reason.code).toBe(64);
    expect(reason.stderr).toContain('--reason takes auth, client, server, network, rate-limited, other');
    expect(age.code).toBe(64);
    expect(age.stderr).toContain('--older-than takes a duration');
  });
});

describe('npm run send-test', () => {
  it('sends a trigger then its resolve on the configured key and prints no key', async () => {
    // Prepare
    const baseline = fake.pd.events.length;

    // Act
    const run = await runTool('sendTest', ['--resolve-after', '0'], env);

    // Assess
    const sent = fake.pd.events.slice(baseline);
    const bodies = sent.map(
      (event) =>
        event.body as { event_action: string; dedup_key: string; payload: { summary: string; severity: string } },
    );
    expect(run.code).toBe(0);
    expect(bodies.map((body) => body.event_action)).toEqual(['trigger', 'resolve']);
    expect(sent.map((event) => event.routingKey)).toEqual([ROUTING_KEY, ROUTING_KEY]);
    expect(bodies[0]?.dedup_key).toMatch(/^arms-pagerduty-bridge\/test\/[0-9a-f-]{36}$/);
    expect(bodies[1]?.dedup_key).toBe(bodies[0]?.dedup_key);
    expect(bodies[0]?.payload.summary).toMatch(/^ARMS → PagerDuty bridge test page from .+ at \d{4}-/);
    expect(bodies[0]?.payload.severity).toBe('info');
    expect(run.stdout).toContain(`trigger: accepted (HTTP 202), dedup_key ${bodies[0]?.dedup_key}`);
    expect(run.stdout).toContain('resolve: accepted (HTTP 202)');
    noSecret(run);
  });

  it('picks the route by --labels, with its own key, and --keep-open sends no resolve', async () => {
    // Prepare
    const routes = JSON.stringify([{ name: 'db', matchers: ['team="db"'], routingKeyEnv: 'PD_KEY_DB' }]);
    const baseline = fake.pd.events.length;

    // Act
    const run = await runTool('sendTest', ['--labels', 'team=db', '--keep-open', '--severity', 'warning'], {
      ...env,
      PAGERDUTY_ROUTES: routes,
      PD_KEY_DB: DB_ROUTING_KEY,
    });

    // Assess
    const sent = fake.pd.events.slice(baseline);
    expect(run.code).toBe(0);
    expect(sent.map((event) => event.routingKey)).toEqual([DB_ROUTING_KEY]);
    expect(sent[0]?.body).toMatchObject({ event_action: 'trigger', payload: { severity: 'warning' } });
    expect(run.stdout).toContain('route db (selected by --labels)');
    expect(run.stdout).toContain('kept open');
    noSecret(run);
  });

  it('reports a refusal by PagerDuty with exit 1 and sends no resolve', async () => {
    // Prepare
    const baseline = fake.pd.events.length;
    fake.pd.script([INVALID_EVENT]);

    // Act
    const run = await runTool('sendTest', ['--resolve-after', '0'], env);

    // Assess
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('trigger: REFUSED (HTTP 400, client)');
    expect(fake.pd.events.length - baseline).toBe(1);
    noSecret(run);
  });

  it.each([
    ['no routing key (dry-run)', [], { PAGERDUTY_ROUTING_KEY: '' }, 'dry-run'],
    ['DRY_RUN=true', [], { DRY_RUN: 'true' }, 'dry-run'],
    ['an unknown route', ['--route', 'nope'], {}, 'no route named "nope"'],
  ])('refuses with %s, exit 2, sending nothing', async (_case, args, extra, message) => {
    // Prepare
    const baseline = fake.pd.requests.length;

    // Act
    const run = await runTool('sendTest', args, { ...env, ...extra });

    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('refusing to send');
    expect(run.stderr).toContain(message);
    expect(fake.pd.requests.length).toBe(baseline);
  });
});

describe('--help', () => {
  it.each([
    ['status', 'Usage: npm run status', 'Exit code: 0 healthy, 1 degraded, 2 failing'],
    ['redrive', 'Usage: npm run redrive', 'full scan'],
    ['sendTest', 'Usage: npm run send-test', 'never the routing key'],
  ] as const)('%s prints its usage and touches nothing', async (tool, usage, detail) => {
    // Act
    const run = await runTool(tool, ['--help'], { ...env, STORE: 'tablestore' });

    // Assess
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(usage);
    expect(run.stdout).toContain(detail);
    expect(run.stderr).toBe('');
  });

  it('an unknown option is a usage error (64) that points at --help', async () => {
    // Act
    const run = await runTool('status', ['--verbose'], env);

    // Assess
    expect(run.code).toBe(64);
    expect(run.stderr).toContain('--help');
  });
});

describe('redrive and send-test helpers', () => {
  const dead = (changes: Partial<DeliveryRecord>): DeliveryRecord => ({
    deliveryKey: 'k',
    dedupKey: 'd',
    occurrence: 1,
    action: 'trigger',
    routeName: 'default',
    status: DeliveryStatus.DEAD,
    version: 4,
    event: { event_action: 'trigger', dedup_key: 'd', payload: { summary: 's', source: 'x', severity: 'info' } },
    attempts: 20,
    lastError: 'server: PagerDuty answered 503',
    createdAt: 1_000,
    updatedAt: 2_000,
    expiresAt: 10_000,
    ...changes,
  });

  it.each([
    ['client: Event object is invalid', 'client'],
    ['rate-limited: 429', 'rate-limited'],
    ['auth: PagerDuty answered 403', 'auth'],
    ['no routing key for route "db"', 'auth'],
    ['something else', 'other'],
    [undefined, 'other'],
  ])('reasonOf(%j) is %s', (lastError, reason) => {
    expect(reasonOf({ lastError })).toBe(reason);
  });

  it.each([
    ['90s', 90_000],
    ['30m', 1_800_000],
    ['2h', 7_200_000],
    ['7d', 604_800_000],
  ])('parseDuration(%s) is %i ms', (text, ms) => {
    expect(parseDuration(text, '--older-than')).toBe(ms);
  });

  it('selects only DEAD records matching every filter, oldest first', () => {
    // Prepare
    const records = [
      dead({ deliveryKey: 'new', createdAt: 9_000 }),
      dead({ deliveryKey: 'old', createdAt: 1_000 }),
      dead({ deliveryKey: 'client', lastError: 'client: bad', createdAt: 1_000 }),
      dead({ deliveryKey: 'delivered', status: DeliveryStatus.DELIVERED }),
    ];

    // Act
    const chosen = selectDead(records, { reasons: ['server'], olderThanMs: 5_000 }, 10_000);

    // Assess
    expect(chosen.map((record) => record.deliveryKey)).toEqual(['old']);
  });

  it('makes a dead record PENDING now, with a fresh age and attempt budget that still says "attempted"', () => {
    // Act
    const attempted = redriveRecord(dead({}), 50_000, 100_000);
    const neverSent = redriveRecord(dead({ attempts: 0, expiresAt: 90_000 }), 50_000, 1_000);

    // Assess
    expect(attempted).toMatchObject({
      status: DeliveryStatus.PENDING,
      nextAttemptAt: 50_000,
      createdAt: 50_000,
      updatedAt: 50_000,
      attempts: 1,
      version: 5,
      expiresAt: 150_000,
      lastError: 'server: PagerDuty answered 503',
    });
    expect(neverSent).toMatchObject({ attempts: 0, expiresAt: 90_000 });
  });

  it('builds a test trigger and its resolve on one unique dedup_key', () => {
    // Act
    const trigger = testTrigger({ host: 'ops-box', at: 0, severity: 'info', route: 'default', id: 'u-1' });
    const resolve = testResolve(trigger, 10_000);

    // Assess
    expect(trigger.dedup_key).toBe(`${TEST_DEDUP_PREFIX}u-1`);
    expect(trigger.payload.summary).toBe('ARMS → PagerDuty bridge test page from ops-box at 1970-01-01T00:00:00.000Z');
    expect(resolve).toMatchObject({ event_action: 'resolve', dedup_key: trigger.dedup_key });
  });
});
