/**
 * The webhook through its real handler chain (FC Buffer event in, FC response struct out), on the in-process store
 * and a fake PagerDuty over real HTTP on loopback.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { handlerFor } from '../../../functions/alert-webhook/index';
import { createBridge } from '../../../shared/app';
import { WEBHOOK_CLAIM_CHUNK } from '../../../shared/constants';
import { MemoryStore } from '../../../shared/store/MemoryStore';
import { fcContext, httpEvent } from '../../support/fcEvents';
import { fakePagerDutyPerFile } from '../../support/pagerDutyPerFile';
import { webhookHarness } from '../../support/webhook';

const sample = readFileSync(new URL('../../fixtures/arms/sample.json', import.meta.url), 'utf8');
const resolvedSample = JSON.stringify({
  ...JSON.parse(sample),
  status: 'resolved',
  alerts: JSON.parse(sample).alerts.map((alert: Record<string, unknown>) => ({
    ...alert,
    status: 'resolved',
    endsAt: '2021-02-22T07:30:15.404000000Z',
  })),
});
const ROUTING_KEY = 'R0UTINGKEY0000000000000000000001';
const TOKEN = 'webhook-token-0123456789';
const FINGERPRINT = 'bec72890cc2c7b4a027e008df0cd1013';

const fake = fakePagerDutyPerFile();
/** Requests the fake received since the current test began (one fake serves the whole file). */
const sent = () => fake.sinceTest();

describe('alert-webhook: dry-run (no routing key, local)', () => {
  it('stores and logs the event it would have sent, and sends nothing', async () => {
    // Prepare
    const bridge = webhookHarness({ PAGERDUTY_EVENTS_URL: fake.pd.url });

    // Act
    const response = await bridge.post(sample);

    // Assess
    expect(response.statusCode).toBe(200);
    expect(response.json).toMatchObject({ status: 'dry-run', received: 1, dryRun: 1, delivered: 0, duplicates: 0 });
    const rows = await bridge.store.list();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      status: 'DRY_RUN',
      dedupKey: FINGERPRINT,
      action: 'trigger',
      event: { event_action: 'trigger', dedup_key: FINGERPRINT, payload: { severity: 'warning' }, client: 'ARMS' },
    });
    const logged = bridge.lines.map((line) => JSON.parse(line)).find((line) => line.message.startsWith('dry-run'));
    expect(logged.events[0].event.dedup_key).toBe(FINGERPRINT);
    expect(sent()).toHaveLength(0);
  });

  it('logs one dry-run line per callback, naming every event of all its claim chunks', async () => {
    // Prepare: more alerts than one claim chunk holds.
    const bridge = webhookHarness({});
    const count = WEBHOOK_CLAIM_CHUNK * 2 + 1;
    const template = JSON.parse(sample);
    const alerts = Array.from({ length: count }, (_, index) => ({ ...template.alerts[0], fingerprint: `fp-${index}` }));

    // Act
    const response = await bridge.post(JSON.stringify({ ...template, alerts }));

    // Assess
    expect(response.json).toMatchObject({ status: 'dry-run', dryRun: count });
    const logged = bridge.lines.map((line) => JSON.parse(line)).filter((line) => line.message.startsWith('dry-run'));
    expect(logged).toHaveLength(1);
    const keys = logged[0].events.map((entry: { deliveryKey: string }) => entry.deliveryKey);
    expect(new Set(keys)).toEqual(new Set((await bridge.store.list()).map((row) => row.deliveryKey)));
    expect(logged[0].events.map((entry: { event: { dedup_key: string } }) => entry.event.dedup_key).sort()).toEqual(
      alerts.map((alert) => alert.fingerprint).sort(),
    );
  });

  it('answers a repeat notification as a duplicate and stores nothing new', async () => {
    // Prepare
    const bridge = webhookHarness({});
    await bridge.post(sample);

    // Act
    const again = await bridge.post(sample);

    // Assess
    expect(again.json).toMatchObject({ duplicates: 1, dryRun: 0 });
    expect(await bridge.store.list()).toHaveLength(1);
  });

  it('prints no configured key a callback quotes: its dry-run events line is scrubbed too', async () => {
    // Prepare: shadow mode with the key set, and an alert whose annotation holds that key (a contact field pasted in).
    const quoting = JSON.parse(sample);
    quoting.alerts[0].annotations = { ...quoting.alerts[0].annotations, contact: `pd ${ROUTING_KEY}` };
    const bridge = webhookHarness({ PAGERDUTY_ROUTING_KEY: ROUTING_KEY, DRY_RUN: 'true' });

    // Act
    const response = await bridge.post(JSON.stringify(quoting));

    // Assess: the events line is there, with the key as <secret>.
    expect(response.json).toMatchObject({ dryRun: 1 });
    const events = bridge.lines.filter((line) => line.includes('dry-run: events stored, not sent'));
    expect(events).toHaveLength(1);
    expect(events[0]).toContain('pd <secret>');
    expect(bridge.lines.join('\n')).not.toContain(ROUTING_KEY);
  });

  it('never relays dry-run rows, not even after a key is set', async () => {
    // Prepare
    const store = new MemoryStore();
    await webhookHarness({}, store).post(sample);

    // Act
    const report = await webhookHarness(
      { PAGERDUTY_ROUTING_KEY: ROUTING_KEY, PAGERDUTY_EVENTS_URL: fake.pd.url },
      store,
    ).tick();

    // Assess
    expect(report.relay).toMatchObject({ due: 0, attempted: 0 });
    expect(report.dryRun).toBe(false);
    expect(report.outbox).toEqual({});
    expect((await store.list()).map((row) => row.status)).toEqual(['DRY_RUN']);
    expect(sent()).toHaveLength(0);
  });
});

