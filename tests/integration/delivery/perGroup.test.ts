/**
 * Per-group delivery mode through the real webhook and health handlers: one PagerDuty alert per notification group
 * (per route), its trigger/resolve decision, dedupe of repeats, re-triggers when alerts join, order per dedup_key, and
 * a group split between a per-group route and the per-alert default route.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { deliveryKeyOf } from '../../../shared/delivery/deliveryKey';
import { groupDedupKey } from '../../../shared/pagerduty/dedupKey';
import { MemoryStore } from '../../../shared/store/MemoryStore';
import { fakePagerDutyPerFile } from '../../support/pagerDutyPerFile';
import { webhookHarness } from '../../support/webhook';

const ROUTING_KEY = 'PERGR0UPROUTINGKEY00000000000001';
const DB_PER_GROUP = JSON.stringify([{ name: 'db', matchers: ['team="db"'], mode: 'per-group' }]);
const sampleJson = JSON.parse(readFileSync(new URL('../../fixtures/arms/sample.json', import.meta.url), 'utf8'));
const GROUP = {
  receiver: sampleJson.receiver as string,
  groupLabels: sampleJson.groupLabels as Record<string, string>,
};

const T1 = '2021-02-22T07:18:15.578Z';
const T2 = '2021-02-22T07:19:15.578Z';
const T3 = '2021-02-22T07:20:15.578Z';
const T4 = '2021-02-22T07:25:00.000Z';

interface Member {
  pod: string;
  status: 'firing' | 'resolved';
  startsAt: string;
  team?: string;
}

/** One ARMS callback of the sample's notification group with these alerts (each its own pod and fingerprint). */
function callback(members: Member[]): string {
  const [template] = sampleJson.alerts;
  const alerts = members.map(({ pod, status, startsAt, team = 'db' }) => ({
    ...template,
    status,
    startsAt,
    fingerprint: `fp-${pod}`,
    labels: { ...template.labels, pod_name: pod, team },
  }));
  const status = members.some((member) => member.status === 'firing') ? 'firing' : 'resolved';
  return JSON.stringify({ ...sampleJson, status, alerts });
}

const firing = (pod: string, startsAt: string, team?: string): Member => ({ pod, status: 'firing', startsAt, team });
const resolved = (pod: string, startsAt: string, team?: string): Member => ({
  pod,
  status: 'resolved',
  startsAt,
  team,
});

interface SentEvent {
  event_action: string;
  dedup_key: string;
  payload: { summary: string; custom_details: Record<string, unknown> };
}

const fake = fakePagerDutyPerFile();
const sent = () => fake.sinceTest().map((event) => event.body as SentEvent);
const actions = () => sent().map((event) => event.event_action);

function bridgeOn(env: Record<string, string>, store = new MemoryStore()) {
  return webhookHarness({ PAGERDUTY_ROUTING_KEY: ROUTING_KEY, PAGERDUTY_EVENTS_URL: fake.pd.url, ...env }, store);
}

