/**
 * The store semantics through the real webhook and health handlers: dedupe, re-fire, order per dedup_key, concurrent
 * claims, a crash between claim and send, store outage (fail open), store and PagerDuty both down (503 + replay).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../../shared/store/MemoryStore';
import { FaultyStore } from '../../support/faultyStore';
import { fakePagerDutyPerFile } from '../../support/pagerDutyPerFile';
import { webhookHarness } from '../../support/webhook';

const ROUTING_KEY = 'OUTB0XROUTINGKEY0000000000000001';
const FINGERPRINT = 'bec72890cc2c7b4a027e008df0cd1013';
const sampleJson = JSON.parse(readFileSync(new URL('../../fixtures/arms/sample.json', import.meta.url), 'utf8'));

/** The sample with its one alert at `status` and `startsAt`. */
function callback(status: 'firing' | 'resolved', startsAt = '2021-02-22T07:18:15.578000000Z'): string {
  const alert = { ...sampleJson.alerts[0], status, startsAt };
  return JSON.stringify({ ...sampleJson, status, alerts: [alert] });
}

const fake = fakePagerDutyPerFile();
const sent = () => fake.sinceTest().map((event) => event.body as { event_action: string; dedup_key: string });
const actions = () => sent().map((event) => event.event_action);

function bridgeOn(store: MemoryStore, env: Record<string, string> = {}) {
  return webhookHarness({ PAGERDUTY_ROUTING_KEY: ROUTING_KEY, PAGERDUTY_EVENTS_URL: fake.pd.url, ...env }, store);
}

describe('outbox: dedupe and occurrences', () => {
  it('sends a re-fire (new startsAt) as a new trigger with the same dedup_key', async () => {
    // Prepare
    const bridge = bridgeOn(new MemoryStore());

    // Act
    await bridge.post(callback('firing'));
    await bridge.post(callback('firing'));
    await bridge.post(callback('resolved'));
    await bridge.post(callback('firing', '2021-02-23T01:00:00.000000000Z'));

    // Assess
    expect(actions()).toEqual(['trigger', 'resolve', 'trigger']);
    expect(new Set(sent().map((event) => event.dedup_key))).toEqual(new Set([FINGERPRINT]));
  });

  it('treats the same instant written with 3 or 9 fractional digits as one occurrence', async () => {
    // Prepare
    const bridge = bridgeOn(new MemoryStore());

    // Act
    await bridge.post(callback('firing', '2021-02-22T07:18:15.578000000Z'));
    const again = await bridge.post(callback('firing', '2021-02-22T07:18:15.578Z'));

    // Assess
    expect(again.json.duplicates).toBe(1);
    expect(actions()).toEqual(['trigger']);
  });

  it('sends one event when two invocations claim the same callback at once', async () => {
    // Prepare
    const store = new MemoryStore();
    const [a, b] = [bridgeOn(store), bridgeOn(store)];

    // Act
    const responses = await Promise.all([a.post(callback('firing')), b.post(callback('firing'))]);

    // Assess
    expect(responses.map((response) => response.statusCode)).toEqual([200, 200]);
    expect(responses.map((response) => response.json.delivered).sort()).toEqual([0, 1]);
    expect(actions()).toEqual(['trigger']);
  });
});

