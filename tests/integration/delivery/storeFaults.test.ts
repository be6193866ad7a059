/**
 * Store faults (issue 7, "Fault tests"; several instances: issue 16): the Tablestore adapter over the wire-compatible
 * fake, with errors, hangs, resets and writes that land but answer an error, during the webhooks' reads, claims,
 * marker writes and final transitions, and during the relay's runs. Two webhook instances and a relay instance (each
 * its own handler chain, gate and caches) share the store; each scenario posts two callbacks at once under its faults,
 * one per webhook instance: new triggers on each, and on the second the resolves of half of the previous scenario's
 * first callback.
 *
 * The promise (docs/delivery.md "Persist, then answer"): the webhook never answers 2xx for an alert that is neither
 * delivered (accepted by the fake PagerDuty) nor durably queued (its row waiting, and listed as due once its lease is over,
 * after the faults clear), nor, for a resolve, finished without a send because its trigger never went out; a 503 only
 * when the store and PagerDuty are both down. After recovery a few relay runs drain the outbox: lost = 0 (every
 * acknowledged trigger reaches PagerDuty, every acknowledged resolve of a paged trigger follows it), left-open = 0 (no
 * trigger accepted after a resolve of its occurrence), and each delivery is accepted once (twice at most for a
 * delivery whose outcome could not be recorded after it was sent, or that went out fail open while its claim may
 * have landed: at least once, as documented).
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeliveryStatus } from '../../../shared/constants';
import { RESOLVED_BEFORE_DELIVERY } from '../../../shared/delivery/ordering';
import { StoreError } from '../../../shared/errors';
import type { DeliveryRecord } from '../../../shared/store/DeliveryRecord';
import type { DeliveryStore } from '../../../shared/store/DeliveryStore';
import { MemoryStore } from '../../../shared/store/MemoryStore';
import type { TablestoreStore } from '../../../shared/store/TablestoreStore';
import { dueTableName } from '../../../shared/store/tablestore/rowCodec';
import {
  type FakePagerDuty,
  type ReceivedRequest,
  type ScriptStep,
  startFakePagerDuty,
} from '../../support/fakePagerDuty';
import type { FakeTablestore, FaultSpec } from '../../support/fakeTablestore';
import { fakePagerDutyPerFile, fakePagerDutyPerTest } from '../../support/pagerDutyPerFile';
import { startTablestoreOverFake } from '../../support/tablestoreOverFake';
import { type Harness, webhookHarness } from '../../support/webhook';

const ROUTING_KEY = 'STOREFAULTSROUTINGKEY00000000001';
const TABLE = 'alert_delivery';
const STORE_TIMEOUT_MS = 300;
const LEASE_SECONDS = 30;
const ALERTS_PER_CALLBACK = 6;
/** Alerts of a scenario's first callback that the next scenario's second callback resolves. */
const RESOLVED_PER_SCENARIO = 3;
const sample = JSON.parse(readFileSync(new URL('../../fixtures/arms/sample.json', import.meta.url), 'utf8'));

const WAITING: ReadonlySet<string> = new Set([DeliveryStatus.PENDING, DeliveryStatus.RETRY, DeliveryStatus.SENDING]);
const isClaim = (info: { tables: string[] }) =>
  info.tables.includes(dueTableName(TABLE)) && info.tables.includes(TABLE);
const forever = Number.POSITIVE_INFINITY;

/**
 * One callback per scenario: the faults the fake Tablestore applies while the webhook handles it, and what the fake
 * PagerDuty answers (the first requests; then normal answers). `storeAndPagerDutyDown` marks the one case where a 503
 * is allowed. The webhook's store calls, in order: read counterparts, read markers (BatchGetRow ×2), claim
 * (BatchWriteRow on both tables), write markers, write outcomes, clean due entries, add counters (BatchWriteRow).
 */
interface Scenario {
  name: string;
  faults: FaultSpec[];
  pagerDuty?: ScriptStep[];
  storeAndPagerDutyDown?: boolean;
}