describe('per-group mode: one PagerDuty alert per notification group', () => {
  it('sends one trigger for a group of three firing alerts, titled [FIRING:3]', async () => {
    // Prepare
    const bridge = bridgeOn({ DELIVERY_MODE: 'per-group' });

    // Act
    const response = await bridge.post(callback([firing('p1', T1), firing('p2', T2), firing('p3', T3)]));

    // Assess
    expect(response.statusCode).toBe(200);
    expect(response.json).toMatchObject({ status: 'accepted', received: 3, delivered: 1, duplicates: 0 });
    expect(actions()).toEqual(['trigger']);
    const [event] = sent();
    expect(event?.dedup_key).toBe(groupDedupKey(GROUP, 'default'));
    expect(event?.payload.summary.startsWith(`[FIRING:3] ${GROUP.groupLabels.alertname}`)).toBe(true);
    expect(event?.payload.custom_details).toMatchObject({ route: 'default', num_firing: 3, num_resolved: 0 });
    expect(fake.pd.accepted().slice(-1)[0]?.routingKey).toBe(ROUTING_KEY);
  });

  it('treats an identical repeat of the group as a duplicate: nothing sent', async () => {
    // Prepare
    const bridge = bridgeOn({ DELIVERY_MODE: 'per-group' });
    const body = callback([firing('p1', T1), firing('p2', T2), firing('p3', T3)]);
    await bridge.post(body);

    // Act
    const repeat = await bridge.post(body);

    // Assess
    expect(repeat.json).toMatchObject({ received: 3, delivered: 0, duplicates: 1 });
    expect(actions()).toEqual(['trigger']);
  });

  it('sends no resolve while any alert of the group still fires', async () => {
    // Prepare
    const bridge = bridgeOn({ DELIVERY_MODE: 'per-group' });
    await bridge.post(callback([firing('p1', T1), firing('p2', T2), firing('p3', T3)]));

    // Act: an older alert resolves (the trigger's occurrence, the newest firing startsAt, is unchanged)
    const olderResolved = await bridge.post(callback([resolved('p1', T1), firing('p2', T2), firing('p3', T3)]));
    // …then the newest one does (the trigger would be of an older occurrence than the one already sent)
    const newestResolved = await bridge.post(callback([resolved('p1', T1), firing('p2', T2), resolved('p3', T3)]));

    // Assess: the PagerDuty alert stays open, untouched
    expect(olderResolved.json).toMatchObject({ delivered: 0, duplicates: 1 });
    expect(newestResolved.json).toMatchObject({ delivered: 0, superseded: 1 });
    expect(actions()).toEqual(['trigger']);
  });

  it('sends one resolve, on the group dedup_key, once every alert of the group is resolved', async () => {
    // Prepare
    const bridge = bridgeOn({ DELIVERY_MODE: 'per-group' });
    await bridge.post(callback([firing('p1', T1), firing('p2', T2), firing('p3', T3)]));
    await bridge.post(callback([resolved('p1', T1), firing('p2', T2), firing('p3', T3)]));

    // Act
    const allResolved = await bridge.post(callback([resolved('p1', T1), resolved('p2', T2), resolved('p3', T3)]));
    const repeat = await bridge.post(callback([resolved('p1', T1), resolved('p2', T2), resolved('p3', T3)]));

    // Assess
    expect(allResolved.json).toMatchObject({ received: 3, delivered: 1 });
    expect(repeat.json).toMatchObject({ delivered: 0, duplicates: 1 });
    expect(actions()).toEqual(['trigger', 'resolve']);
    expect(new Set(sent().map((event) => event.dedup_key))).toEqual(new Set([groupDedupKey(GROUP, 'default')]));
    expect(sent()[1]?.payload.summary.startsWith('[RESOLVED]')).toBe(true);
  });

  it('re-triggers the same dedup_key when a newer alert joins the group', async () => {
    // Prepare
    const bridge = bridgeOn({ DELIVERY_MODE: 'per-group' });
    await bridge.post(callback([firing('p1', T1), firing('p2', T2)]));

    // Act
    const joined = await bridge.post(callback([firing('p1', T1), firing('p2', T2), firing('p4', T4)]));

    // Assess
    expect(joined.json).toMatchObject({ delivered: 1 });
    expect(actions()).toEqual(['trigger', 'trigger']);
    expect(sent().map((event) => event.dedup_key)).toEqual([
      groupDedupKey(GROUP, 'default'),
      groupDedupKey(GROUP, 'default'),
    ]);
    expect(sent()[1]?.payload.summary.startsWith('[FIRING:3]')).toBe(true);
  });

  it('sends a late group resolve even after a newer alert re-triggered the group (the next repeat re-triggers it)', async () => {
    // Prepare
    const bridge = bridgeOn({ DELIVERY_MODE: 'per-group' });
    await bridge.post(callback([firing('p1', T1)]));
    await bridge.post(callback([firing('p1', T1), firing('p4', T4)]));

    // Act: a late callback from before p4 joined, with p1 resolved
    const stale = await bridge.post(callback([resolved('p1', T1)]));

    // Assess
    // A group resolve is never held back as stale: it could be the group's last word (see ordering.ts).
    expect(stale.json).toMatchObject({ delivered: 1, superseded: 0 });
    expect(actions()).toEqual(['trigger', 'trigger', 'resolve']);
  });

  it('sends no alert event for a group resolved before its queued trigger was sent', async () => {
    // Prepare: a deadline too short to send, so the group trigger is queued unsent
    let offset = 0;
    const store = new MemoryStore({ now: () => Date.now() + offset });
    const queued = await bridgeOn({ DELIVERY_MODE: 'per-group', WEBHOOK_DEADLINE_MS: '500' }, store).post(
      callback([firing('p1', T1), firing('p2', T2)]),
    );
    const bridge = bridgeOn({ DELIVERY_MODE: 'per-group' }, store);

    // Act: the resolve finds its trigger through the per-group counterpart key (route included)
    const allResolved = await bridge.post(callback([resolved('p1', T1), resolved('p2', T2)]));
    offset = 3_600_000;
    const report = await bridge.tick();

    // Assess
    expect(queued.json).toMatchObject({ status: 'queued', queued: 1 });
    expect(allResolved.json).toMatchObject({ superseded: 1, delivered: 0 });
    expect(report.relay).toMatchObject({ due: 0 });
    const keyOf = (action: 'trigger' | 'resolve') =>
      deliveryKeyOf({
        dedupKey: groupDedupKey(GROUP, 'default'),
        action,
        occurrence: Date.parse(T2),
        routeName: 'default',
      });
    const rows = await store.get([keyOf('trigger'), keyOf('resolve')]);
    expect(rows.get(keyOf('trigger'))?.status).toBe('SUPERSEDED');
    expect(rows.get(keyOf('resolve'))?.status).toBe('SUPERSEDED');
    expect(actions()).toEqual([]);
  });

  it('relays a queued group trigger from the outbox', async () => {
    // Prepare
    let offset = 0;
    const store = new MemoryStore({ now: () => Date.now() + offset });
    await bridgeOn({ DELIVERY_MODE: 'per-group', WEBHOOK_DEADLINE_MS: '500' }, store).post(
      callback([firing('p1', T1), firing('p2', T2)]),
    );

    // Act
    offset = 3_600_000;
    const report = await bridgeOn({ DELIVERY_MODE: 'per-group' }, store).tick();

    // Assess
    expect(report.relay).toMatchObject({ due: 1, delivered: 1 });
    expect(actions()).toEqual(['trigger']);
    expect(sent()[0]?.payload.summary.startsWith('[FIRING:2]')).toBe(true);
  });

  // Alertmanager drops a resolved alert from its group once that resolve was notified, so the last callback of a
  // group can hold only alerts older than the newest occurrence the group triggered with. The group resolve's
  // occurrence (newest startsAt among its alerts) is then older than the group's occurrence marker, and ordering
  // would supersede it as stale, leaving the PagerDuty alert open; ordering.ts never holds a group resolve back as
  // stale for that reason.
  it('resolves the group when the newest alert resolved first and left the group', async () => {
    // Prepare
    const bridge = bridgeOn({ DELIVERY_MODE: 'per-group' });
    await bridge.post(callback([firing('p1', T1), firing('p2', T2)]));
    await bridge.post(callback([firing('p1', T1), resolved('p2', T2)]));

    // Act
    const last = await bridge.post(callback([resolved('p1', T1)]));

    // Assess
    expect(last.json).toMatchObject({ delivered: 1 });
    expect(actions()).toEqual(['trigger', 'resolve']);
  });
});