describe('alert-webhook: delivering', () => {
  const env = { PAGERDUTY_ROUTING_KEY: ROUTING_KEY };

  it('sends one trigger per alert with the routing key, once per occurrence', async () => {
    // Prepare
    const bridge = webhookHarness({ ...env, PAGERDUTY_EVENTS_URL: fake.pd.url });

    // Act
    const first = await bridge.post(sample);
    const repeat = await bridge.post(sample);

    // Assess
    expect(first.statusCode).toBe(200);
    expect(first.json).toMatchObject({ status: 'accepted', delivered: 1 });
    expect(repeat.json).toMatchObject({ delivered: 0, duplicates: 1 });
    expect(sent()).toHaveLength(1);
    expect(sent()[0]?.routingKey).toBe(ROUTING_KEY);
    expect(sent()[0]?.body).toMatchObject({
      event_action: 'trigger',
      dedup_key: FINGERPRINT,
      payload: { severity: 'warning', timestamp: '2021-02-22T07:18:15.578Z' },
    });
    expect((await bridge.store.list())[0]).toMatchObject({ status: 'DELIVERED', attempts: 1 });
  });

  it('sends the resolve with the same dedup_key, as a new delivery', async () => {
    // Prepare
    const bridge = webhookHarness({ ...env, PAGERDUTY_EVENTS_URL: fake.pd.url });
    await bridge.post(sample);

    // Act
    const resolved = await bridge.post(resolvedSample);

    // Assess
    expect(resolved.json).toMatchObject({ delivered: 1 });
    expect(sent().map((event) => (event.body as { event_action: string }).event_action)).toEqual([
      'trigger',
      'resolve',
    ]);
    expect(sent()[1]?.body).toMatchObject({ dedup_key: FINGERPRINT });
  });

  it('queues what PagerDuty refuses for now (202), and the relay delivers it later', async () => {
    // Prepare
    let offset = 0;
    const store = new MemoryStore({ now: () => Date.now() + offset });
    const bridge = webhookHarness({ ...env, PAGERDUTY_EVENTS_URL: fake.pd.url }, store);
    fake.pd.script([{ status: 500 }]);

    // Act
    const response = await bridge.post(sample);
    offset = 3_600_000;
    const report = await bridge.tick();

    // Assess
    expect(response.statusCode).toBe(202);
    expect(response.json).toMatchObject({ status: 'queued', queued: 1, delivered: 0 });
    expect(report.relay).toMatchObject({ due: 1, attempted: 1, delivered: 1 });
    expect(sent().map((event) => event.outcome)).toEqual([500, 202]);
    expect((await store.list())[0]).toMatchObject({ status: 'DELIVERED', attempts: 2 });
  });

  it('marks an event PagerDuty rejects as invalid DEAD at once', async () => {
    // Prepare
    const bridge = webhookHarness({ ...env, PAGERDUTY_EVENTS_URL: fake.pd.url });
    fake.pd.script([
      { status: 400, body: { status: 'invalid event', message: 'Event object is invalid', errors: ['x'] } },
    ]);

    // Act
    const response = await bridge.post(sample);

    // Assess
    expect(response.statusCode).toBe(200);
    expect(response.json).toMatchObject({ failed: 1, delivered: 0 });
    expect((await bridge.store.list())[0]).toMatchObject({ status: 'DEAD' });
  });
});

