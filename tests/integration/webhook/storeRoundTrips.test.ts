/**
 * What a callback costs the store in round trips (issue 13 item 3), through the webhook's real handler on the
 * Tablestore store over the wire fake: every SDK call counted, and how many ran one after another (`countedCalls.ts`),
 * for a 1-alert and a 100-alert callback, new triggers then their resolves. Counts, never timings.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Counter } from '../../../shared/store/Counters';
import { TablestoreStore } from '../../../shared/store/TablestoreStore';
import { type CountedCall, countCalls } from '../../support/countedCalls';
import type { FakePagerDuty } from '../../support/fakePagerDuty';
import { fakePagerDutyPerTest } from '../../support/pagerDutyPerFile';
import { connectionTo, startTablestoreOverFake, type TablestoreOverFake } from '../../support/tablestoreOverFake';
import { webhookHarness } from '../../support/webhook';

const ROUTING_KEY = 'ROUNDTRIPSROUTINGKEY000000000001';
const sample = JSON.parse(readFileSync(join(__dirname, '../../fixtures/arms/sample.json'), 'utf8'));
const pagerDuties = fakePagerDutyPerTest();
let pd: FakePagerDuty;
let tablestore: TablestoreOverFake;
const stores: TablestoreStore[] = [];

beforeEach(async () => {
  pd = await pagerDuties.start();
  tablestore = await startTablestoreOverFake();
});
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
  await tablestore.close();
});

/**
 * One ARMS callback of `count` distinct alerts (`prefix` names them), all firing or all resolved; `occurrence` > 0: a
 * later occurrence of the same alerts (they fired again).
 */
function callbackOf(count: number, status: 'firing' | 'resolved', prefix = 'rt', occurrence = 0): string {
  const alerts = Array.from({ length: count }, (_, index) => ({
    ...sample.alerts[0],
    status,
    fingerprint: `${prefix}-${index}`,
    startsAt: new Date(Date.UTC(2026, 0, 1) + index * 1000 + occurrence * 3_600_000).toISOString(),
    labels: { ...sample.alerts[0].labels, pod_name: `${prefix}-${index}` },
  }));
  return JSON.stringify({ ...sample, alerts });
}

/** The webhook on a Tablestore store whose SDK calls are counted. */
function countedWebhook() {
  const { fake, table } = tablestore;
  const counted = countCalls(connectionTo(fake, 5_000));
  const store = new TablestoreStore({ client: counted.source, table, timeoutMs: 5_000 });
  stores.push(store);
  const env = {
    ...tablestore.env,
    PAGERDUTY_ROUTING_KEY: ROUTING_KEY,
    PAGERDUTY_EVENTS_URL: pd.url,
    PAGERDUTY_RATE_PER_MINUTE: '100000',
    WEBHOOK_DEADLINE_MS: '30000',
    LOG_LEVEL: 'ERROR',
  };
  return { harness: webhookHarness(env, store), counted };
}

/** Whether a call is a claim: the first write of delivery rows, with their due entries (`claims.ts`). */
const isClaim = (call: CountedCall) =>
  call.operation === 'batchWriteRow' && call.tables.includes(tablestore.dueTable) && call.rows.some(isDelivery);
const isDelivery = (row: string) => row.startsWith('d1-');
const isMarker = (row: string) => row.startsWith('m1-');
const isCounter = (row: string) => row.startsWith('c1-');
const isKeyState = (row: string) => row.startsWith('k1-');

/** Posts `body` once; returns the SDK calls it made, and how many ran one after another. */
async function tripsOf(webhook: ReturnType<typeof countedWebhook>, body: string, delivered: number) {
  webhook.counted.reset();
  const response = await webhook.harness.post(body);
  expect(response.json).toMatchObject({ delivered, queued: 0 });
  const calls = [...webhook.counted.calls];
  return { calls, total: calls.length, sequential: webhook.counted.sequential() };
}

