/**
 * The delivery-health run end to end through the real handlers: PagerDuty failing for the main key → backlog grows
 * → the report goes failing, the self-alert is triggered on the health key and the heartbeat gets `/fail` →
 * PagerDuty recovers → the backlog drains, each delivery once → the self-alert is resolved, the heartbeat healthy.
 */

import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StoreError } from '../../../shared/errors';
import { MemoryStore } from '../../../shared/store/MemoryStore';
import type { FakePagerDuty } from '../../support/fakePagerDuty';
import { fakePagerDutyPerTest } from '../../support/pagerDutyPerFile';
import { webhookHarness } from '../../support/webhook';

const MAIN_KEY = 'HEALTHMAINROUTINGKEY000000000001';
const HEALTH_KEY = 'HEALTHSELFALERTKEY00000000000001';
const HEARTBEAT_TOKEN = 'hb-token-5f2c9a';
const sample = readFileSync(new URL('../../fixtures/arms/sample.json', import.meta.url), 'utf8');

/** A memory store whose due reads (`listDue`) fail while `failures` lasts, counting those that failed. */
class FlakyDueStore extends MemoryStore {
  public failures = 0;
  public failedReads = 0;
  public constructor(now: () => number) {
    super({ now });
  }
  public override async listDue(limit: number, withinMs?: number) {
    if (this.failures-- > 0) {
      this.failedReads++;
      throw new StoreError('due read failed (test: a store blip)');
    }
    return super.listDue(limit, withinMs);
  }
}

const pagerDuties = fakePagerDutyPerTest();
let pd: FakePagerDuty;
let heartbeat: Server;
let heartbeatUrl: string;
const pings: string[] = [];

beforeEach(async () => {
  pd = await pagerDuties.start();
  pings.length = 0;
  heartbeat = createServer((request, response) => {
    pings.push(request.url ?? '');
    response.end('OK');
  });
  await new Promise<void>((resolve) => heartbeat.listen(0, '127.0.0.1', resolve));
  heartbeatUrl = `http://127.0.0.1:${(heartbeat.address() as AddressInfo).port}/ping/${HEARTBEAT_TOKEN}`;
});
afterEach(async () => {
  await new Promise((resolve) => heartbeat.close(resolve));
});

describe('delivery-health: deployed with an invalid configuration', () => {
  it('answers every run with the configuration error instead of a report, logs it once, never crashes', async () => {
    // Prepare: the health key pages the key that is failing, so nobody would hear of it.
    const bridge = webhookHarness({
      PAGERDUTY_ROUTING_KEY: MAIN_KEY,
      PAGERDUTY_EVENTS_URL: pd.url,
      HEALTH_ROUTING_KEY: MAIN_KEY,
      HEARTBEAT_URL: heartbeatUrl,
    });

    // Act
    const runs = [await bridge.tick(), await bridge.tick()];

    // Assess
    for (const run of runs) {
      expect(run).toEqual({ ok: false, error: { code: 'config_invalid', problems: [expect.any(String)] } });
      expect(JSON.stringify(run)).not.toContain(MAIN_KEY);
    }
    expect(pings).toEqual([]);
    expect(pd.requests).toEqual([]);
    const configLines = bridge.lines.filter((line) => line.includes('configuration invalid'));
    expect(configLines).toHaveLength(2); // once per instance: the webhook's and the health function's
  });
});

