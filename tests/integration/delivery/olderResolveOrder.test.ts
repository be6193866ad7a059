/**
 * An older occurrence's resolve never lands after a newer occurrence's trigger of the same alert (one dedup_key), across
 * instances: PagerDuty applies events in arrival order, so that resolve would close the live incident (a page lost).
 * Real webhook handler chains and the real relay on one store, a real loopback PagerDuty, and the interleavings
 * forced by a store whose calls wait at chosen points (no sleeps, no timings): R1 is the resolve of occurrence 1,
 * T2 the trigger of occurrence 2.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createBridge } from '../../../shared/app';
import { DeliveryStatus, EventAction } from '../../../shared/constants';
import { Deadline } from '../../../shared/deadline';
import { relayDue } from '../../../shared/delivery/relay';
import { sendRecord } from '../../../shared/delivery/sendRecord';
import type { DeliveryRecord } from '../../../shared/store/DeliveryRecord';
import type { ClaimOutcome } from '../../../shared/store/DeliveryStore';
import { MemoryStore } from '../../../shared/store/MemoryStore';
import type { OccurrenceMarker } from '../../../shared/store/OccurrenceMarker';
import { fakePagerDutyPerFile } from '../../support/pagerDutyPerFile';
import { webhookHarness } from '../../support/webhook';

const ROUTING_KEY = 'ORDER0ROUTINGKEY0000000000000001';
const sample = JSON.parse(readFileSync(new URL('../../fixtures/arms/sample.json', import.meta.url), 'utf8'));
const O1 = '2026-12-01T10:00:00.000Z';
const O2 = '2026-12-01T10:05:00.000Z';

/** A callback of one alert (`fingerprint`) of the occurrence that started at `startsAt`. */
function callback(fingerprint: string, status: 'firing' | 'resolved', startsAt: string): string {
  return JSON.stringify({ ...sample, status, alerts: [{ ...sample.alerts[0], fingerprint, status, startsAt }] });
}

/** Resolves when `open` is called: one step of a forced interleaving. */
function step(): { reached: Promise<void>; open: () => void } {
  let open = () => {};
  const reached = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { reached, open };
}

/** A store whose claims, batch writes and marker reads wait, before or after they are done, where a test says. */
class StepStore extends MemoryStore {
  public beforeClaim?: (records: readonly DeliveryRecord[]) => Promise<void>;
  public afterClaim?: (records: readonly DeliveryRecord[]) => Promise<void>;
  public beforeWrite?: (records: readonly DeliveryRecord[]) => Promise<void>;
  public afterWrite?: (records: readonly DeliveryRecord[]) => Promise<void>;
  public afterMarkersRead?: () => Promise<void>;

  public override async claim(records: readonly DeliveryRecord[]): Promise<ClaimOutcome[]> {
    await this.beforeClaim?.(records);
    const outcomes = await super.claim(records);
    await this.afterClaim?.(records);
    return outcomes;
  }

  public override async getMarkers(dedupKeys: readonly string[]): Promise<Map<string, OccurrenceMarker>> {
    const markers = await super.getMarkers(dedupKeys);
    await this.afterMarkersRead?.();
    return markers;
  }

  public override async replaceMany(records: readonly DeliveryRecord[]): Promise<boolean[]> {
    await this.beforeWrite?.(records);
    const written = await super.replaceMany(records);
    await this.afterWrite?.(records);
    return written;
  }
}

const isR1 = (records: readonly DeliveryRecord[]) => records.some((record) => record.action === EventAction.RESOLVE);
const isT2 = (records: readonly DeliveryRecord[]) =>
  records.some((record) => record.action === EventAction.TRIGGER && record.occurrence === Date.parse(O2));
const leasesR1 = (records: readonly DeliveryRecord[]) =>
  records.some((record) => record.action === EventAction.RESOLVE && record.status === DeliveryStatus.SENDING);

const fake = fakePagerDutyPerFile();

const env = () => ({
  PAGERDUTY_ROUTING_KEY: ROUTING_KEY,
  PAGERDUTY_EVENTS_URL: fake.pd.url,
  PAGERDUTY_RATE_PER_MINUTE: '100000',
});

/** A webhook whose deadline leaves no time to send: it queues what it accepts for the relay. */
const queueing = () => ({ ...env(), WEBHOOK_DEADLINE_MS: '500' });