describe('outbox: order per dedup_key', () => {
  it('never sends a trigger after its own resolve', async () => {
    // Prepare
    const bridge = bridgeOn(new MemoryStore());

    // Act
    await bridge.post(callback('resolved'));
    const late = await bridge.post(callback('firing'));

    // Assess
    expect(late.json).toMatchObject({ superseded: 1, delivered: 0 });
    expect(actions()).toEqual(['resolve']);
  });

  it('sends no alert event for an occurrence resolved before its trigger was sent (trigger and resolve superseded)', async () => {
    // Prepare: a deadline too short to send, so the trigger is queued unsent.
    const store = new MemoryStore({ now: () => Date.now() + offset });
    let offset = 0;
    const queued = await bridgeOn(store, { WEBHOOK_DEADLINE_MS: '500' }).post(callback('firing'));
    const bridge = bridgeOn(store);

    // Act
    const resolved = await bridge.post(callback('resolved'));
    offset = 3_600_000;
    const report = await bridge.tick();

    // Assess
    expect(queued.json).toMatchObject({ status: 'queued', queued: 1 });
    expect(resolved.json).toMatchObject({ superseded: 1, delivered: 0 });
    expect(report.relay).toMatchObject({ due: 0 });
    expect((await store.list()).map((row) => row.status)).toEqual(['SUPERSEDED', 'SUPERSEDED']);
    expect(actions()).toEqual([]);
  });

  it('sends the resolve of a trigger whose delivery was attempted but unconfirmed, and stops the trigger', async () => {
    // Prepare: PagerDuty fails the trigger (it may or may not have landed).
    let offset = 0;
    const store = new MemoryStore({ now: () => Date.now() + offset });
    const bridge = bridgeOn(store);
    fake.pd.script([{ status: 500 }]);
    await bridge.post(callback('firing'));

    // Act
    const resolved = await bridge.post(callback('resolved'));
    offset = 3_600_000;
    const report = await bridge.tick();

    // Assess: the 500 opened the key's circuit, so the resolve waits for the relay, which sends it as the probe.
    expect(resolved.json).toMatchObject({ queued: 1, delivered: 0 });
    expect(report.relay).toMatchObject({ delivered: 1 });
    expect(actions()).toEqual(['trigger', 'resolve']);
    expect(fake.sinceTest().map((event) => event.outcome)).toEqual([500, 202]);
  });

  it('never sends a stale resolve of an older occurrence after a newer trigger', async () => {
    // Prepare
    const bridge = bridgeOn(new MemoryStore());
    await bridge.post(callback('firing', '2021-02-22T07:18:15.578Z'));
    await bridge.post(callback('firing', '2021-02-23T09:00:00.000Z'));

    // Act
    const stale = await bridge.post(callback('resolved', '2021-02-22T07:18:15.578Z'));

    // Assess
    expect(stale.json).toMatchObject({ superseded: 1, delivered: 0 });
    expect(actions()).toEqual(['trigger', 'trigger']);
  });

  it('never sends a late trigger of an older occurrence after a newer one', async () => {
    // Prepare
    const bridge = bridgeOn(new MemoryStore());
    await bridge.post(callback('firing', '2021-02-23T09:00:00.000Z'));

    // Act
    const late = await bridge.post(callback('firing', '2021-02-22T07:18:15.578Z'));

    // Assess
    expect(late.json).toMatchObject({ superseded: 1 });
    expect(actions()).toEqual(['trigger']);
  });

  it('holds a resolve while its trigger is in flight elsewhere, then sends it after the trigger', async () => {
    // Prepare: a trigger claimed by an invocation that never finishes (its final write fails), lease still live.
    let offset = 0;
    const store = new FaultyStore({ now: () => Date.now() + offset });
    store.failWritesAfterClaim = true;
    fake.pd.script([{ hang: true }]);
    const stuck = await bridgeOn(store, { PAGERDUTY_TIMEOUT_MS: '200' }).post(callback('firing'));
    store.failWritesAfterClaim = false;
    const bridge = bridgeOn(store);

    // Act
    const resolved = await bridge.post(callback('resolved'));
    offset = 3_600_000;
    const report = await bridge.tick();

    // Assess
    expect(stuck.statusCode).toBe(202);
    expect(resolved.json).toMatchObject({ queued: 1, delivered: 0 });
    // The stuck trigger may have reached PagerDuty: it is not sent again, and its resolve is.
    expect(report.relay).toMatchObject({ due: 2, superseded: 1, delivered: 1 });
    expect(actions()).toEqual(['trigger', 'resolve']);
  });
});

