/**
 * PagerDuty fault storm (issue 7, "Fault tests"): 2,000 alerts arrive in 40 callbacks through the real webhook chain,
 * two callbacks at a time on two webhook instances with a relay instance running alongside, all on one store, while
 * the fake PagerDuty answers a seeded third of the requests with 429, 500, a hang or a connection reset. After
 * the faults stop, delivery-health runs until the outbox is empty. Then every occurrence reached PagerDuty, none twice
 * per delivery key, none lost, and no trigger went out after its own resolve (CONTRACT.md §5.8, docs/delivery.md
 * "How it works"). Occurrences resolved before their trigger was delivered are counted apart, as the health report does.
 *
 * Time: the store's clock and the functions' clock are one injectable clock, moved forward between runs so retries
 * (RETRY_* = 1 s) come due without waiting; hangs end at PAGERDUTY_TIMEOUT_MS (1 s: long enough that an answer
 * PagerDuty did give is never taken for a timeout on a loaded machine, with 32 sends in flight). No assertion is about
 * time.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { DeliveryStatus } from '../../../shared/constants';
import { RESOLVED_BEFORE_DELIVERY } from '../../../shared/delivery/ordering';
import type { DeliveryRecord } from '../../../shared/store/DeliveryRecord';
import { MemoryStore } from '../../../shared/store/MemoryStore';
import {
  type FakePagerDuty,
  type ReceivedRequest,
  type ScriptStep,
  startFakePagerDuty,
} from '../../support/fakePagerDuty';
import { fakePagerDutyPerTest } from '../../support/pagerDutyPerFile';
import { type Harness, webhookHarness } from '../../support/webhook';

const ROUTING_KEY = 'FAULTSTORMROUTINGKEY000000000001';
const sample = JSON.parse(readFileSync(new URL('../../fixtures/arms/sample.json', import.meta.url), 'utf8'));

const CALLBACKS = 40;
const ALERTS_PER_CALLBACK = 50; // 2,000 alerts in all
const SEED = 0x5eed_0007;
/** Upper bound of relay runs once the faults stop; the outbox empties in a handful. */
const MAX_DRAIN_TICKS = 60;
/** The reason `ordering.ts` records on a resolve held back for a newer occurrence. */
const NEWER_OCCURRENCE = /^a newer occurrence of this alert/;

/** mulberry32: a small seeded PRNG, so a failing run can be replayed exactly. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

interface PlannedAlert {
  fingerprint: string;
  status: 'firing' | 'resolved';
  /** Epoch ms: the occurrence. */
  startsAt: number;
  endsAt?: number;
}

/** An occurrence: one firing period of an identity. */
const occurrenceId = (fingerprint: string, startsAt: number) => `${fingerprint}@${startsAt}`;

/**
 * 40 callbacks of 50 alerts: new firing alerts, resolves of occurrences fired one to a few callbacks earlier (so some
 * triggers are still queued or retrying when their resolve arrives), and re-fires (a new `startsAt`) of identities
 * already resolved.
 */
