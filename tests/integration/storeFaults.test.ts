/**
 * Store faults (issue 7, "Fault tests"): the Tablestore adapter over the wire-compatible fake, with errors, hangs,
 * resets and writes that land but answer an error, during the webhook's reads, claims, marker writes and final
 * transitions, and during the relay's runs. Callbacks go through the real webhook chain built on that store.
 *
 * The promise (docs/delivery.md "Persist, then answer"): the webhook never answers 2xx for an alert that is neither
 * delivered (accepted by the fake PagerDuty) nor durably queued (its row waiting, and listed as due once its lease is over,
 * after the faults clear); a 503 only when the store and PagerDuty are both down. After recovery a few relay runs
 * drain the outbox and every acknowledged alert reaches PagerDuty once per delivery key (twice at most for a delivery
 * whose outcome could not be recorded after it was sent: at least once, as documented).
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeliveryStatus } from '../../shared/constants';
import type { DeliveryRecord } from '../../shared/store/DeliveryRecord';
import type { TablestoreStore } from '../../shared/store/TablestoreStore';
import { dueTableName } from '../../shared/store/tablestoreRows';
import {
  type FakePagerDuty,
  type ReceivedRequest,
  type ScriptStep,
  startFakePagerDuty,
} from '../support/fakePagerDuty';
import type { FakeTablestore, FaultSpec } from '../support/fakeTablestore';
import { startTablestoreOverFake } from '../support/tablestoreOverFake';
import { webhookHarness } from '../support/webhook';

const ROUTING_KEY = 'STOREFAULTSROUTINGKEY00000000001';
const TABLE = 'alert_delivery';
const STORE_TIMEOUT_MS = 300;
const LEASE_SECONDS = 30;
const ALERTS_PER_CALLBACK = 6;
const sample = JSON.parse(readFileSync(new URL('../fixtures/arms/sample.json', import.meta.url), 'utf8'));

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
  },
  {
    name: 'store and PagerDuty both down',
    faults: [{ times: forever, action: { kind: 'error', code: 'OTSServerBusy' } }],
    pagerDuty: Array.from({ length: ALERTS_PER_CALLBACK }, () => ({ status: 503, body: 'Service Unavailable' })),
    storeAndPagerDutyDown: true,
  },
  {
    name: 'store down, PagerDuty up',
    faults: [{ times: forever, action: { kind: 'error', code: 'OTSServerBusy' } }],
  },
];

interface PostedAlert {
  fingerprint: string;
  startsAt: number;
}

function callbackOf(alerts: PostedAlert[]): string {
  const template = sample.alerts[0];
  const body = alerts.map((alert) => ({
    ...template,
    fingerprint: alert.fingerprint,
    status: 'firing',
    startsAt: new Date(alert.startsAt).toISOString(),
  }));
  return JSON.stringify({ ...sample, alerts: body });
}

interface TriggerEvent {
  dedup_key: string;
  event_action: string;
  payload: { timestamp?: string };
}
const eventOf = (request: ReceivedRequest) => request.body as TriggerEvent;
const keyOf = (fingerprint: string, startsAt: number) => `${fingerprint}@${startsAt}`;
const acceptedKeys = (pd: FakePagerDuty) => {
  const counts = new Map<string, number>();
  for (const request of pd.accepted()) {
    const event = eventOf(request);
    const key = keyOf(event.dedup_key, Date.parse(event.payload.timestamp ?? ''));
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
};

describe('store faults on Tablestore, through the webhook and the relay', () => {
  let tablestore: FakeTablestore;
  let pd: FakePagerDuty;
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

  beforeAll(async () => {
    ({ fake: tablestore, store } = await startTablestoreOverFake({ now, seed: 7, timeoutMs: STORE_TIMEOUT_MS }));
    pd = await startFakePagerDuty();
    bridge = webhookHarness(
      {
        PAGERDUTY_ROUTING_KEY: ROUTING_KEY,
        PAGERDUTY_EVENTS_URL: pd.url,
        PAGERDUTY_TIMEOUT_MS: '500',
        PAGERDUTY_RATE_PER_MINUTE: '6000',
        STORE_TIMEOUT_MS: String(STORE_TIMEOUT_MS),
        LEASE_SECONDS: String(LEASE_SECONDS),
        RETRY_BASE_SECONDS: '1',
        RETRY_MAX_SECONDS: '1',
        HEALTH_TIME_BUDGET_SECONDS: '10',
        LOG_LEVEL: 'ERROR',
      },
      store,
      now,
    );

    // The webhook, one callback per scenario, each under its own faults.
    const base = Date.parse('2024-06-01T00:00:00.000Z');
    for (const [index, scenario] of SCENARIOS.entries()) {
      const alerts = Array.from({ length: ALERTS_PER_CALLBACK }, (_, n) => ({
        fingerprint: `store-fault-${index}-${n}`,
        startsAt: base + index * 60_000 + n,
      }));
      for (const fault of scenario.faults) tablestore.faults.add(fault);
      if (scenario.pagerDuty) pd.script(scenario.pagerDuty);
      const response = await bridge.post(callbackOf(alerts));
      tablestore.faults.clear();
      // A scenario whose webhook left alerts to the relay sent fewer requests than it scripted: the rest is its own.
      pd.clearScript();
      answers.push({ scenario, alerts, status: response.statusCode, body: response.json });
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
    await pd?.close();
    await tablestore?.close();
  });

  it('exercised the faults: every scenario hit the store, and some alerts were left queued for the relay', () => {
    expect(answers).toHaveLength(SCENARIOS.length);
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
    expect(answers.find((answer) => answer.scenario.storeAndPagerDutyDown)?.status).toBe(503);
  });

  it('never acknowledges an alert that is neither delivered nor durably queued (and due after its lease)', () => {
    // What PagerDuty had accepted and what the store held when the webhook's faults cleared (the relay's came later).
    const accepted = new Set<string>();
    for (const request of pd.accepted()) {
      const event = eventOf(request);
      accepted.add(keyOf(event.dedup_key, Date.parse(event.payload.timestamp ?? '')));
    }
    const rows = new Map(afterWebhook.map((row) => [keyOf(row.dedupKey, row.occurrence), row]));
    const unsafe: string[] = [];
    for (const { scenario, alerts, status } of answers) {
      if (status < 200 || status > 299) continue;
      for (const alert of alerts) {
        const key = keyOf(alert.fingerprint, alert.startsAt);
        const row = rows.get(key);
        const queued = row !== undefined && WAITING.has(row.status) && dueAfterLease.has(row.deliveryKey);
        const delivered = accepted.has(key) && (row === undefined || row.status !== DeliveryStatus.DEAD);
        if (!delivered && !queued) unsafe.push(`${scenario.name}: ${key} row ${row?.status ?? 'absent'}`);
      }
    }
    expect(unsafe).toEqual([]);
  });

  it('drains the outbox after recovery: every acknowledged alert reaches PagerDuty once per delivery key', async () => {
    const rows = await store.list();
    expect(drainTicks).toBeLessThanOrEqual(10);
    expect(rows.filter((row) => WAITING.has(row.status) || row.status === DeliveryStatus.DEAD)).toEqual([]);
    const counts = acceptedKeys(pd);
    // Sent, then its outcome could not be recorded: the relay sends it again after the lease (at least once).
    const resendable = new Set(
      afterWebhook
        .filter((row) => row.status === DeliveryStatus.SENDING)
        .map((row) => keyOf(row.dedupKey, row.occurrence)),
    );
    const missing: string[] = [];
    const twice: string[] = [];
    for (const { scenario, alerts, status } of answers) {
      if (status < 200 || status > 299) continue;
      for (const alert of alerts) {
        const key = keyOf(alert.fingerprint, alert.startsAt);
        const count = counts.get(key) ?? 0;
        if (count === 0) missing.push(`${scenario.name}: ${key}`);
        if (count > (resendable.has(key) ? 2 : 1)) twice.push(`${scenario.name}: ${key} ×${count}`);
      }
    }
    expect(missing).toEqual([]);
    expect(twice).toEqual([]);
    expect(pd.accepted().every((request) => request.routingKey === ROUTING_KEY)).toBe(true);
  });
});