describe('outbox: failures', () => {
  it('redelivers through the relay what a crashed invocation claimed but never recorded', async () => {
    // Prepare: claims land, every later write fails (as if the instance died after claiming).
    let offset = 0;
    const store = new FaultyStore({ now: () => Date.now() + offset });
    store.failWritesAfterClaim = true;
    fake.pd.script([{ reset: true }]);
    const response = await bridgeOn(store).post(callback('firing'));
    store.failWritesAfterClaim = false;

    // Act
    offset = 60_000; // past the 30 s lease
    const report = await bridgeOn(store).tick();

    // Assess
    expect(response.statusCode).toBe(202);
    expect(report.relay).toMatchObject({ due: 1, delivered: 1 });
    expect(fake.pd.accepted().slice(-1)[0]?.routingKey).toBe(ROUTING_KEY);
  });

  it('fails open when the store is down: sends straight to PagerDuty and says so', async () => {
    // Prepare
    const store = new FaultyStore();
    store.down = true;
    const bridge = bridgeOn(store);

    // Act
    const response = await bridge.post(callback('firing'));

    // Assess
    expect(response.statusCode).toBe(200);
    expect(response.json).toMatchObject({ degraded: 'store-unavailable', delivered: 1 });
    expect(actions()).toEqual(['trigger']);
    expect(bridge.lines.some((line) => line.includes('fail open'))).toBe(true);
  });

  it('answers 503 when the store and PagerDuty are both down, and the logged callback replays later', async () => {
    // Prepare
    const store = new FaultyStore();
    store.down = true;
    const bridge = bridgeOn(store);
    fake.pd.script([{ status: 503 }]);

    // Act
    const response = await bridge.post(callback('firing'));
    const replayLine = bridge.lines.map((line) => JSON.parse(line)).find((line) => line.replay !== undefined);
    store.down = false;
    const replayed = await bridge.post(Buffer.from(replayLine.replay.bodyBase64, 'base64'));

    // Assess
    expect(response.statusCode).toBe(503);
    expect(response.json.error.code).toBe('delivery_unavailable');
    expect(replayLine.level).toBe('ERROR');
    expect(replayed.json).toMatchObject({ delivered: 1 });
    expect(fake.sinceTest().map((event) => event.outcome)).toEqual([503, 202]);
  });
});

describe('outbox: the dedup window', () => {
  it('suppresses repeats within DEDUP_WINDOW_SECONDS, and sends the trigger again after it', async () => {
    // Prepare
    let offset = 0;
    const clock = () => Date.now() + offset;
    const store = new MemoryStore({ now: clock });
    const env = { PAGERDUTY_ROUTING_KEY: ROUTING_KEY, PAGERDUTY_EVENTS_URL: fake.pd.url, DEDUP_WINDOW_SECONDS: '3600' };
    const bridge = webhookHarness(env, store, clock);
    await bridge.post(callback('firing'));

    // Act
    offset = 1_800_000;
    const within = await bridge.post(callback('firing'));
    offset = 3_700_000;
    const after = await bridge.post(callback('firing'));

    // Assess
    expect(within.json).toMatchObject({ duplicates: 1, delivered: 0 });
    expect(after.json).toMatchObject({ duplicates: 0, delivered: 1 });
    expect(actions()).toEqual(['trigger', 'trigger']);
    expect((await store.list())[0]).toMatchObject({ status: 'DELIVERED', version: 4 }); // claim, delivered, taken over, delivered
  });
});

describe('outbox: lone resolves as change events', () => {
  it('records an occurrence resolved before it was paged as a change event, with no alert event', async () => {
    // Prepare: the trigger is queued unsent (deadline too short), then its resolve arrives.
    const store = new MemoryStore();
    const env = { LONE_RESOLVES_AS_CHANGE_EVENTS: 'true' };
    await bridgeOn(store, { ...env, WEBHOOK_DEADLINE_MS: '500' }).post(callback('firing'));

    // Act
    const resolved = await bridgeOn(store, env).post(callback('resolved'));

    // Assess
    expect(resolved.json).toMatchObject({ superseded: 1, delivered: 0 });
    expect(actions()).toEqual([]);
    expect(fake.pd.changeEvents.slice(-1)[0]).toMatchObject({
      routingKey: ROUTING_KEY,
      body: { payload: { summary: expect.stringMatching(/^Resolved before it was paged: /) } },
    });
  });
});