function planStorm(random: () => number): PlannedAlert[][] {
  const base = Date.parse('2024-05-01T00:00:00.000Z');
  const open: { fingerprint: string; startsAt: number; callback: number }[] = [];
  const closed: string[] = [];
  const lastStart = new Map<string, number>();
  let nextIdentity = 0;
  let tick = 0;
  const callbacks: PlannedAlert[][] = [];
  for (let index = 0; index < CALLBACKS; index++) {
    const alerts: PlannedAlert[] = [];
    const used = new Set<string>();
    const resolves = index < 4 ? 0 : 10 + Math.floor(random() * 11);
    // Resolves, mostly of recent occurrences.
    for (let count = 0; count < resolves && open.length > 0; count++) {
      const recent = open.filter((item) => item.callback >= index - 3 && !used.has(item.fingerprint));
      const pool = recent.length > 0 && random() < 0.7 ? recent : open.filter((item) => !used.has(item.fingerprint));
      const chosen = pool[Math.floor(random() * pool.length)];
      if (chosen === undefined) break;
      open.splice(open.indexOf(chosen), 1);
      used.add(chosen.fingerprint);
      alerts.push({
        fingerprint: chosen.fingerprint,
        status: 'resolved',
        startsAt: chosen.startsAt,
        endsAt: chosen.startsAt + 60_000 + index,
      });
      closed.push(chosen.fingerprint);
    }
    // Re-fires of identities resolved in an earlier callback.
    const refires = index < 6 ? 0 : Math.floor(random() * 4);
    for (let count = 0; count < refires; count++) {
      const candidates = closed.filter((fingerprint) => !used.has(fingerprint));
      const fingerprint = candidates[Math.floor(random() * candidates.length)];
      if (fingerprint === undefined) break;
      closed.splice(closed.indexOf(fingerprint), 1);
      used.add(fingerprint);
      const startsAt = (lastStart.get(fingerprint) ?? base) + 3_600_000 + tick++;
      lastStart.set(fingerprint, startsAt);
      alerts.push({ fingerprint, status: 'firing', startsAt });
      open.push({ fingerprint, startsAt, callback: index });
    }
    // New alerts fill the callback.
    while (alerts.length < ALERTS_PER_CALLBACK) {
      const fingerprint = `storm-${String(nextIdentity++).padStart(5, '0')}`;
      const startsAt = base + tick++ * 1_000;
      lastStart.set(fingerprint, startsAt);
      alerts.push({ fingerprint, status: 'firing', startsAt });
      open.push({ fingerprint, startsAt, callback: index });
    }
    // Shuffle, so resolves and triggers interleave within the callback.
    for (let i = alerts.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [alerts[i], alerts[j]] = [alerts[j] as PlannedAlert, alerts[i] as PlannedAlert];
    }
    callbacks.push(alerts);
  }
  return callbacks;
}

function callbackBody(alerts: PlannedAlert[]): string {
  const template = sample.alerts[0];
  const body = alerts.map((alert) => ({
    ...template,
    fingerprint: alert.fingerprint,
    labels: { ...template.labels, alertname: `storm ${alert.fingerprint}` },
    status: alert.status,
    startsAt: new Date(alert.startsAt).toISOString(),
    // ARMS sets endsAt in the future on firing alerts; only `status` decides the action.
    endsAt: new Date((alert.endsAt ?? alert.startsAt) + 300_000).toISOString(),
  }));
  const status = alerts.some((alert) => alert.status === 'firing') ? 'firing' : 'resolved';
  return JSON.stringify({ ...sample, status, alerts: body });
}

/**
 * Turns on a seeded fault for about a third of the requests the fake receives while `active()`: each request, as it
 * is recorded, gets a scripted answer queued just for it (the fake records a request, then takes the next scripted
 * step). Requests without a fault get the fake's normal, validating answer.
 */
function stormOn(pd: FakePagerDuty, random: () => number, active: () => boolean) {
  const faults: Record<string, number> = { 429: 0, 500: 0, hang: 0, reset: 0 };
  const push = pd.requests.push.bind(pd.requests);
  pd.requests.push = (...items: ReceivedRequest[]) => {
    if (active() && random() < 1 / 3) {
      const roll = random();
      let step: ScriptStep;
      if (roll < 0.3) {
        step = {
          status: 429,
          body: { status: 'throttled', message: 'Requests for this service are arriving too quickly.' },
        };
        faults[429] = (faults[429] ?? 0) + 1;
      } else if (roll < 0.65) {
        step = { status: 500, body: 'Internal Server Error' };
        faults[500] = (faults[500] ?? 0) + 1;
      } else if (roll < 0.9) {
        step = { reset: true };
        faults.reset = (faults.reset ?? 0) + 1;
      } else {
        step = { hang: true };
        faults.hang = (faults.hang ?? 0) + 1;
      }
      pd.script([step]);
    }
    return push(...items);
  };
  return faults;
}

interface SentEvent {
  event_action: 'trigger' | 'resolve';
  dedup_key: string;
  payload: { timestamp?: string; custom_details: { starts_at: string } };
}

const sentOf = (request: ReceivedRequest) => request.body as SentEvent;
const occurrenceOfEvent = (event: SentEvent) =>
  occurrenceId(event.dedup_key, Date.parse(event.payload.custom_details.starts_at));

