/**
 * Pacing per routing key through the real handlers: the bridge stays under PagerDuty's per-key rate instead of
 * hammering it into 429s (Alertmanager's behaviour), and stops a key for the invocation when PagerDuty says 429.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../shared/store/MemoryStore';
import { type FakePagerDuty, startFakePagerDuty } from '../support/fakePagerDuty';
import { webhookHarness } from '../support/webhook';

const ROUTING_KEY = 'PAC1NGROUTINGKEY0000000000000001';
const sample = JSON.parse(readFileSync(new URL('../fixtures/arms/sample.json', import.meta.url), 'utf8'));

/** One callback of `count` distinct firing alerts. */
function storm(count: number): string {
  const alerts = Array.from({ length: count }, (_, index) => ({ ...sample.alerts[0], fingerprint: `storm-${index}` }));
  return JSON.stringify({ ...sample, alerts });
}

let pd: FakePagerDuty | undefined;
afterEach(async () => {
  await pd?.close();
  pd = undefined;
});

describe('pacing per routing key', () => {
  it('sends only what the key allows now, queues the rest, and never draws a 429', async () => {
    // Prepare: PagerDuty allows 10 per minute on the key; so does the bridge (a burst of 2, then one every 6 s).
    pd = await startFakePagerDuty({ rateLimit: { limit: 10, windowMs: 60_000 } });
    const bridge = webhookHarness(
      { PAGERDUTY_ROUTING_KEY: ROUTING_KEY, PAGERDUTY_EVENTS_URL: pd.url, PAGERDUTY_RATE_PER_MINUTE: '10' },
      new MemoryStore(),
    );

    // Act
    const response = await bridge.post(storm(40));

    // Assess
    expect(response.statusCode).toBe(202);
    expect(response.json).toMatchObject({ delivered: 2, queued: 38 });
    expect(pd.events.map((event) => event.outcome)).toEqual([202, 202]);
    const rows = await bridge.store.list();
    expect(rows.filter((row) => row.status === 'PENDING')).toHaveLength(38);
  });

  it('stops sending to a key for the invocation once PagerDuty answers 429, queueing the rest', async () => {
    // Prepare
    pd = await startFakePagerDuty();
    pd.script([
      { status: 429, body: { status: 'throttled', message: 'Requests for this service are arriving too quickly.' } },
    ]);
    const bridge = webhookHarness(
      { PAGERDUTY_ROUTING_KEY: ROUTING_KEY, PAGERDUTY_EVENTS_URL: pd.url },
      new MemoryStore(),
    );

    // Act
    const response = await bridge.post(storm(20));

    // Assess: at most the requests already in flight (8) and those picked before the 429 was read follow it.
    expect(pd.events.filter((event) => event.outcome === 429)).toHaveLength(1);
    expect(pd.events.length).toBeLessThan(20);
    expect(response.json.delivered + response.json.queued).toBe(20);
    const rows = await bridge.store.list();
    expect(rows.filter((row) => row.status === 'RETRY' && row.lastError?.startsWith('rate-limited'))).toHaveLength(1);
  });

  it('paces the relay per key and leaves the rest due for the next run', async () => {
    // Prepare: 12 deliveries queued unsent (deadline too short to send).
    pd = await startFakePagerDuty({ rateLimit: { limit: 10, windowMs: 60_000 } });
    const store = new MemoryStore();
    const env = {
      PAGERDUTY_ROUTING_KEY: ROUTING_KEY,
      PAGERDUTY_EVENTS_URL: pd.url,
      PAGERDUTY_RATE_PER_MINUTE: '10',
      HEALTH_TIME_BUDGET_SECONDS: '5',
    };
    await webhookHarness({ ...env, WEBHOOK_DEADLINE_MS: '500' }, store).post(storm(12));

    // Act
    const report = await webhookHarness(env, store).tick();

    // Assess
    expect(report.relay).toMatchObject({ due: 12, attempted: 2, delivered: 2, deferred: 10 });
    expect(pd.events.map((event) => event.outcome)).toEqual([202, 202]);
  });
});