describe('per-group mode: a group split by route', () => {
  it('sends one group event for the per-group route and one event per alert for the default route', async () => {
    // Prepare
    const bridge = bridgeOn({ PAGERDUTY_ROUTES: DB_PER_GROUP });
    const body = callback([
      firing('d1', T1, 'db'),
      firing('w1', T1, 'web'),
      firing('d2', T2, 'db'),
      firing('w2', T2, 'web'),
    ]);

    // Act
    const response = await bridge.post(body);
    const repeat = await bridge.post(body);
    const resolvedWeb = await bridge.post(
      callback([firing('d1', T1, 'db'), resolved('w1', T1, 'web'), firing('d2', T2, 'db'), firing('w2', T2, 'web')]),
    );

    // Assess
    expect(response.json).toMatchObject({ received: 4, delivered: 3 });
    expect(repeat.json).toMatchObject({ delivered: 0, duplicates: 3 });
    expect(resolvedWeb.json).toMatchObject({ delivered: 1, duplicates: 2 });
    expect(sent().map((event) => [event.event_action, event.dedup_key])).toEqual([
      ['trigger', groupDedupKey(GROUP, 'db')],
      ['trigger', 'fp-w1'],
      ['trigger', 'fp-w2'],
      ['resolve', 'fp-w1'],
    ]);
    expect(sent()[0]?.payload.custom_details).toMatchObject({ route: 'db', num_firing: 2 });
  });
});