const SCENARIOS: Scenario[] = [
  { name: 'no fault', faults: [] },
  {
    name: 'claim busy twice, then through',
    faults: [{ op: 'BatchWriteRow', when: isClaim, times: 2, action: { kind: 'error', code: 'OTSServerBusy' } }],
  },
  {
    name: 'claim refused for good (store down for writes)',
    faults: [{ op: 'BatchWriteRow', times: forever, action: { kind: 'error', code: 'OTSServerBusy' } }],
  },
  { name: 'reads hang', faults: [{ op: 'BatchGetRow', times: forever, action: { kind: 'hang' } }] },
  { name: 'claim reset', faults: [{ op: 'BatchWriteRow', when: isClaim, action: { kind: 'reset' } }] },
  {
    name: 'claim lands, then answers 500',
    faults: [{ op: 'BatchWriteRow', when: isClaim, action: { kind: 'landThenError', code: 'OTSInternalServerError' } }],
  },
  {
    name: 'claim lands, then hangs',
    faults: [{ op: 'BatchWriteRow', when: isClaim, times: forever, action: { kind: 'landThenHang' } }],
  },
  {
    name: 'marker write fails after the claim landed',
    faults: [
      {
        op: 'BatchWriteRow',
        when: (info) => !isClaim(info),
        times: forever,
        action: { kind: 'error', code: 'OTSInternalServerError' },
      },
    ],
  },
  {
    name: 'outcome writes fail after sending (PagerDuty 500 on one)',
    faults: [
      {
        op: 'BatchWriteRow',
        skip: 2,
        times: forever,
        action: { kind: 'error', code: 'OTSServerBusy' },
      },
    ],
    pagerDuty: [{ status: 500, body: 'Internal Server Error' }],
  },
  {
    name: 'outcome writes land, then answer 500',
    faults: [
      { op: 'BatchWriteRow', skip: 2, times: 3, action: { kind: 'landThenError', code: 'OTSInternalServerError' } },
    ],
  },
  {
    name: 'outcome write hangs (PagerDuty 429 first)',
    faults: [{ op: 'BatchWriteRow', skip: 2, times: forever, action: { kind: 'hang' } }],
    pagerDuty: [
      { status: 429, body: { status: 'throttled', message: 'Requests for this service are arriving too quickly.' } },
    ],
  },
  {
    name: 'random faults on every call',
    faults: [
      { probability: 0.25, times: forever, action: { kind: 'error', code: 'OTSServerBusy' } },
      { probability: 0.1, times: forever, action: { kind: 'hang' } },
      { op: 'BatchWriteRow', probability: 0.2, times: forever, action: { kind: 'landThenError', code: 'OTSTimeout' } },
      { probability: 0.05, times: forever, action: { kind: 'reset' } },
    ],
    pagerDuty: [{ reset: true }],
    // An alert whose claim failed may meet the reset when it is sent fail open: store and PagerDuty down for it.
    storeAndPagerDutyDown: true,
  },
  {
    name: 'store and PagerDuty both down',
    faults: [{ times: forever, action: { kind: 'error', code: 'OTSServerBusy' } }],
    pagerDuty: Array.from({ length: 3 * ALERTS_PER_CALLBACK }, () => ({ status: 503, body: 'Service Unavailable' })),
    storeAndPagerDutyDown: true,
  },
  {
    name: 'store down, PagerDuty up',
    faults: [{ times: forever, action: { kind: 'error', code: 'OTSServerBusy' } }],
  },
];

interface PostedAlert {
  fingerprint: string;
  status: 'firing' | 'resolved';
  startsAt: number;
}

function callbackOf(alerts: PostedAlert[]): string {
  const template = sample.alerts[0];
  const body = alerts.map((alert) => ({
    ...template,
    fingerprint: alert.fingerprint,
    status: alert.status,
    startsAt: new Date(alert.startsAt).toISOString(),
    ...(alert.status === 'resolved' ? { endsAt: new Date(alert.startsAt + 60_000).toISOString() } : {}),
  }));
  return JSON.stringify({ ...sample, alerts: body });
}