describe('alert-webhook: refusing', () => {
  it.each([
    ['{"alerts": [', 400, 'malformed_json'],
    ['', 400, 'empty_body'],
    ['[]', 422, 'invalid_callback'],
    ['{"alerts": {}}', 422, 'invalid_callback'],
    ['{"alerts": [{"status": "firing"}]}', 422, 'no_valid_alerts'],
  ])('answers %j with %i %s and sends nothing', async (body, status, code) => {
    // Prepare
    const bridge = webhookHarness({ PAGERDUTY_ROUTING_KEY: ROUTING_KEY, PAGERDUTY_EVENTS_URL: fake.pd.url });

    // Act
    const response = await bridge.post(body);

    // Assess
    expect(response.statusCode).toBe(status);
    expect(response.json.error.code).toBe(code);
    expect(response.json.error.message.length).toBeGreaterThan(5);
    expect(sent()).toHaveLength(0);
  });

  it('answers the ARMS console test with 200 and forwards nothing', async () => {
    // Prepare
    const bridge = webhookHarness({ PAGERDUTY_ROUTING_KEY: ROUTING_KEY, PAGERDUTY_EVENTS_URL: fake.pd.url });

    // Act
    const response = await bridge.post('$alertmanager_content');

    // Assess
    expect(response.statusCode).toBe(200);
    expect(response.json.status).toBe('test');
    expect(sent()).toHaveLength(0);
    expect(await bridge.store.list()).toHaveLength(0);
  });

  it('answers a method other than POST with 405', async () => {
    const response = await webhookHarness({}).post('', { method: 'GET' });
    expect(response.statusCode).toBe(405);
    expect(response.headers.allow).toBe('POST');
  });

  it.each([
    [{}, {}, 401],
    [{ 'X-Webhook-Token': 'wrong' }, {}, 401],
    [{ Authorization: `Bearer ${TOKEN}` }, {}, 200],
    [{ 'X-Webhook-Token': TOKEN }, {}, 200],
    [{}, { token: TOKEN }, 200],
  ])('with WEBHOOK_TOKENS set, headers %o query %o → %i', async (headers, query, status) => {
    // Prepare
    const bridge = webhookHarness({ WEBHOOK_TOKENS: `old-token-abcdef,${TOKEN}` });

    // Act
    const response = await bridge.post(sample, { headers, query });

    // Assess
    expect(response.statusCode).toBe(status);
    if (status === 401)
      expect(response.json).toEqual({ error: { code: 'unauthorized', message: 'missing or invalid webhook token' } });
  });

  it('authenticates before classifying a console test', async () => {
    const response = await webhookHarness({ WEBHOOK_TOKENS: TOKEN }).post('$alertmanager_content');
    expect(response.statusCode).toBe(401);
  });
});

describe('alert-webhook: deployed with an invalid configuration', () => {
  it.each([
    [{ FC_FUNCTION_NAME: 'alert-webhook' }, 'config_no_webhook_tokens'],
    [
      {
        FC_FUNCTION_NAME: 'alert-webhook',
        WEBHOOK_TOKENS: TOKEN,
        STORE: 'tablestore',
        TABLESTORE_ENDPOINT: 'http://127.0.0.1:1',
        TABLESTORE_INSTANCE: 'i',
      },
      'config_no_routing_key',
    ],
    [{ FC_FUNCTION_NAME: 'alert-webhook', WEBHOOK_TOKENS: TOKEN, MAX_ALERTS: 'lots' }, 'config_invalid'],
    [{ WEBHOOK_TOKENS: TOKEN, PAGERDUTY_ROUTING_KEY: ROUTING_KEY, HEALTH_ROUTING_KEY: ROUTING_KEY }, 'config_invalid'],
  ])('answers every request 503 with the config code, logs once, never crashes (%o)', async (env, code) => {
    // Prepare
    const bridge = webhookHarness(env);

    // Act
    const responses = [await bridge.post(sample), await bridge.post(sample, { headers: { 'X-Webhook-Token': TOKEN } })];

    // Assess
    for (const response of responses) {
      expect(response.statusCode).toBe(503);
      expect(response.json.error.code).toBe(code);
      expect(response.body).not.toContain('lots');
    }
    const configLines = bridge.lines.filter((line) => line.includes('configuration invalid'));
    expect(configLines).toHaveLength(2); // once per instance: the webhook's and the health function's
  });
});