describe('delivery-health', () => {
  it('reports healthy with nothing waiting, and pings the heartbeat', async () => {
    // Prepare
    const bridge = webhookHarness({
      PAGERDUTY_ROUTING_KEY: MAIN_KEY,
      PAGERDUTY_EVENTS_URL: pd.url,
      HEARTBEAT_URL: heartbeatUrl,
    });

    // Act
    const report = await bridge.tick();

    // Assess
    expect(report).toMatchObject({
      ok: true,
      verdict: 'healthy',
      rule: 'ok',
      storeReachable: true,
      heartbeat: { ok: true },
    });
    expect(pings).toEqual([`/ping/${HEARTBEAT_TOKEN}`]);
  });

  it('goes failing when PagerDuty fails, self-alerts on the health key, and recovers when PagerDuty does', async () => {
    // Prepare
    let offset = 0;
    const store = new MemoryStore({ now: () => Date.now() + offset });
    const env = {
      PAGERDUTY_ROUTING_KEY: MAIN_KEY,
      PAGERDUTY_EVENTS_URL: pd.url,
      HEALTH_ROUTING_KEY: HEALTH_KEY,
      HEARTBEAT_URL: heartbeatUrl,
      HEALTH_MAX_OUTBOX_AGE_SECONDS: '1',
      HEALTH_DEGRADED_OUTBOX_AGE_SECONDS: '0',
      RETRY_BASE_SECONDS: '60',
      RETRY_MAX_SECONDS: '60',
    };
    const bridge = webhookHarness(env, store, () => Date.now() + offset);
    pd.script([{ status: 500 }]);

    // Act 1: the trigger fails and waits; time passes beyond the outbox-age threshold.
    const response = await bridge.post(sample);
    await new Promise((resolve) => setTimeout(resolve, 1_600));
    const failing = await bridge.tick();

    // Assess 1
    expect(response.statusCode).toBe(202);
    expect(failing).toMatchObject({
      verdict: 'failing',
      rule: 'outbox-age',
      selfAlert: { state: 'open', sent: 'trigger' },
    });
    expect(failing.window.failures).toEqual({ server: 1 });
    expect(failing.outbox).toEqual({ RETRY: 1 });
    const selfAlerts = pd.events.filter((event) => event.routingKey === HEALTH_KEY);
    expect(selfAlerts.map((event) => (event.body as { event_action: string }).event_action)).toEqual(['trigger']);
    expect(pings.slice(-1)).toEqual([`/ping/${HEARTBEAT_TOKEN}/fail`]);

    // Act 2: PagerDuty is back and the retry is due.
    offset = 7_200_000;
    const recovered = await bridge.tick();

    // Assess 2
    expect(recovered).toMatchObject({
      verdict: 'healthy',
      selfAlert: { state: 'closed', sent: 'resolve' },
      outbox: {},
    });
    expect(recovered.relay).toMatchObject({ due: 1, delivered: 1 });
    const main = pd.events.filter((event) => event.routingKey === MAIN_KEY).map((event) => event.outcome);
    expect(main).toEqual([500, 202]);
    const health = pd.events.filter((event) => event.routingKey === HEALTH_KEY);
    expect(health.map((event) => (event.body as { event_action: string }).event_action)).toEqual([
      'trigger',
      'resolve',
    ]);
    expect(pings.slice(-1)).toEqual([`/ping/${HEARTBEAT_TOKEN}`]);
    expect(bridge.lines.join('\n')).not.toContain(HEARTBEAT_TOKEN);
  });

  it.each([
    // A blip: two failed tries, the third drains in the same run (no minute waited for the next timer run).
    [2, { due: 1, delivered: 1 }],
    // Down for good: after 3 tries again the run gives up and reports the store unreachable.
    [Number.POSITIVE_INFINITY, undefined],
  ])('tries the relay again within its run when the store fails (%s failures)', async (failures, relay) => {
    // Prepare: a trigger PagerDuty refused once, due again later; then the store's due read fails `failures` times.
    let offset = 0;
    const store = new FlakyDueStore(() => Date.now() + offset);
    const env = {
      PAGERDUTY_ROUTING_KEY: MAIN_KEY,
      PAGERDUTY_EVENTS_URL: pd.url,
      RETRY_BASE_SECONDS: '60',
      RETRY_MAX_SECONDS: '60',
    };
    const bridge = webhookHarness(env, store, () => Date.now() + offset);
    pd.script([{ status: 500 }]);
    await bridge.post(sample);
    offset = 7_200_000;
    store.failures = failures;

    // Act
    const run = await bridge.tick();

    // Assess
    // The first try and 3 tries again at most.
    expect(store.failedReads).toBe(Math.min(failures, 4));
    expect(run.relay).toEqual(relay === undefined ? undefined : expect.objectContaining(relay));
    const main = pd.events.filter((event) => event.routingKey === MAIN_KEY).map((event) => event.outcome);
    expect(main).toEqual(relay === undefined ? [500] : [500, 202]);
    const tries = bridge.lines.filter((line) => line.includes('relay: the store failed; trying again'));
    expect(tries).toHaveLength(Math.min(failures, 3));
  });

  it('counts refused callbacks by error code and goes degraded on them', async () => {
    // Prepare
    const bridge = webhookHarness({ WEBHOOK_TOKENS: 'right-token-123456' });

    // Act
    await bridge.post(sample, { headers: { 'X-Webhook-Token': 'wrong' } });
    await bridge.post('{', { headers: { 'X-Webhook-Token': 'right-token-123456' } });
    await bridge.post('$alertmanager_content', { headers: { 'X-Webhook-Token': 'right-token-123456' } });
    const report = await bridge.tick();

    // Assess
    expect(report.window).toMatchObject({
      rejectedCallbacks: { unauthorized: 1, malformed_json: 1 },
      consoleTests: 1,
    });
    expect(report.verdict).toBe('degraded');
    expect(report.lastCallbackAt).not.toBeNull();
  });

  it('fails when the Watchdog alert has not arrived within its interval, and clears when it does', async () => {
    // Prepare
    const bridge = webhookHarness({ WATCHDOG_ALERTNAME: 'Watchdog', WATCHDOG_INTERVAL_SECONDS: '60' });
    const watchdog = JSON.parse(sample);
    watchdog.alerts[0].labels.alertname = 'Watchdog';

    // Act
    const before = await bridge.tick();
    await bridge.post(JSON.stringify(watchdog));
    const after = await bridge.tick();

    // Assess
    expect(before).toMatchObject({ verdict: 'failing', rule: 'watchdog' });
    expect(after.verdict).toBe('healthy');
    expect(after.watchdog.lastSeenAt).not.toBeNull();
  });
});