/** Occurrence 1 fired and was paged; returns what PagerDuty receives for `fingerprint` from here on. */
async function pagedOccurrence1(fingerprint: string, store: StepStore, clock: { now: number }) {
  const first = await webhookHarness(env(), store, () => clock.now).post(callback(fingerprint, 'firing', O1));
  expect(first.json).toMatchObject({ delivered: 1 });
  const baseline = fake.pd.events.length;
  return () =>
    fake.pd.events
      .slice(baseline)
      .filter((event) => (event.body as { dedup_key: string }).dedup_key === fingerprint)
      .map((event) => (event.body as { event_action: string }).event_action);
}

/** The relay on `store`, its sleeps moving the clock instead of waiting. */
function relayRun(store: StepStore, clock: { now: number }) {
  const built = createBridge('delivery-health', env(), { store, now: () => clock.now, logSink: () => {} });
  if (!built.ok) throw built.error;
  return relayDue({
    ...built.bridge,
    deadline: new Deadline(30_000, () => clock.now),
    send: sendRecord,
    sleep: async (ms) => {
      clock.now += ms;
    },
  });
}

describe('ordering across instances: an older resolve and a newer trigger of one alert', () => {
  it('two webhooks, both read, T2 claims and is sent first: R1 is not sent after it', async () => {
    // Prepare: each instance reads (marker: occurrence 1; no R1, no T2) before either claims; R1 claims only once T2's
    // webhook has answered.
    const clock = { now: Date.now() };
    const store = new StepStore({ now: () => clock.now });
    const actions = await pagedOccurrence1('order-w1', store, clock);
    const [a, b] = [webhookHarness(env(), store, () => clock.now), webhookHarness(env(), store, () => clock.now)];
    const bothRead = { count: 0, ...step() };
    const t2Answered = step();
    store.beforeClaim = async (records) => {
      if (++bothRead.count === 2) bothRead.open();
      await bothRead.reached;
      if (isR1(records)) await t2Answered.reached;
    };

    // Act
    const resolving = a.post(callback('order-w1', 'resolved', O1));
    const trigger = await b.post(callback('order-w1', 'firing', O2));
    t2Answered.open();
    const resolve = await resolving;
    clock.now += 60_000; // past every recheck and lease
    await relayRun(store, clock);

    // Assess
    expect(actions()).toEqual(['trigger']);
    expect(trigger.json).toMatchObject({ delivered: 1 });
    expect(resolve.json).toMatchObject({ delivered: 0, superseded: 1 });
  });

  it('two webhooks, both read, R1 claimed but not yet sent when T2 claims: T2 waits for R1', async () => {
    // Prepare: both read before either claims; R1's row is written (SENDING) first, and its webhook is held between
    // its claim and its send until T2's webhook has answered.
    const clock = { now: Date.now() };
    const store = new StepStore({ now: () => clock.now });
    const actions = await pagedOccurrence1('order-w2', store, clock);
    const [a, b] = [webhookHarness(env(), store, () => clock.now), webhookHarness(env(), store, () => clock.now)];
    const bothRead = { count: 0, ...step() };
    const r1Written = step();
    const t2Answered = step();
    store.beforeClaim = async (records) => {
      if (++bothRead.count === 2) bothRead.open();
      await bothRead.reached;
      if (isT2(records)) await r1Written.reached;
    };
    store.afterClaim = async (records) => {
      if (!isR1(records)) return;
      r1Written.open();
      await t2Answered.reached;
    };

    // Act
    const resolving = a.post(callback('order-w2', 'resolved', O1));
    const trigger = await b.post(callback('order-w2', 'firing', O2));
    t2Answered.open();
    const resolve = await resolving;
    clock.now += 60_000; // past R1's lease, which T2 waits for
    const relayed = await relayRun(store, clock);

    // Assess: R1 went first, T2 after it (from the relay): the incident of occurrence 2 stays open.
    expect(actions()).toEqual(['resolve', 'trigger']);
    expect(trigger.json).toMatchObject({ delivered: 0, queued: 1 });
    expect(resolve.json).toMatchObject({ delivered: 1 });
    expect(relayed).toMatchObject({ delivered: 1 });
  });

  it('R1 sent by the relay, T2 on a webhook: R1 leased only after T2 was sent is superseded', async () => {
    // Prepare: R1 was queued for the relay (PENDING, due); the relay reads it and its ordering context, then T2's webhook runs
    // whole before the relay's lease write.
    const clock = { now: Date.now() };
    const store = new StepStore({ now: () => clock.now });
    const actions = await pagedOccurrence1('order-r1', store, clock);
    const queued = await webhookHarness(queueing(), store, () => clock.now).post(callback('order-r1', 'resolved', O1));
    expect(queued.json).toMatchObject({ queued: 1 });
    const relayRead = step();
    const t2Answered = step();
    store.beforeWrite = async (records) => {
      if (!leasesR1(records)) return;
      relayRead.open();
      await t2Answered.reached;
    };

    // Act
    const relaying = relayRun(store, clock);
    await relayRead.reached;
    const trigger = await webhookHarness(env(), store, () => clock.now).post(callback('order-r1', 'firing', O2));
    t2Answered.open();
    const relayed = await relaying;

    // Assess
    expect(actions()).toEqual(['trigger']);
    expect(trigger.json).toMatchObject({ delivered: 1 });
    expect(relayed).toMatchObject({ superseded: 1, delivered: 0 });
  });

  it('R1 on the wire from the relay when T2 reaches a webhook: T2 waits, and the relay sends it after R1', async () => {
    // Prepare: R1 was queued for the relay; the relay's lease of R1 is written, and the relay is held there (R1 not
    // yet sent) while T2's webhook runs whole.
    const clock = { now: Date.now() };
    const store = new StepStore({ now: () => clock.now });
    const actions = await pagedOccurrence1('order-r2', store, clock);
    await webhookHarness(queueing(), store, () => clock.now).post(callback('order-r2', 'resolved', O1));
    const leased = step();
    const t2Answered = step();
    store.afterWrite = async (records) => {
      if (!leasesR1(records)) return;
      leased.open();
      await t2Answered.reached;
    };

    // Act
    const relaying = relayRun(store, clock);
    await leased.reached;
    const trigger = await webhookHarness(env(), store, () => clock.now).post(callback('order-r2', 'firing', O2));
    t2Answered.open();
    const relayed = await relaying;

    // Assess: T2 queued behind R1 and sent by the same relay run once R1 was delivered (its recheck, within 2 s).
    expect(actions()).toEqual(['resolve', 'trigger']);
    expect(trigger.json).toMatchObject({ delivered: 0, queued: 1 });
    expect(relayed).toMatchObject({ delivered: 2 });
  });

  it('T2 waiting behind R1 on a webhook, judged again by the relay while R1 is still on the wire: it waits again', async () => {
    // Prepare: R1's webhook is held after its claim (R1 SENDING, leased 30 s) and its recheck, just before its send;
    // T2 reaches another webhook meanwhile, and the relay judges T2 again 2 s later, R1 still held.
    const clock = { now: Date.now() };
    const store = new StepStore({ now: () => clock.now });
    const actions = await pagedOccurrence1('order-w3', store, clock);
    // R1's webhook has time to send it after the relay's run (its deadline is on the same clock).
    const a = webhookHarness({ ...env(), WEBHOOK_DEADLINE_MS: '20000' }, store, () => clock.now);
    const b = webhookHarness(env(), store, () => clock.now);
    const r1Rechecked = step();
    const released = step();
    let r1Claimed = false;
    store.afterClaim = async (records) => {
      r1Claimed ||= isR1(records);
    };
    store.afterMarkersRead = async () => {
      if (!r1Claimed) return;
      r1Claimed = false; // R1's recheck: the first marker read after its claim
      r1Rechecked.open();
      await released.reached;
    };

    // Act
    const resolving = a.post(callback('order-w3', 'resolved', O1));
    await r1Rechecked.reached;
    const trigger = await b.post(callback('order-w3', 'firing', O2));
    clock.now += 2_000; // T2's recheck is due; R1's lease is not over
    const early = await relayRun(store, clock);
    released.open();
    await resolving;
    clock.now += 2_000;
    await relayRun(store, clock);

    // Assess: the relay still found R1 (T2 left the marker at occurrence 1) and held T2 until R1 was sent.
    expect(actions()).toEqual(['resolve', 'trigger']);
    expect(trigger.json).toMatchObject({ delivered: 0, queued: 1 });
    expect(early).toMatchObject({ delivered: 0, waiting: 1 });
  });
});
