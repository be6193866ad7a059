/**
 * The README's quick start, as a newcomer runs it: `npm start` (the local runtime over the built bundles), a POST of
 * the documented ARMS sample, the dry-run event printed and stored, a restart, and the store still holding it. Then
 * the same with a routing key against a fake PagerDuty on loopback.
 */
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakePagerDutyPerFile } from '../support/pagerDutyPerFile';
import { type RunningRuntime, startRuntime } from '../support/runtime';

const sample = readFileSync(join(__dirname, '../fixtures/arms/sample.json'), 'utf8');
const FINGERPRINT = 'bec72890cc2c7b4a027e008df0cd1013';
const ROUTING_KEY = 'E2EROUTINGKEY0000000000000000001';
const TOKEN = 'e2e-webhook-token-42';

describe('e2e: npm start with no configuration', () => {
  it('answers the ARMS sample 2xx, prints and stores the dry-run event, and keeps it across a restart', async () => {
    // Prepare
    const first = await startRuntime();
    const storePath = first.storePath;
    let second: RunningRuntime | undefined;
    try {
      expect(first.output()).toMatch(/DRY-RUN/);
      expect(first.output()).toMatch(/UNAUTHENTICATED/);

      // Act
      const response = await first.post('/', sample, { 'Content-Type': 'text/plain; charset=UTF-8' });
      await first.waitForOutput(/dry-run: events? stored/);
      const stopped = await first.stop({ keepStore: true });
      second = await startRuntime({ storePath });
      const again = await second.post('/any/path', sample, { 'Content-Type': 'application/json' });

      // Assess
      expect(response.status).toBe(200);
      expect(response.json).toMatchObject({ status: 'dry-run', dryRun: 1 });
      expect(first.output()).toContain(FINGERPRINT);
      expect(stopped.code).toBe(0);
      const files = readdirSync(join(storePath, 'deliveries'));
      expect(files).toHaveLength(1);
      const row = JSON.parse(readFileSync(join(storePath, 'deliveries', files[0] as string), 'utf8'));
      expect(row).toMatchObject({ status: 'DRY_RUN', event: { dedup_key: FINGERPRINT, event_action: 'trigger' } });
      expect(again.status).toBe(200);
      expect(again.json).toMatchObject({ duplicates: 1, dryRun: 0 });
    } finally {
      await second?.stop();
      rmSync(storePath, { recursive: true, force: true });
    }
  });
});

describe('e2e: npm start with a routing key and tokens', () => {
  const fake = fakePagerDutyPerFile();
  let runtime: RunningRuntime;

  beforeAll(async () => {
    runtime = await startRuntime({
      env: { PAGERDUTY_ROUTING_KEY: ROUTING_KEY, PAGERDUTY_EVENTS_URL: fake.pd.url, WEBHOOK_TOKENS: TOKEN },
    });
  });
  afterAll(async () => {
    await runtime?.stop();
  });

  it('refuses a request without the token', async () => {
    const response = await runtime.post('/', sample);
    expect(response.status).toBe(401);
    expect(response.json).toEqual({ error: { code: 'unauthorized', message: 'missing or invalid webhook token' } });
  });

  it('delivers the sample to PagerDuty once, and never prints the key or the token', async () => {
    // Act
    const first = await runtime.post('/', sample, { 'X-Webhook-Token': TOKEN });
    const repeat = await runtime.post('/', sample, { Authorization: `Bearer ${TOKEN}` });

    // Assess
    expect(first.status).toBe(200);
    expect(first.json).toMatchObject({ status: 'accepted', delivered: 1 });
    expect(repeat.json).toMatchObject({ duplicates: 1, delivered: 0 });
    expect(fake.pd.accepted()).toHaveLength(1);
    expect(fake.pd.accepted()[0]?.routingKey).toBe(ROUTING_KEY);
    expect(runtime.output()).not.toContain(ROUTING_KEY);
    expect(runtime.output()).not.toContain(TOKEN);
  });

  it('answers a malformed body 400 and the console test 200, forwarding nothing', async () => {
    // Prepare
    const before = fake.pd.events.length;

    // Act
    const malformed = await runtime.post('/', '{"alerts": [', { 'X-Webhook-Token': TOKEN });
    const consoleTest = await runtime.post('/', '$alertmanager_content', { 'X-Webhook-Token': TOKEN });

    // Assess
    expect(malformed.status).toBe(400);
    expect(malformed.json).toMatchObject({ error: { code: 'malformed_json' } });
    expect(consoleTest.status).toBe(200);
    expect(consoleTest.json).toMatchObject({ status: 'test' });
    expect(fake.pd.events.length).toBe(before);
  });
});