const ENV = {
  PAGERDUTY_ROUTING_KEY: ROUTING_KEY,
  PAGERDUTY_TIMEOUT_MS: '1000',
  PAGERDUTY_RATE_PER_MINUTE: '100000',
  RETRY_BASE_SECONDS: '1',
  RETRY_MAX_SECONDS: '1',
  HEALTH_TIME_BUDGET_SECONDS: '5',
  LOG_LEVEL: 'ERROR',
};

/** Relay runs until nothing waits (bounded); returns how many it took. */
async function drain(bridge: Harness, advance: () => void): Promise<number> {
  for (let ticks = 1; ticks <= MAX_DRAIN_TICKS; ticks++) {
    advance();
    await bridge.tick();
    const rows = await bridge.store.list();
    if (!rows.some((row) => ['PENDING', 'RETRY', 'SENDING'].includes(row.status))) return ticks;
  }
  return MAX_DRAIN_TICKS;
}

/** Everything the storm left behind, for the assertions below. */
interface StormResult {
  plan: PlannedAlert[][];
  answers: number[];
  faults: Record<string, number>;
  stormRequests: number;
  drainTicks: number;
  rows: DeliveryRecord[];
  events: ReceivedRequest[];
  accepted: ReceivedRequest[];
}

async function runStorm(): Promise<StormResult> {
  const random = seeded(SEED);
  const plan = planStorm(random);
  const pd = await startFakePagerDuty({ latencyMs: 0 });
  try {
    let storming = true;
    const faults = stormOn(pd, random, () => storming);
    let offset = 0;
    const now = () => Date.now() + offset;
    const store = new MemoryStore({ now });
    // Two webhook instances and a relay instance on one store, each with its own gate and caches (three FC instances).
    const bridge = webhookHarness({ ...ENV, PAGERDUTY_EVENTS_URL: pd.url }, store, now);
    const other = webhookHarness({ ...ENV, PAGERDUTY_EVENTS_URL: pd.url }, store, now);
    const relay = webhookHarness({ ...ENV, PAGERDUTY_EVENTS_URL: pd.url }, store, now);
    // Past every retry delay (1 s), far inside the 30 s lease: nothing in flight is ever taken over.
    const advance = () => {
      offset += 1_500;
    };

    // The callbacks in pairs, one per webhook instance at the same moment (a resolve may meet its trigger's callback
    // on the other instance), with a relay run alongside every second pair.
    const answers: number[] = [];
    for (let index = 0; index < plan.length; index += 2) {
      const pair = [plan[index], plan[index + 1]].filter((alerts) => alerts !== undefined) as PlannedAlert[][];
      let relaying: Promise<unknown> | undefined;
      if (index % 4 === 2) {
        advance();
        relaying = relay.tick();
      }
      const responses = await Promise.all(
        pair.map((alerts, position) => (position === 0 ? bridge : other).post(callbackBody(alerts))),
      );
      await relaying;
      answers.push(...responses.map((response) => response.statusCode));
    }
    // A few more runs inside the storm; then the faults stop and the relay drains the outbox.
    for (let run = 0; run < 5; run++) {
      advance();
      await bridge.tick();
    }
    storming = false;
    const stormRequests = pd.events.length;
    const drainTicks = await drain(bridge, advance);
    return {
      plan,
      answers,
      faults,
      stormRequests,
      drainTicks,
      rows: await store.list(),
      events: [...pd.events],
      accepted: pd.accepted(),
    };
  } finally {
    await pd.close();
  }
}

