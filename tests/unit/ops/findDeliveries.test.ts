/** What `npm run trace` reads through the store port for each kind of query (`scripts/ops/findDeliveries.ts`). */
import { describe, expect, it } from 'vitest';
import { findDeliveries, labelSetsOf } from '../../../scripts/ops/findDeliveries';
import { EventAction } from '../../../shared/constants';
import { deliveryKeyOf } from '../../../shared/delivery/deliveryKey';
import { parseMatcher } from '../../../shared/pagerduty/parseMatcher';
import type { DeliveryRecord } from '../../../shared/store/DeliveryRecord';
import { MemoryStore } from '../../../shared/store/MemoryStore';
import { deliveryRecord } from '../../support/deliveryRecords';

const AT = Date.now();
const GROUP_KEY = 'group:v1:0123456789abcdef';

/** A record stored under the key the webhook would give it. */
function stored(parts: { dedupKey: string; action: EventAction; occurrence: number; routeName?: string }, at: number) {
  const deliveryKey = deliveryKeyOf(parts);
  return deliveryRecord(deliveryKey, at, {
    dedupKey: parts.dedupKey,
    action: parts.action,
    occurrence: parts.occurrence,
    routeName: parts.routeName ?? 'default',
  });
}

async function storeWith(records: DeliveryRecord[], markers: Record<string, number> = {}) {
  const store = new MemoryStore();
  await store.claim(records);
  await store.putMarkers(
    Object.entries(markers).map(([dedupKey, latestOccurrence]) => ({
      dedupKey,
      latestOccurrence,
      version: 1,
      updatedAt: AT,
      expiresAt: AT + 86_400_000,
    })),
  );
  return store;
}

describe('Function: findDeliveries', () => {
  it('a dedup_key reads the latest occurrence only (from its marker), newest first', async () => {
    // Prepare
    const old = stored({ dedupKey: 'fp', action: EventAction.TRIGGER, occurrence: 1_000 }, AT - 5_000);
    const trigger = stored({ dedupKey: 'fp', action: EventAction.TRIGGER, occurrence: 2_000 }, AT - 2_000);
    const resolve = stored({ dedupKey: 'fp', action: EventAction.RESOLVE, occurrence: 2_000 }, AT - 1_000);
    const store = await storeWith([old, trigger, resolve], { fp: 2_000 });

    // Act
    const found = await findDeliveries(
      store,
      { kind: 'dedup-key', dedupKey: 'fp' },
      { routeNames: ['default'], scan: false },
    );
    const scanned = await findDeliveries(
      store,
      { kind: 'dedup-key', dedupKey: 'fp' },
      { routeNames: ['default'], scan: true },
    );

    // Assess
    expect(found.records.map((record) => record.deliveryKey)).toEqual([resolve.deliveryKey, trigger.deliveryKey]);
    expect(found.partial).toBe(true);
    expect(scanned.records.map((record) => record.deliveryKey)).toEqual([
      resolve.deliveryKey,
      trigger.deliveryKey,
      old.deliveryKey,
    ]);
  });

  it('a group dedup_key is looked up under each route name, since its delivery keys carry the route', async () => {
    // Prepare
    const group = stored({ dedupKey: GROUP_KEY, action: EventAction.TRIGGER, occurrence: 3_000, routeName: 'k8s' }, AT);
    const store = await storeWith([group], { [GROUP_KEY]: 3_000 });

    // Act
    const found = await findDeliveries(
      store,
      { kind: 'dedup-key', dedupKey: GROUP_KEY },
      { routeNames: ['db', 'k8s', 'default'], scan: false },
    );

    // Assess
    expect(found.records.map((record) => record.deliveryKey)).toEqual([group.deliveryKey]);
    expect(found.read).toContain('12 candidate rows');
  });

  it('label matchers keep the records with an alert matching all of them, a group event by any of its alerts', async () => {
    // Prepare
    const perAlert = deliveryRecord('a', AT, {});
    perAlert.event.payload.custom_details = { labels: { alertname: 'HighCPU', team: 'db' } };
    const group = deliveryRecord('g', AT - 1, {});
    group.event.payload.custom_details = {
      firing: [{ labels: { alertname: 'PodCrash', team: 'k8s' } }],
      resolved: [{ labels: { alertname: 'HighCPU', team: 'k8s' } }],
    };
    const store = await storeWith([perAlert, group]);
    const matchers = ['alertname=HighCPU', 'team=~"db|k8s"'].map((text) => parseMatcher(text).matcher);

    // Act
    const found = await findDeliveries(
      store,
      { kind: 'labels', matchers: matchers as never },
      { routeNames: [], scan: true },
    );

    // Assess
    expect(found.records.map((record) => record.deliveryKey)).toEqual(['a', 'g']);
    expect(labelSetsOf(group)).toHaveLength(2);
  });
});