describe('alert-webhook: secrets', () => {
  it('never writes a token or routing key to a log line, a response or a stored row', async () => {
    // Prepare
    const bridge = webhookHarness({
      PAGERDUTY_ROUTING_KEY: ROUTING_KEY,
      PAGERDUTY_EVENTS_URL: fake.pd.url,
      WEBHOOK_TOKENS: TOKEN,
      LOG_LEVEL: 'DEBUG',
    });
    fake.pd.script([{ status: 401, body: { status: 'error', message: `bad key ${ROUTING_KEY}` } }]);

    // Act
    const responses = [
      await bridge.post(sample, { headers: { 'X-Webhook-Token': TOKEN } }),
      await bridge.post(sample, { headers: { 'X-Webhook-Token': `${TOKEN}x` } }),
      await bridge.post('{"alerts":', { query: { token: TOKEN } }),
    ];

    // Assess
    const everything = [
      ...bridge.lines,
      ...responses.map((response) => response.body),
      JSON.stringify(await bridge.store.list()),
    ].join('\n');
    expect(everything).not.toContain(ROUTING_KEY);
    expect(everything).not.toContain(TOKEN);
  });
});

describe('alert-webhook: FC context credentials', () => {
  it('hands the rotating STS credentials to the store on each invocation, and never logs them', async () => {
    // Prepare
    const seen: (string | undefined)[] = [];
    class RecordingStore extends MemoryStore {
      #secret = '';
      public override useCredentials(
        credentials: { accessKeyId: { reveal(): string }; accessKeySecret: { reveal(): string } } | undefined,
      ): void {
        seen.push(credentials?.accessKeyId.reveal());
        this.#secret = credentials?.accessKeySecret.reveal() ?? '';
      }
      // An SDK error that quotes the credential, as some do: the logger must scrub it from the line it writes.
      public override async claim(): Promise<never> {
        throw new Error(`signature mismatch for secret ${this.#secret}`);
      }
    }
    const lines: string[] = [];
    const built = createBridge(
      'alert-webhook',
      { LOG_LEVEL: 'DEBUG' },
      {
        store: new RecordingStore(),
        logSink: (line) => lines.push(line),
      },
    );
    const handler = handlerFor(built);
    const context = {
      ...fcContext(),
      credentials: {
        accessKeyId: 'STS.rotating-id-1',
        accessKeySecret: 'rotating-secret-1',
        securityToken: 'tok-1xyz',
      },
    };

    // Act
    await handler(httpEvent({ body: '{"alerts": [' }) as never, context);
    await handler(httpEvent({ body: sample }) as never, {
      ...context,
      credentials: { ...context.credentials, accessKeyId: 'STS.rotating-id-2' },
    });

    // Assess
    expect(seen).toEqual(['STS.rotating-id-1', 'STS.rotating-id-2']);
    expect(lines.some((line) => line.includes('signature mismatch for secret <secret>'))).toBe(true);
    expect(lines.join('\n')).not.toMatch(/rotating-secret-1|tok-1xyz|STS\.rotating-id/);
  });
});

describe('alert-webhook: outbound requests', () => {
  it('never fetches a URL taken from a callback (generator, external, runbook, image): only PagerDuty is contacted', async () => {
    // Prepare: a loopback server standing for every URL the callback names.
    const hits: string[] = [];
    const trap = createServer((request, response) => {
      hits.push(request.url ?? '');
      response.end();
    });
    await new Promise<void>((resolve) => trap.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(trap.address() as AddressInfo).port}`;
    const body = JSON.parse(sample);
    body.externalURL = `${base}/external`;
    body.alerts[0].generatorURL = `${base}/generator`;
    body.alerts[0].annotations = {
      ...body.alerts[0].annotations,
      runbook_url: `${base}/runbook`,
      image_url: `${base}/image.png`,
    };
    const bridge = webhookHarness({ PAGERDUTY_ROUTING_KEY: ROUTING_KEY, PAGERDUTY_EVENTS_URL: fake.pd.url });

    // Act
    const response = await bridge.post(JSON.stringify(body));
    await bridge.tick();
    await new Promise<void>((resolve) => trap.close(() => resolve()));

    // Assess
    expect(response.statusCode).toBe(200);
    expect(hits).toEqual([]);
    expect(sent()).toHaveLength(1);
  });
});

describe('alert-webhook: PagerDuty echo check', () => {
  it('warns when a 202 echoes a dedup_key other than the one sent', async () => {
    // Prepare
    const bridge = webhookHarness({ PAGERDUTY_ROUTING_KEY: ROUTING_KEY, PAGERDUTY_EVENTS_URL: fake.pd.url });
    fake.pd.script([
      { status: 202, body: { status: 'success', message: 'Event processed', dedup_key: 'somewhere-else' } },
    ]);

    // Act
    const response = await bridge.post(sample);

    // Assess
    expect(response.json.delivered).toBe(1);
    const warning = bridge.lines.map((line) => JSON.parse(line)).find((line) => line.message.includes('echoed'));
    expect(warning).toMatchObject({ level: 'WARN', echoed: 'somewhere-else', dedupKey: FINGERPRINT });
  });
});
