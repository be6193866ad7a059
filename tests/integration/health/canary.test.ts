/**
 * The end-to-end canary through the real handlers: delivery-health posts a synthetic alert to the webhook's URL (here a
 * loopback server that hands the request to the webhook's handler chain, as FC's HTTP trigger would), checks in the
 * store that it was delivered, then resolves it; a canary PagerDuty does not take goes `missing` and fails the verdict.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../../shared/store/MemoryStore';
import type { FakePagerDuty } from '../../support/fakePagerDuty';
import { type KeyFailingProxy, startKeyFailingProxy } from '../../support/keyFailingProxy';
import { fakePagerDutyPerTest } from '../../support/pagerDutyPerFile';
import { type Harness, webhookHarness } from '../../support/webhook';

const MAIN_KEY = 'CANARYTESTMAINROUTINGKEY00000001';
const CANARY_KEY = 'CANARYTESTCANARYROUTINGKEY000001';
const TOKEN = 'canary-test-token-7d1e';
const ROUTES = JSON.stringify([{ name: 'canary', matchers: ['bridge_canary="true"'], routingKey: CANARY_KEY }]);
/** Near the real time: parts of the bridge judge an alert's age by `startsAt`. Whole seconds, as `startsAt` is sent. */
const START = Math.floor(Date.now() / 1000) * 1000;

interface WebhookCall {
  token: string | undefined;
  status: string;
  fingerprint: string;
  answered: number;
}

const pagerDuties = fakePagerDutyPerTest();
let pd: FakePagerDuty;
let proxy: KeyFailingProxy;
let server: Server;
let canaryUrl: string;
/** The bridge the loopback "HTTP trigger" forwards to; set by each test. */
let bridge: Harness | undefined;
const calls: WebhookCall[] = [];

beforeEach(async () => {
  pd = await pagerDuties.start();
  proxy = await startKeyFailingProxy({ target: pd.url, failingKey: CANARY_KEY });
  proxy.failing = false;
  calls.length = 0;
  bridge = undefined;
  server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', async () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const token = request.headers['x-webhook-token'] as string | undefined;
      if (bridge === undefined) throw new Error('no bridge to forward to');
      const answer = await bridge.post(body, { headers: token === undefined ? {} : { 'X-Webhook-Token': token } });
      const alert = (JSON.parse(body) as { alerts: { status: string; fingerprint: string }[] }).alerts[0];
      calls.push({
        token,
        status: alert?.status ?? '',
        fingerprint: alert?.fingerprint ?? '',
        answered: answer.statusCode,
      });
      response.writeHead(answer.statusCode, { 'content-type': 'application/json' });
      response.end(answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  canaryUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhook`;
});
afterEach(async () => {
  await new Promise((resolve) => server.close(resolve));
  await proxy.close();
});

/** A bridge on an injectable clock, its PagerDuty behind the key-failing proxy. */
function canaryBridge(extra: Record<string, string> = {}) {
  const clock = { now: START };
  const now = () => clock.now;
  const env = {
    WEBHOOK_TOKENS: TOKEN,
    PAGERDUTY_ROUTING_KEY: MAIN_KEY,
    PAGERDUTY_EVENTS_URL: proxy.url,
    PAGERDUTY_ROUTES: ROUTES,
    RETRY_BASE_SECONDS: '60',
    RETRY_MAX_SECONDS: '60',
    HEALTH_MAX_OUTBOX_AGE_SECONDS: '86400',
    ...extra,
  };
  bridge = webhookHarness(env, new MemoryStore({ now }), now);
  return { bridge, clock };
}

const canaryEvents = () =>
  pd.events
    .filter((event) => event.routingKey === CANARY_KEY)
    .map((event) => {
      const body = event.body as { event_action: string; dedup_key: string };
      return `${body.event_action} ${body.dedup_key}`;
    });

describe('canary', () => {
  it('is off by default: no request, no canary in the report', async () => {
    // Prepare
    const { bridge } = canaryBridge();

    // Act
    const report = await bridge.tick();

    // Assess
    expect(report).toMatchObject({ ok: true, verdict: 'healthy' });
    expect(report.canary).toBeUndefined();
    expect(calls).toEqual([]);
    expect(pd.events).toEqual([]);
  });

  it('sends a canary through the webhook, sees it delivered on a later run, then resolves it', async () => {
    // Prepare
    const { bridge, clock } = canaryBridge({ CANARY_URL: canaryUrl, CANARY_INTERVAL_SECONDS: '60' });
    const fingerprint = `bridge-canary-${START}`;

    // Act 1: the first run sends the canary.
    const first = await bridge.tick();

    // Assess 1
    expect(first.canary).toEqual({ state: 'sent', lastSentAt: new Date(START).toISOString() });
    expect(calls).toEqual([{ token: TOKEN, status: 'firing', fingerprint, answered: expect.any(Number) }]);
    expect(calls[0]?.answered).toBeLessThan(300);
    expect(canaryEvents()).toEqual([`trigger ${fingerprint}`]);

    // Act 2: a later run (within the interval) finds it DELIVERED and resolves it.
    clock.now += 30_000;
    const second = await bridge.tick();

    // Assess 2
    expect(second).toMatchObject({ verdict: 'healthy', canary: { state: 'delivered' } });
    expect(calls.map((call) => `${call.status} ${call.fingerprint}`)).toEqual([
      `firing ${fingerprint}`,
      `resolved ${fingerprint}`,
    ]);
    expect(canaryEvents()).toEqual([`trigger ${fingerprint}`, `resolve ${fingerprint}`]);
    expect(pd.events.filter((event) => event.routingKey === MAIN_KEY)).toEqual([]);
    expect(bridge.lines.join('\n')).not.toContain(TOKEN);
  });

  it('reports missing and fails the verdict when the canary is not delivered within one interval', async () => {
    // Prepare: PagerDuty answers 500 for the canary's key only.
    const { bridge, clock } = canaryBridge({ CANARY_URL: canaryUrl, CANARY_INTERVAL_SECONDS: '60' });
    proxy.failing = true;

    // Act 1
    const first = await bridge.tick();

    // Assess 1
    expect(first.canary).toMatchObject({ state: 'sent' });
    expect(first.rules).not.toContain('canary');

    // Act 2: one interval later it is still not delivered.
    clock.now += 61_000;
    const second = await bridge.tick();

    // Assess 2
    expect(second).toMatchObject({
      verdict: 'failing',
      rule: 'canary',
      canary: { state: 'missing', lastSentAt: new Date(START + 61_000).toISOString() },
    });
    expect(second.canary.detail).toMatch(/its delivery is RETRY/);
    // The missing canary is withdrawn with its resolve, and a fresh one is sent.
    expect(calls.map((call) => `${call.status} ${call.fingerprint}`)).toEqual([
      `firing bridge-canary-${START}`,
      `resolved bridge-canary-${START}`,
      `firing bridge-canary-${START + 61_000}`,
    ]);
    expect(canaryEvents()).toEqual([]);
  });
});