describe('Store round trips per callback', () => {
  it('reads the counterparts and the markers in one round trip before the claim', async () => {
    // Prepare
    const webhook = countedWebhook();
    for (const count of [1, 100]) {
      for (const status of ['firing', 'resolved'] as const) {
        // Act
        const { calls } = await tripsOf(webhook, callbackOf(count, status, `c${count}`), count);

        // Assess: everything before the first claim is one round of reads, deliveries and markers side by side.
        const claim = calls.findIndex(isClaim);
        const before = calls.slice(0, claim);
        expect(claim).toBeGreaterThan(0);
        expect(before.every((call) => call.operation === 'batchGetRow' && call.depth === 1)).toBe(true);
        expect(before.flatMap((call) => call.rows).filter(isDelivery)).toHaveLength(count);
        expect(before.flatMap((call) => call.rows).filter(isMarker)).toHaveLength(count);
        expect(calls[claim]?.depth).toBe(2);
        // The claim's write carries the occurrence markers its triggers advance (a resolve advances none): every
        // marker write is made with the claim, at its depth (a large claim is split into several requests).
        const markerWrites = calls.filter((call) => call.operation === 'batchWriteRow' && call.rows.some(isMarker));
        expect(markerWrites.every((call) => call.depth === 2)).toBe(true);
        expect(markerWrites.flatMap((call) => call.rows).filter(isMarker)).toHaveLength(
          status === 'firing' ? count : 0,
        );
      }
    }
  });

  it('writes the activity counters in the batch of the last outcomes, and counts them once', async () => {
    // Prepare
    const webhook = countedWebhook();
    const since = Date.now() - 60_000;
    for (const count of [1, 100]) {
      for (const status of ['firing', 'resolved'] as const) {
        // Act
        const { calls } = await tripsOf(webhook, callbackOf(count, status, `a${count}`), count);

        // Assess: one write carries counters, and it is an outcome write (delivery rows beside them, after the claim).
        const counting = calls.filter((call) => call.rows.some(isCounter));
        expect(counting).toHaveLength(1);
        expect(counting[0]?.rows.some(isDelivery)).toBe(true);
        expect(calls.indexOf(counting[0] as CountedCall)).toBeGreaterThan(calls.findIndex(isClaim));
      }
    }
    const totals = await tablestore.store.readCounters(since);
    expect(totals.counts).toMatchObject({ [Counter.CALLBACKS]: 4, [Counter.DELIVERED]: 202 });
  });

  it('answers a new 1-alert trigger, then its resolve, in a counted number of round trips', async () => {
    // Prepare
    const webhook = countedWebhook();

    // Act
    const trigger = await tripsOf(webhook, callbackOf(1, 'firing'), 1);
    const resolve = await tripsOf(webhook, callbackOf(1, 'resolved'), 1);

    // Assess: the trigger: counterparts, markers and the key's gate row; the claim with its marker and its first block
    // of sends; the counterpart's recheck; the outcome with the counters; its old due entry beside the waiting resolves'
    // read. The resolve: the same, with no gate row to read (this instance wrote it within the second), its marker
    // read again (a newer trigger?), and no waiting resolves to free.
    expect({ total: trigger.total, sequential: trigger.sequential }).toEqual({ total: 6, sequential: 5 });
    expect({ total: resolve.total, sequential: resolve.sequential }).toEqual({ total: 5, sequential: 5 });
    const [claim] = trigger.calls.filter(isClaim);
    expect(claim?.rows.filter(isKeyState)).toHaveLength(1);
    expect(trigger.calls.filter((call) => call.rows.some(isKeyState))).toHaveLength(2);
  });

  it('rechecks a fired-again trigger against the older resolve in the round trip of its counterpart recheck', async () => {
    // Prepare: an alert fired and resolved; it fires again (a new occurrence, newer than its marker).
    const webhook = countedWebhook();
    await tripsOf(webhook, callbackOf(1, 'firing'), 1);
    await tripsOf(webhook, callbackOf(1, 'resolved'), 1);

    // Act
    const again = await tripsOf(webhook, callbackOf(1, 'firing', 'rt', 1), 1);

    // Assess: the older resolve's row is read again after the claim (and its marker), beside the counterpart's.
    const claim = again.calls.find(isClaim) as CountedCall;
    const rechecks = again.calls.filter((call) => call.depth === claim.depth + 1 && call.operation === 'batchGetRow');
    expect(rechecks).toHaveLength(2);
    expect({ total: again.total, sequential: again.sequential }).toEqual({ total: 8, sequential: 6 });
  });
});