describe('PagerDuty fault storm: 2,000 alerts in 40 callbacks, a third of the requests failing', () => {
  let storm: StormResult;
  beforeAll(async () => {
    storm = await runStorm();
  }, 120_000);

  /** Requests per (occurrence, action), counted once. */
  const countBy = (requests: readonly ReceivedRequest[]) => {
    const counts = new Map<string, number>();
    for (const request of requests) {
      const key = `${occurrenceOfEvent(sentOf(request))}|${sentOf(request).event_action}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    return (id: string, action: 'trigger' | 'resolve') => counts.get(`${id}|${action}`) ?? 0;
  };
  /** Each planned occurrence, and whether ARMS resolved it. */
  const occurrences = () => {
    const found = new Map<string, { fingerprint: string; startsAt: number; resolved: boolean }>();
    for (const alert of storm.plan.flat()) {
      const id = occurrenceId(alert.fingerprint, alert.startsAt);
      const resolved = found.get(id)?.resolved === true || alert.status === 'resolved';
      found.set(id, { fingerprint: alert.fingerprint, startsAt: alert.startsAt, resolved });
    }
    return found;
  };

  it('storms: a third of the requests fail with every kind of fault, and every callback is acknowledged', () => {
    const total = Object.values(storm.faults).reduce((sum, count) => sum + count, 0);
    expect(storm.plan.flat()).toHaveLength(CALLBACKS * ALERTS_PER_CALLBACK);
    expect(storm.answers).toHaveLength(CALLBACKS);
    expect(storm.answers.every((status) => status === 200 || status === 202)).toBe(true);
    expect(total / storm.stormRequests).toBeGreaterThan(0.25);
    expect(total / storm.stormRequests).toBeLessThan(0.42);
    for (const kind of ['429', '500', 'hang', 'reset']) expect(storm.faults[kind]).toBeGreaterThan(0);
  });

  it('loses none: one row per delivery, none left waiting, none DEAD (no permanent error was injected)', () => {
    const keys = new Set(storm.plan.flat().map((alert) => `${alert.fingerprint}|${alert.status}|${alert.startsAt}`));
    expect(storm.drainTicks).toBeLessThan(MAX_DRAIN_TICKS);
    expect(storm.rows).toHaveLength(keys.size);
    const statuses = new Set(storm.rows.map((row) => row.status));
    for (const status of [DeliveryStatus.PENDING, DeliveryStatus.RETRY, DeliveryStatus.SENDING, DeliveryStatus.DEAD]) {
      expect(statuses.has(status), status).toBe(false);
    }
  });

  it('sends none twice per delivery key (dedup_key, event_action, payload.timestamp), all with the configured key', () => {
    const perKey = new Map<string, number>();
    for (const request of storm.accepted) {
      const event = sentOf(request);
      const key = JSON.stringify([event.dedup_key, event.event_action, event.payload.timestamp]);
      perKey.set(key, (perKey.get(key) ?? 0) + 1);
    }
    expect([...perKey.entries()].filter(([, count]) => count > 1)).toEqual([]);
    expect(storm.accepted.every((request) => request.routingKey === ROUTING_KEY)).toBe(true);
  });

  it('delivers every occurrence, counting those resolved before their trigger was delivered apart', () => {
    const byOccurrence = new Map<string, { trigger?: DeliveryRecord; resolve?: DeliveryRecord }>();
    for (const row of storm.rows) {
      const id = occurrenceId(row.dedupKey, row.occurrence);
      byOccurrence.set(id, { ...byOccurrence.get(id), [row.action]: row });
    }
    const acceptedBy = countBy(storm.accepted);
    const attemptedBy = countBy(storm.events);
    const kinds = { delivered: 0, resolvedBeforeDelivery: 0, triggerUnconfirmed: 0, staleResolve: 0 };
    const unexplained: string[] = [];
    for (const [id, { resolved }] of occurrences()) {
      const { trigger, resolve } = byOccurrence.get(id) ?? {};
      const triggers = acceptedBy(id, 'trigger');
      const resolves = acceptedBy(id, 'resolve');
      const describe = () =>
        `${id}: trigger ${trigger?.status} (${trigger?.lastError}) accepted ${triggers}×, resolve ${resolve?.status} (${resolve?.lastError}) accepted ${resolves}×`;
      // A resolve held back because a newer occurrence of the identity fired since (ordering rule 2).
      const stale = resolve?.status === DeliveryStatus.SUPERSEDED && NEWER_OCCURRENCE.test(resolve.lastError ?? '');
      if (trigger?.status === DeliveryStatus.DELIVERED && triggers === 1) {
        if (!resolved || (resolve?.status === DeliveryStatus.DELIVERED && resolves === 1)) kinds.delivered++;
        else if (stale && resolves === 0) kinds.staleResolve++;
        else unexplained.push(describe());
      } else if (resolve?.lastError === RESOLVED_BEFORE_DELIVERY) {
        // Resolved before its trigger was delivered (the resolve row says so; the trigger is stopped): neither is
        // sent, nor ever was; above all never an accepted trigger with an unsent resolve.
        const both = trigger?.status === DeliveryStatus.SUPERSEDED && resolve.status === DeliveryStatus.SUPERSEDED;
        if (both && attemptedBy(id, 'trigger') === 0 && triggers === 0 && resolves === 0)
          kinds.resolvedBeforeDelivery++;
        else unexplained.push(describe());
      } else if (
        trigger?.status === DeliveryStatus.SUPERSEDED &&
        attemptedBy(id, 'trigger') === 0 &&
        stale &&
        triggers === 0 &&
        resolves === 0
      ) {
        // Its resolve met the trigger first (two instances at once), and a newer occurrence fired since: this
        // occurrence was never paged, and its resolve must not close the newer one's incident.
        kinds.resolvedBeforeDelivery++;
      } else if (trigger?.status === DeliveryStatus.SUPERSEDED && trigger.attempts > 0 && triggers === 0) {
        // The trigger was attempted but not confirmed: its resolve goes out anyway.
        if (resolve?.status === DeliveryStatus.DELIVERED && resolves === 1) kinds.triggerUnconfirmed++;
        else if (stale && resolves === 0) kinds.staleResolve++;
        else unexplained.push(describe());
      } else {
        unexplained.push(describe());
      }
    }
    expect(unexplained).toEqual([]);
    expect(Object.values(kinds).reduce((sum, count) => sum + count, 0)).toBe(occurrences().size);
    // The storm must produce the interesting cases, or the test proves less than it says.
    expect(kinds.resolvedBeforeDelivery).toBeGreaterThan(0);
    expect(kinds.triggerUnconfirmed).toBeGreaterThan(0);
    expect(kinds.delivered).toBeGreaterThan(occurrences().size / 2);
  });

  it('keeps the order per dedup_key: never a trigger after its own resolve, never an old resolve after a newer trigger', () => {
    const seen = new Map<string, { resolved: Set<number>; newestTrigger: number }>();
    const disorders: string[] = [];
    for (const request of storm.accepted) {
      const event = sentOf(request);
      const occurrence = Date.parse(event.payload.custom_details.starts_at);
      const state = seen.get(event.dedup_key) ?? { resolved: new Set<number>(), newestTrigger: -Infinity };
      if (event.event_action === 'trigger') {
        if (state.resolved.has(occurrence))
          disorders.push(`trigger after its resolve: ${event.dedup_key}@${occurrence}`);
        state.newestTrigger = Math.max(state.newestTrigger, occurrence);
      } else {
        if (occurrence < state.newestTrigger) disorders.push(`stale resolve after a newer trigger: ${event.dedup_key}`);
        state.resolved.add(occurrence);
      }
      seen.set(event.dedup_key, state);
    }
    expect(disorders).toEqual([]);
  });

  it('leaves no PagerDuty incident open for an identity ARMS resolved', () => {
    const lastAccepted = new Map<string, string>();
    for (const request of storm.accepted) lastAccepted.set(sentOf(request).dedup_key, sentOf(request).event_action);
    const lastPlanned = new Map<string, PlannedAlert>();
    for (const alert of storm.plan.flat()) {
      const previous = lastPlanned.get(alert.fingerprint);
      if (previous === undefined || alert.startsAt >= previous.startsAt) lastPlanned.set(alert.fingerprint, alert);
    }
    const open: string[] = [];
    const planned = [...occurrences().values()];
    for (const [fingerprint, last] of lastPlanned) {
      const resolvedAtEnd = planned.every((item) => item.fingerprint !== fingerprint || item.resolved);
      if (!resolvedAtEnd || last.status !== 'resolved' || lastAccepted.get(fingerprint) !== 'trigger') continue;
      open.push(fingerprint);
    }
    expect(open).toEqual([]);
  });
});

describe('PagerDuty fault storm: minimal reproductions', () => {
  const pagerDuties = fakePagerDutyPerTest();
  /** One alert of the sample at `status`, occurrence `startsAt` (ms). */
  const one = (status: 'firing' | 'resolved', startsAt: number) =>
    callbackBody([
      { fingerprint: 'refire-1', status, startsAt, ...(status === 'resolved' ? { endsAt: startsAt + 60_000 } : {}) },
    ]);

  // Regression: a resolve of an older occurrence must not be held back as stale when the newer occurrence's trigger
  // never went out (it was itself resolved before delivery): nothing else would ever close the first incident.
  // ordering.ts now supersedes an older resolve only when the newer trigger may have reached PagerDuty.
  it('resolves the first incident when a re-fire was itself resolved before its trigger was delivered', async () => {
    // Prepare
    const pd = await pagerDuties.start();
    let offset = 0;
    const now = () => Date.now() + offset;
    const store = new MemoryStore({ now });
    const env = { ...ENV, PAGERDUTY_EVENTS_URL: pd.url };
    const bridge = webhookHarness(env, store, now);
    // A deadline too short to send anything: what it receives is queued, never attempted.
    const queueing = webhookHarness({ ...env, WEBHOOK_DEADLINE_MS: '500' }, store, now);
    const first = Date.parse('2024-05-01T00:00:00.000Z');
    const second = first + 3_600_000;

    // Act
    await bridge.post(one('firing', first)); // delivered: a PagerDuty incident opens
    await queueing.post(one('resolved', first)); // queued
    await queueing.post(one('firing', second)); // re-fire, queued
    await queueing.post(one('resolved', second)); // resolved before its trigger was delivered
    offset += 5_000;
    await bridge.tick();

    // Assess: the incident opened by the first trigger is resolved.
    const actions = pd.accepted().map((request) => sentOf(request).event_action);
    expect(actions).toEqual(['trigger', 'resolve']);
  });
  // Regression: when a resolve overtakes an attempted-but-unconfirmed trigger, the webhook stops the trigger (CAS to
  // SUPERSEDED) BEFORE sending the resolve, and the resolve waits if that CAS loses (the relay is sending the trigger).
  // Before, the stop was written after the sends, and a relay run reading the trigger earlier sent it after its resolve.
  it('never sends a retried trigger after its resolve while the relay runs alongside the webhook', async () => {
    // Prepare: two triggers fail once, sent together before their key's circuit opened (RETRY, attempted); every
    // later answer takes 300 ms.
    const pd = await pagerDuties.start();
    let offset = 0;
    const now = () => Date.now() + offset;
    const store = new MemoryStore({ now });
    const env = { ...ENV, PAGERDUTY_EVENTS_URL: pd.url, PAGERDUTY_TIMEOUT_MS: '3000' };
    const webhook = webhookHarness(env, store, now);
    const timer = webhookHarness(env, store, now);
    const at = Date.parse('2024-05-01T00:00:00.000Z');
    const firing = (fingerprint: string): PlannedAlert => ({ fingerprint, status: 'firing', startsAt: at });
    pd.script([{ status: 500 }, { status: 500 }]);
    await webhook.post(callbackBody([firing('older'), firing('raced')]));
    offset += 5_000;
    pd.setLatency(300);

    // Act: the relay reads what is due ('older', then 'raced'), and while it sends 'older' the resolve of 'raced'
    // arrives in a callback with eight more alerts (two rounds of sends before the webhook's final writes).
    const run = timer.tick();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const others = Array.from({ length: 8 }, (_, index) => firing(`other-${index}`));
    const resolve: PlannedAlert = { fingerprint: 'raced', status: 'resolved', startsAt: at, endsAt: at + 60_000 };
    await Promise.all([run, webhook.post(callbackBody([resolve, ...others]))]);
    // What the open circuit held back (the resolve waited for the relay's probe) goes out on the next run.
    offset += 5_000;
    await timer.tick();

    // Assess: PagerDuty got the resolve of 'raced' and never its trigger afterwards.
    const raced = pd
      .accepted()
      .map((request) => sentOf(request))
      .filter((event) => event.dedup_key === 'raced')
      .map((event) => event.event_action);
    expect(raced).toEqual(['resolve']);
  });
});