interface SentEvent {
  dedup_key: string;
  event_action: 'trigger' | 'resolve';
  payload: { custom_details: { starts_at: string } };
}
const eventOf = (request: ReceivedRequest) => request.body as SentEvent;
const actionOf = (status: PostedAlert['status']) => (status === 'firing' ? 'trigger' : 'resolve');
/** One delivery: the occurrence and the action. */
const keyOf = (fingerprint: string, startsAt: number, action: string) => `${fingerprint}@${startsAt}|${action}`;
const keyOfEvent = (event: SentEvent) =>
  keyOf(event.dedup_key, Date.parse(event.payload.custom_details.starts_at), event.event_action);
const keyOfAlert = (alert: PostedAlert) => keyOf(alert.fingerprint, alert.startsAt, actionOf(alert.status));
const keyOfRow = (row: DeliveryRecord) => keyOf(row.dedupKey, row.occurrence, row.action);
const acceptedKeys = (pd: FakePagerDuty) => {
  const counts = new Map<string, number>();
  for (const request of pd.accepted()) {
    const key = keyOfEvent(eventOf(request));
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
};

describe('store faults on Tablestore, through the webhook and the relay', () => {
  let tablestore: FakeTablestore;
  const fake = fakePagerDutyPerFile();
  let store: TablestoreStore;
  let offset = 0;
  const now = () => Date.now() + offset;
  const answers: { scenario: Scenario; alerts: PostedAlert[]; status: number; body: unknown }[] = [];
  /** Rows right after the webhook's faults cleared. */
  let afterWebhook: DeliveryRecord[] = [];
  /** Delivery keys listed as due once the leases are over. */
  let dueAfterLease = new Set<string>();
  let drainTicks = 0;
  let bridge: ReturnType<typeof webhookHarness>;
  /** Every resolve posted, acknowledged or not (an unanswered one may still have been stored). */
  const resolvesPosted: PostedAlert[] = [];

  beforeAll(async () => {
    ({ fake: tablestore, store } = await startTablestoreOverFake({ now, seed: 7, timeoutMs: STORE_TIMEOUT_MS }));
    const env = {
      PAGERDUTY_ROUTING_KEY: ROUTING_KEY,
      PAGERDUTY_EVENTS_URL: fake.pd.url,
      PAGERDUTY_TIMEOUT_MS: '500',
      PAGERDUTY_RATE_PER_MINUTE: '6000',
      STORE_TIMEOUT_MS: String(STORE_TIMEOUT_MS),
      LEASE_SECONDS: String(LEASE_SECONDS),
      RETRY_BASE_SECONDS: '1',
      RETRY_MAX_SECONDS: '1',
      HEALTH_TIME_BUDGET_SECONDS: '10',
      LOG_LEVEL: 'ERROR',
    };
    // Two webhook instances and a relay instance on one store (three FC instances: own gates, caches and traces).
    const webhooks = [webhookHarness(env, store, now), webhookHarness(env, store, now)];
    bridge = webhookHarness(env, store, now);

    // The webhooks, two callbacks at once per scenario, each scenario under its own faults.
    const base = Date.parse('2024-06-01T00:00:00.000Z');
    let previous: PostedAlert[] = [];
    const quiet: Scenario = { name: 'between scenarios (the store back)', faults: [] };
    for (const [index, scenario] of SCENARIOS.entries()) {
      const triggers = (from: number) =>
        Array.from({ length: ALERTS_PER_CALLBACK }, (_, n) => ({
          fingerprint: `store-fault-${index}-${from + n}`,
          status: 'firing' as const,
          startsAt: base + index * 60_000 + from + n,
        }));
      const resolves = previous
        .slice(0, RESOLVED_PER_SCENARIO)
        .map((alert) => ({ ...alert, status: 'resolved' as const }));
      resolvesPosted.push(...resolves);
      const callbacks = [triggers(0), [...resolves, ...triggers(ALERTS_PER_CALLBACK)]];
      for (const fault of scenario.faults) tablestore.faults.add(fault);
      if (scenario.pagerDuty) fake.pd.script(scenario.pagerDuty);
      const responses = await Promise.all(
        callbacks.map((alerts, instance) => (webhooks[instance] as Harness).post(callbackOf(alerts))),
      );
      tablestore.faults.clear();
      // A scenario whose webhooks left alerts to the relay sent fewer requests than it scripted: the rest is its own.
      fake.pd.clearScript();
      responses.forEach((response, instance) => {
        const alerts = callbacks[instance] as PostedAlert[];
        answers.push({ scenario, alerts, status: response.statusCode, body: response.json });
      });
      previous = callbacks[0] as PostedAlert[];
      // Then one alert on each instance with the store back: a resolve an instance sent fail open is recorded at its
      // next invocation that reaches the store (`FailOpenTraces.ts`), so the relay judges its trigger against it. An
      // instance that never reaches the store again, or whose next invocation meets the store still failing, is the
      // gap reproduced below.
      const quietAlerts = [0, 1].map((instance) => [
        {
          fingerprint: `store-fault-${index}-quiet-${instance}`,
          status: 'firing' as const,
          startsAt: base + index * 60_000 + 30_000,
        },
      ]);
      const quietAnswers = await Promise.all(
        quietAlerts.map((alerts, instance) => (webhooks[instance] as Harness).post(callbackOf(alerts))),
      );
      quietAnswers.forEach((response, instance) => {
        const alerts = quietAlerts[instance] as PostedAlert[];
        answers.push({ scenario: quiet, alerts, status: response.statusCode, body: response.json });
      });
    }
    afterWebhook = await store.list();
    offset += (LEASE_SECONDS + 5) * 1_000;
    dueAfterLease = new Set((await store.listDue(1_000)).map((row) => row.deliveryKey));

    // The relay under faults: reads fail or hang, writes land and answer an error. Nothing here re-sends.
    tablestore.faults.add({ op: 'GetRange', action: { kind: 'error', code: 'OTSServerBusy' } });
    tablestore.faults.add({ op: 'BatchGetRow', probability: 0.3, times: forever, action: { kind: 'hang' } });
    tablestore.faults.add({
      op: 'BatchWriteRow',
      probability: 0.3,
      times: forever,
      action: { kind: 'landThenError', code: 'OTSInternalServerError' },
    });
    for (let run = 0; run < 3; run++) {
      offset += 2_000;
      await bridge.tick();
    }
    tablestore.faults.clear();

    // Recovery: the relay drains the outbox (bounded), past any lease a faulted run left behind.
    for (drainTicks = 1; drainTicks <= 10; drainTicks++) {
      offset += (LEASE_SECONDS + 5) * 1_000;
      await bridge.tick();
      if (!(await store.list()).some((row) => WAITING.has(row.status))) break;
    }
  }, 55_000);

  afterAll(async () => {
    await store?.close();
    await tablestore?.close();
  });

  it('exercised the faults: every scenario hit the store, and some alerts were left queued for the relay', () => {
    expect(answers).toHaveLength(4 * SCENARIOS.length);
    expect(resolvesPosted.length).toBe(RESOLVED_PER_SCENARIO * (SCENARIOS.length - 1));
    expect(tablestore.stats.snapshot().faultsFired).toBeGreaterThan(0);
    expect(afterWebhook.some((row) => WAITING.has(row.status))).toBe(true);
    expect(answers.some((answer) => (answer.body as { degraded?: string }).degraded === 'store-unavailable')).toBe(
      true,
    );
  });

  it('answers 503 only when the store and PagerDuty are both down, and 2xx otherwise', () => {
    for (const { scenario, status } of answers) {
      if (scenario.storeAndPagerDutyDown) expect([200, 202, 503], scenario.name).toContain(status);
      else expect([200, 202], scenario.name).toContain(status);
    }
    expect(answers.some((answer) => answer.scenario.storeAndPagerDutyDown && answer.status === 503)).toBe(true);
  });

  it('never acknowledges an alert that is neither delivered nor durably queued (and due after its lease)', () => {
    // What PagerDuty had accepted and what the store held when the webhooks' faults cleared (the relay's came later).
    const accepted = new Set(fake.pd.accepted().map((request) => keyOfEvent(eventOf(request))));
    const rows = new Map(afterWebhook.map((row) => [keyOfRow(row), row]));
    const unsafe: string[] = [];
    for (const { scenario, alerts, status } of answers) {
      if (status < 200 || status > 299) continue;
      for (const alert of alerts) {
        const key = keyOfAlert(alert);
        const row = rows.get(key);
        const queued = row !== undefined && WAITING.has(row.status) && dueAfterLease.has(row.deliveryKey);
        const delivered = accepted.has(key) && (row === undefined || row.status !== DeliveryStatus.DEAD);
        // A resolve whose trigger never went out finishes without a send (CONTRACT.md §5.8).
        const over = row?.status === DeliveryStatus.SUPERSEDED && row.lastError === RESOLVED_BEFORE_DELIVERY;
        if (!delivered && !queued && !over) unsafe.push(`${scenario.name}: ${key} row ${row?.status ?? 'absent'}`);
      }
    }
    expect(unsafe).toEqual([]);
  });

  it('drains the outbox after recovery: lost = 0, left-open = 0, each delivery accepted once (twice if resendable)', async () => {
    const rows = await store.list();
    const byKey = new Map(rows.map((row) => [keyOfRow(row), row]));
    expect(drainTicks).toBeLessThanOrEqual(10);
    expect(rows.filter((row) => WAITING.has(row.status) || row.status === DeliveryStatus.DEAD)).toEqual([]);
    const counts = acceptedKeys(fake.pd);
    // Sent, then its outcome could not be recorded: the relay sends it again after the lease (at least once).
    const resendable = new Set(afterWebhook.filter((row) => row.status === DeliveryStatus.SENDING).map(keyOfRow));
    /** Per occurrence, the actions PagerDuty accepted, in arrival order. */
    const sequence = new Map<string, string[]>();
    for (const request of fake.pd.accepted()) {
      const event = eventOf(request);
      const occurrence = `${event.dedup_key}@${Date.parse(event.payload.custom_details.starts_at)}`;
      sequence.set(occurrence, [...(sequence.get(occurrence) ?? []), event.event_action]);
    }
    const lost: string[] = [];
    const twice: string[] = [];
    for (const { scenario, alerts, status } of answers) {
      if (status < 200 || status > 299) continue;
      for (const alert of alerts) {
        const key = keyOfAlert(alert);
        const count = counts.get(key) ?? 0;
        const seen = sequence.get(`${alert.fingerprint}@${alert.startsAt}`) ?? [];
        const lastTrigger = seen.lastIndexOf('trigger');
        const trigger = byKey.get(keyOf(alert.fingerprint, alert.startsAt, 'trigger'));
        const resolve = byKey.get(keyOf(alert.fingerprint, alert.startsAt, 'resolve'));
        // Never paged only when ARMS resolved it before its trigger got through: the trigger stopped (never sent, or
        // attempted without an answer), its resolve finished.
        const resolvedFirst =
          trigger?.status === DeliveryStatus.SUPERSEDED && resolve !== undefined && !WAITING.has(resolve.status);
        if (alert.status === 'firing' && count === 0 && !resolvedFirst) lost.push(`${scenario.name}: ${key}`);
        if (alert.status === 'resolved' && lastTrigger >= 0 && !seen.slice(lastTrigger).includes('resolve')) {
          lost.push(`${scenario.name}: ${key} after ${seen.join(', ')}`);
        }
        if (count > (resendable.has(key) ? 2 : 1)) twice.push(`${scenario.name}: ${key} ×${count}`);
      }
    }
    const leftOpen = [...sequence]
      .filter(
        ([, actions]) => actions.includes('resolve') && actions.lastIndexOf('trigger') > actions.indexOf('resolve'),
      )
      .map(([occurrence, actions]) => `${occurrence}: ${actions.join(', ')}`);
    expect(lost).toEqual([]);
    expect(leftOpen).toEqual([]);
    expect(twice).toEqual([]);
    expect(fake.pd.accepted().every((request) => request.routingKey === ROUTING_KEY)).toBe(true);
  });
});

describe('a resolve sent fail open by one webhook instance, its trigger relayed by another', () => {
  const pagerDuties = fakePagerDutyPerTest();

  /** `store` as one instance sees it: every call fails while `down.value` (the others still reach the store). */
  function unreachableWhile(store: DeliveryStore, down: { value: boolean }): DeliveryStore {
    return new Proxy(store, {
      get(target, property) {
        const value = Reflect.get(target, property, target);
        if (typeof value !== 'function' || String(property).startsWith('use')) return value;
        return (...args: unknown[]) =>
          down.value ? Promise.reject(new StoreError('store unreachable (test fault)')) : value.apply(target, args);
      },
    });
  }

  // The per-instance gap (docs/delivery.md "Resolves sent while the store was down"): the trace of a fail-open resolve
  // lives in the memory of the instance that sent it, so when that instance never reaches the store again, the relay
  // (another instance) sends the trigger queued before the outage after its resolve, and the incident stays open. The
  // callback's replay line is the only durable trace. Marked `fails` until the trace is durable; the storm above hits
  // the same gap at random unless each instance reaches the store once more.
  it.fails('never sends the trigger after its resolve, although that instance never reaches the store again', async () => {
    // Prepare: PagerDuty fails the trigger once (queued for retry); instance B cannot reach the store.
    const pd = await pagerDuties.start();
    let offset = 0;
    const now = () => Date.now() + offset;
    const store = new MemoryStore({ now });
    const down = { value: false };
    const env = {
      PAGERDUTY_ROUTING_KEY: ROUTING_KEY,
      PAGERDUTY_EVENTS_URL: pd.url,
      RETRY_BASE_SECONDS: '1',
      RETRY_MAX_SECONDS: '1',
      LOG_LEVEL: 'ERROR',
    };
    const webhookA = webhookHarness(env, store, now);
    const webhookB = webhookHarness(env, unreachableWhile(store, down), now);
    const relay = webhookHarness(env, store, now);
    const startsAt = Date.parse('2024-06-02T00:00:00.000Z');
    const alert = (status: PostedAlert['status']) => ({ fingerprint: 'gap-1', status, startsAt });
    pd.script([{ status: 500, body: 'Internal Server Error' }]);

    // Act: the trigger on A (queued), the resolve on B while B's store calls fail, then the relay past the retry delay.
    const trigger = await webhookA.post(callbackOf([alert('firing')]));
    down.value = true;
    const resolve = await webhookB.post(callbackOf([alert('resolved')]));
    offset += 5_000;
    await relay.tick();

    // Assess: both acknowledged; PagerDuty got the resolve and never the trigger after it.
    expect(trigger.statusCode).toBe(202);
    expect(resolve.json).toMatchObject({ degraded: 'store-unavailable' });
    const actions = (pd as FakePagerDuty).accepted().map((request) => eventOf(request).event_action);
    expect(actions).toEqual(['resolve']);
  });

  // A claim reports failures row by row (`ClaimOutcome.failed`) instead of throwing: the flush must keep the traces
  // whose rows failed, or an invocation that meets the store still failing drops them and the relay later sends the
  // queued trigger after its resolve.
  it('records a fail-open resolve once the store is back, though the invocation before that met it failing', async () => {
    // Prepare: the trigger queued for retry (PagerDuty 500) on A; then the store fails every call.
    const pd = await pagerDuties.start();
    let offset = 0;
    const now = () => Date.now() + offset;
    const tablestore = await startTablestoreOverFake({ now, timeoutMs: STORE_TIMEOUT_MS });
    try {
      const env = {
        PAGERDUTY_ROUTING_KEY: ROUTING_KEY,
        PAGERDUTY_EVENTS_URL: pd.url,
        STORE_TIMEOUT_MS: String(STORE_TIMEOUT_MS),
        RETRY_BASE_SECONDS: '1',
        RETRY_MAX_SECONDS: '1',
        LOG_LEVEL: 'ERROR',
      };
      const webhookA = webhookHarness(env, tablestore.store, now);
      const webhookB = webhookHarness(env, tablestore.store, now);
      const relay = webhookHarness(env, tablestore.store, now);
      const startsAt = Date.parse('2024-06-03T00:00:00.000Z');
      const alert = (fingerprint: string, status: PostedAlert['status']) => ({ fingerprint, status, startsAt });
      pd.script([{ status: 500, body: 'Internal Server Error' }]);
      const trigger = await webhookA.post(callbackOf([alert('flush-1', 'firing')]));
      tablestore.fake.faults.add({ times: forever, action: { kind: 'error', code: 'OTSServerBusy' } });

      // Act: B sends the resolve fail open, then handles another callback while the store still fails, then one
      // with the store back; the relay runs past the retry delay.
      const resolve = await webhookB.post(callbackOf([alert('flush-1', 'resolved')]));
      await webhookB.post(callbackOf([alert('flush-2', 'firing')]));
      tablestore.fake.faults.clear();
      await webhookB.post(callbackOf([alert('flush-3', 'firing')]));
      offset += 5_000;
      await relay.tick();

      // Assess: the resolve went out fail open; PagerDuty never got the trigger after it.
      expect(trigger.statusCode).toBe(202);
      expect(resolve.json).toMatchObject({ degraded: 'store-unavailable' });
      const actions = (pd as FakePagerDuty)
        .accepted()
        .map((request) => eventOf(request))
        .filter((event) => event.dedup_key === 'flush-1')
        .map((event) => event.event_action);
      expect(actions).toEqual(['resolve']);
    } finally {
      await tablestore.close();
    }
  });
});

describe('claim faults on single rows, the same callback on two webhook instances at once', () => {
  it('loses none, and sends a delivery twice only where the claim row of one instance failed', async () => {
    // Prepare: every third main-table row of any claim fails with a row error that is not retried.
    let offset = 0;
    const now = () => Date.now() + offset;
    const tablestore = await startTablestoreOverFake({ now });
    const pd = await startFakePagerDuty();
    try {
      let row = 0;
      let failedRows = 0;
      tablestore.fake.faults.add({
        op: 'BatchWriteRow',
        when: isClaim,
        times: forever,
        action: {
          kind: 'rowError',
          code: 'OTSParameterInvalid',
          rows: (table) => {
            const hit = table === TABLE && row++ % 3 === 1;
            if (hit) failedRows++;
            return hit;
          },
        },
      });
      const env = {
        PAGERDUTY_ROUTING_KEY: ROUTING_KEY,
        PAGERDUTY_EVENTS_URL: pd.url,
        PAGERDUTY_RATE_PER_MINUTE: '6000',
      };
      const webhooks = [0, 1].map(() => webhookHarness(env, tablestore.store, now));
      const relay = webhookHarness(env, tablestore.store, now);
      const startsAt = Date.parse('2024-06-04T00:00:00.000Z');
      const alerts = Array.from({ length: 10 }, (_, n) => ({
        fingerprint: `pair-${n}`,
        status: 'firing' as const,
        startsAt: startsAt + n,
      }));

      // Act: both instances at once, then the relay past the lease.
      const responses = await Promise.all(webhooks.map((webhook) => webhook.post(callbackOf(alerts))));
      tablestore.fake.faults.clear();
      offset += (LEASE_SECONDS + 5) * 1_000;
      await relay.tick();

      // Assess: lost = 0; each duplicate is one an instance sent fail open because its own claim row failed.
      const counts = acceptedKeys(pd);
      const sent = alerts.map((alert) => counts.get(keyOfAlert(alert)) ?? 0);
      const duplicates = sent.reduce((sum, count) => sum + Math.max(0, count - 1), 0);
      expect(responses.map((response) => response.statusCode < 300)).toEqual([true, true]);
      expect(failedRows).toBeGreaterThan(0);
      expect(sent.filter((count) => count === 0)).toEqual([]);
      expect(duplicates).toBeLessThanOrEqual(failedRows);
      expect((await tablestore.store.list()).filter((record) => WAITING.has(record.status))).toEqual([]);
    } finally {
      await pd.close();
      await tablestore.close();
    }
  });
});
