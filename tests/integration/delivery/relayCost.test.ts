/**
 * What a delivery-health run costs the store, through its real handler on the Tablestore store over the
 * wire-compatible fake: the same rows read beside 1,000 and beside 20,000 delivered rows (issue 6: cost does not grow
 * with history), and under 0.1 store round trips per delivered alert when it drains 1,000 due rows (issue 12), the
 * health report's own reads included. Both are counts of the fake's requests, never timings.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { handlerFor } from '../../../functions/delivery-health/index';
import { createBridge } from '../../../shared/app';
import { DeliveryStatus, EventAction } from '../../../shared/constants';
import type { DeliveryRecord } from '../../../shared/store/DeliveryRecord';
import { recordCells } from '../../../shared/store/tablestore/rowCodec';
import { deliveryRecord } from '../../support/deliveryRecords';
import type { FakePagerDuty } from '../../support/fakePagerDuty';
import { fcContext, timerEvent } from '../../support/fcEvents';
import { fakePagerDutyPerTest } from '../../support/pagerDutyPerFile';
import { startTablestoreOverFake, TABLE, type TablestoreOverFake } from '../../support/tablestoreOverFake';

const ROUTING_KEY = 'REL4YCOSTROUTINGKEY0000000000001';
let clock = Date.now();
let tablestore: TablestoreOverFake | undefined;
const pagerDuties = fakePagerDutyPerTest();

afterEach(async () => {
  await tablestore?.close();
});

/** delivery-health on the Tablestore store over the wire fake, pacing off, on this file's clock (reset to now). */
async function relayOnFake() {
  clock = Date.now();
  tablestore = await startTablestoreOverFake({ now: () => clock, timeoutMs: 5_000 });
  const pd = await pagerDuties.start();
  const env = { PAGERDUTY_ROUTING_KEY: ROUTING_KEY, PAGERDUTY_EVENTS_URL: pd.url, PAGERDUTY_RATE_PER_MINUTE: '100000' };
  const { fake: server, store } = tablestore;
  const health = handlerFor(createBridge('delivery-health', env, { store, now: () => clock }));
  return { health, server, store, pagerDuty: pd };
}

/** One delivery-health run that must drain all `rows` (each dedup_key sent); returns the store requests it made. */
async function drainOnce(
  health: ReturnType<typeof handlerFor>,
  server: TablestoreOverFake['fake'],
  pagerDuty: FakePagerDuty,
  rows: number,
): Promise<number> {
  const report = (await health(timerEvent() as never, fcContext('delivery-health'))) as {
    relay: { delivered: number; more: boolean };
  };
  expect(report.relay).toMatchObject({ delivered: rows, more: false });
  const keys = new Set(pagerDuty.requests.map((request) => (request.body as { dedup_key?: string }).dedup_key));
  expect(keys.size).toBe(rows);
  return Object.values(server.stats.snapshot().requests).reduce<number>((sum, n) => sum + (n ?? 0), 0);
}

function record(key: string, overrides: Partial<DeliveryRecord>): DeliveryRecord {
  return deliveryRecord(key, clock, { occurrence: clock - 60_000, ...overrides });
}

describe('delivery-health run cost', () => {
  it('reads the same rows per run beside 1,000 and 20,000 delivered rows', async () => {
    // Prepare
    clock = Date.now();
    tablestore = await startTablestoreOverFake({ now: () => clock, timeoutMs: 5_000 });
    const { fake: server, store } = tablestore;
    const pd = await pagerDuties.start();
    const env = { PAGERDUTY_ROUTING_KEY: ROUTING_KEY, PAGERDUTY_EVENTS_URL: pd.url, PAGERDUTY_RATE_PER_MINUTE: '6000' };
    const health = handlerFor(createBridge('delivery-health', env, { store, now: () => clock }));
    const seedHistory = (from: number, to: number) =>
      server.tables.seed(
        TABLE,
        Array.from({ length: to - from }, (_, i) => {
          const delivered = record(`h${String(from + i).padStart(6, '0')}`, {
            status: DeliveryStatus.DELIVERED,
            version: 3,
            attempts: 1,
            deliveredAt: clock,
          });
          return { pk: { pk: delivered.deliveryKey }, attrs: recordCells(delivered) };
        }),
      );
    const run = async (prefix: string) => {
      await store.claim(Array.from({ length: 10 }, (_, i) => record(`${prefix}${i}`, { nextAttemptAt: clock - 1 })));
      server.stats.reset();
      const report = await health(timerEvent() as never, fcContext('delivery-health'));
      return { report: report as { relay: { due: number; delivered: number } }, rowsRead: server.stats.rowsRead };
    };

    // Act: a first run creates the routing key's state row, which every later run reads (not history).
    await run('w');
    seedHistory(0, 1_000);
    const small = await run('a');
    seedHistory(1_000, 20_000);
    const large = await run('b');

    // Assess
    expect(server.tables.count(TABLE)).toBeGreaterThanOrEqual(20_020);
    expect(small.report.relay).toMatchObject({ due: 10, delivered: 10 });
    expect(large.report.relay).toMatchObject({ due: 10, delivered: 10 });
    expect(large.rowsRead).toBe(small.rowsRead);
    expect(small.rowsRead).toBeLessThan(100);
  });

  it('drains 1,000 due rows in at most 0.09 store round trips per delivered alert', async () => {
    // Prepare: 1,000 queued triggers on one key, pacing off (as `npm run bench` section 7 measures).
    const { health, server, store, pagerDuty } = await relayOnFake();
    const rows = 1_000;
    await store.claim(Array.from({ length: rows }, (_, i) => record(`q${i}`, { nextAttemptAt: clock - 1 })));
    server.stats.reset();

    // Act
    const requests = await drainOnce(health, server, pagerDuty, rows);

    // Assess
    // 89 requests at this writing (issue 12's target: 0.1): listDue and the ordering context read each row three times
    // (30 BatchGetRow); six blocks (five of 192) cost a gate write, three lease writes and two outcome writes each.
    expect(requests / rows).toBeLessThanOrEqual(0.09);
  });
  it('drains 1,000 due resolves in at most 0.1 store round trips per delivered alert', async () => {
    // Prepare: 1,000 queued resolves of distinct alerts on one key, pacing off.
    const { health, server, store, pagerDuty } = await relayOnFake();
    const rows = 1_000;
    await store.claim(
      Array.from({ length: rows }, (_, i) => {
        const queued = record(`r${i}`, { nextAttemptAt: clock - 1 });
        return {
          ...queued,
          action: EventAction.RESOLVE,
          event: { ...queued.event, event_action: EventAction.RESOLVE },
        };
      }),
    );
    server.stats.reset();

    // Act
    const requests = await drainOnce(health, server, pagerDuty, rows);

    // Assess
    // 100 requests at this writing: the triggers' 89, and each block's resolves read their markers again after their
    // lease (two BatchGetRow of at most 100 rows per block: a newer occurrence's trigger may have been claimed since).
    expect(requests / rows).toBeLessThanOrEqual(0.1);
  });
});
