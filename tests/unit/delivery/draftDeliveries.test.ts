import { describe, expect, it } from 'vitest';
import type { Alert } from '../../../shared/alerts/types';
import { loadConfig } from '../../../shared/config/config';
import { DeliveryStatus, EventAction } from '../../../shared/constants';
import { createRouter } from '../../../shared/delivery/createRouter';
import { counterpartKeyOf, deliveryKeyOf, NO_OCCURRENCE } from '../../../shared/delivery/deliveryKey';
import { counterpartKeysOf, draftDeliveries, groupOccurrence } from '../../../shared/delivery/draftDeliveries';
import { Logger } from '../../../shared/logger';
import { groupDedupKey } from '../../../shared/pagerduty/dedupKey';
import type { DeliveryRecord } from '../../../shared/store/DeliveryRecord';
import { makeAlert, makeGroup, ROUTING_KEY, SAMPLE_STARTS_AT } from '../../support/alerts';

const NOW = SAMPLE_STARTS_AT + 3_600_000;
const T1 = SAMPLE_STARTS_AT;
const T2 = SAMPLE_STARTS_AT + 60_000;
const T3 = SAMPLE_STARTS_AT + 120_000;
const DB_PER_GROUP = JSON.stringify([{ name: 'db', matchers: ['team="db"'], mode: 'per-group' }]);

/** Drafting dependencies from a real configuration and router, as the webhook builds them. */
function depsFor(env: Record<string, string> = {}) {
  const config = loadConfig({ PAGERDUTY_ROUTING_KEY: ROUTING_KEY, ...env });
  const { router, problems } = createRouter(config, env);
  expect(problems).toEqual([]);
  const lines: string[] = [];
  const logger = new Logger({ service: 'alert-webhook', sink: (line) => lines.push(line) });
  return { config, router, logger, lines };
}

function alert(identity: string, team: string, overrides: Partial<Alert> = {}): Alert {
  return makeAlert({
    identity,
    labels: { alertname: 'HighMemory', namespace: 'prod', pod: identity, team, severity: 'warning' },
    ...overrides,
  });
}

const firing = (identity: string, startsAt: number | undefined, team = 'db') =>
  alert(identity, team, { status: 'firing', startsAt });
const resolved = (identity: string, startsAt: number | undefined, team = 'db') =>
  alert(identity, team, { status: 'resolved', startsAt });
const groupOf = (alerts: Alert[]) => makeGroup({ alerts, groupLabels: { alertname: 'HighMemory' } });

describe('Function: counterpartKeyOf', () => {
  // Pinned before per-group mode extended the function: per-alert keys must never change (old rows stop ordering).
  const PER_ALERT = {
    dedupKey: 'bec72890cc2c7b4a027e008df0cd1013',
    action: EventAction.TRIGGER,
    occurrence: 1613978295578,
  };
  const PINNED_COUNTERPART = 'd1-fe23e3fd865ff5f53e5c91edcf4bee3c01a43068097c6cc4d4c40d278e8d6b72';

  it('keeps the per-alert counterpart key it had before per-group mode', () => {
    // Act
    const bare = counterpartKeyOf(PER_ALERT);
    const fromRecord = counterpartKeyOf({ ...PER_ALERT, routeName: 'db', deliveryKey: deliveryKeyOf(PER_ALERT) });

    // Assess: a per-alert record names its route, but its key (and its counterpart's) has none
    expect(bare).toBe(PINNED_COUNTERPART);
    expect(fromRecord).toBe(PINNED_COUNTERPART);
    expect(counterpartKeyOf({ ...PER_ALERT, action: EventAction.RESOLVE, occurrence: NO_OCCURRENCE })).toBe(
      'd1-2d8c7bcedb77cf7fb8e6be89bbfa529e3a3f7eefaf9cd609926422840173b004',
    );
  });

  it('gives a per-group delivery the key of its other half, route included', () => {
    // Prepare
    const parts = { dedupKey: 'group:v1:abc', action: EventAction.TRIGGER, occurrence: T1, routeName: 'db' };
    const resolveKey = deliveryKeyOf({ ...parts, action: EventAction.RESOLVE });

    // Act
    const bare = counterpartKeyOf(parts);
    const fromRecord = counterpartKeyOf({ ...parts, deliveryKey: deliveryKeyOf(parts) });
    const back = counterpartKeyOf({ ...parts, action: EventAction.RESOLVE, deliveryKey: resolveKey });

    // Assess
    expect(bare).toBe(resolveKey);
    expect(fromRecord).toBe(resolveKey);
    expect(back).toBe(deliveryKeyOf(parts));
    expect(resolveKey).not.toBe(deliveryKeyOf({ ...parts, action: EventAction.RESOLVE, routeName: undefined }));
  });
});

describe('Function: groupOccurrence', () => {
  it.each([
    [
      'a trigger: the newest startsAt of the firing alerts',
      EventAction.TRIGGER,
      [firing('a', T1), resolved('b', T3), firing('c', T2)],
      T2,
    ],
    ['a resolve: the newest startsAt of all alerts', EventAction.RESOLVE, [resolved('a', T1), resolved('b', T3)], T3],
    ['firing alerts without startsAt', EventAction.TRIGGER, [firing('a', undefined), resolved('b', T3)], NO_OCCURRENCE],
    ['alerts without startsAt', EventAction.RESOLVE, [resolved('a', undefined)], NO_OCCURRENCE],
  ])('takes for %s', (_name, action, alerts, expected) => {
    expect(groupOccurrence(alerts, action)).toBe(expected);
  });
});

describe('Function: draftDeliveries', () => {
  it('drafts one trigger for a per-group route, keyed by group, route, action and newest firing startsAt', () => {
    // Prepare
    const deps = depsFor({ DELIVERY_MODE: 'per-group' });
    const group = groupOf([firing('a', T1), firing('b', T3), firing('c', T2)]);

    // Act
    const drafted = draftDeliveries(group, deps, new Map(), NOW);

    // Assess
    expect(drafted).toHaveLength(1);
    const [{ record, route }] = drafted as [(typeof drafted)[number]];
    const dedupKey = groupDedupKey(group, 'default');
    expect(route.name).toBe('default');
    expect(record).toMatchObject({
      dedupKey,
      action: EventAction.TRIGGER,
      occurrence: T3,
      routeName: 'default',
      status: DeliveryStatus.PENDING,
      version: 1,
      attempts: 0,
      createdAt: NOW,
    });
    expect(record.deliveryKey).toBe(
      deliveryKeyOf({ dedupKey, action: EventAction.TRIGGER, occurrence: T3, routeName: 'default' }),
    );
    expect(record.event).toMatchObject({ event_action: 'trigger', dedup_key: dedupKey });
    expect(record.event.payload.summary).toBe('[FIRING:3] HighMemory (prod warning db)');
  });

  it.each([
    ['any alert fires', [firing('a', T1), resolved('b', T3), resolved('c', T2)], EventAction.TRIGGER, T1],
    ['every alert is resolved', [resolved('a', T1), resolved('b', T3), resolved('c', T2)], EventAction.RESOLVE, T3],
  ])('decides a group delivery from its alerts: %s', (_name, alerts, action, occurrence) => {
    // Prepare
    const deps = depsFor({ DELIVERY_MODE: 'per-group' });

    // Act
    const drafted = draftDeliveries(groupOf(alerts), deps, new Map(), NOW);

    // Assess
    expect(drafted.map(({ record }) => [record.action, record.occurrence, record.event.event_action])).toEqual([
      [action, occurrence, action],
    ]);
  });

  it('keeps the key of an identical repeat and changes it when a newer alert joins the group', () => {
    // Prepare
    const deps = depsFor({ DELIVERY_MODE: 'per-group' });
    const keyOf = (alerts: Alert[]) => {
      const [item] = draftDeliveries(groupOf(alerts), deps, new Map(), NOW);
      return { deliveryKey: item?.record.deliveryKey, dedupKey: item?.record.dedupKey };
    };

    // Act
    const first = keyOf([firing('a', T1), firing('b', T2)]);
    const repeat = keyOf([firing('a', T1), firing('b', T2)]);
    const reordered = keyOf([firing('b', T2), firing('a', T1)]);
    const olderLeft = keyOf([resolved('a', T1), firing('b', T2)]);
    const joined = keyOf([firing('a', T1), firing('b', T2), firing('c', T3)]);

    // Assess
    expect(repeat).toEqual(first);
    expect(reordered).toEqual(first);
    expect(olderLeft).toEqual(first);
    expect(joined.dedupKey).toBe(first.dedupKey);
    expect(joined.deliveryKey).not.toBe(first.deliveryKey);
  });

  it('splits a callback by route: per-group routes get one delivery each, per-alert routes one per alert', () => {
    // Prepare: route "db" is per-group; everything else goes to the per-alert default route
    const deps = depsFor({ PAGERDUTY_ROUTES: DB_PER_GROUP });
    const group = groupOf([
      firing('a', T1, 'db'),
      firing('x', T2, 'web'),
      firing('b', T2, 'db'),
      resolved('y', T1, 'web'),
    ]);

    // Act
    const drafted = draftDeliveries(group, deps, new Map(), NOW);

    // Assess: callback order, the group where its first alert stands
    expect(drafted.map(({ record }) => [record.routeName, record.dedupKey, record.action, record.occurrence])).toEqual([
      ['db', groupDedupKey(group, 'db'), EventAction.TRIGGER, T2],
      ['default', 'x', EventAction.TRIGGER, T2],
      ['default', 'y', EventAction.RESOLVE, T1],
    ]);
    // Per-alert deliveries are keyed exactly as before per-group mode: no route in the key
    expect(drafted[1]?.record.deliveryKey).toBe(
      deliveryKeyOf({ dedupKey: 'x', action: EventAction.TRIGGER, occurrence: T2 }),
    );
    expect(drafted[0]?.record.event.payload.custom_details).toMatchObject({ route: 'db', num_firing: 2 });
  });

  it('gives each per-group route its own group key when a group matches two per-group routes', () => {
    // Prepare
    const routes = JSON.stringify([
      { name: 'db', matchers: ['team="db"'], mode: 'per-group' },
      { name: 'web', matchers: ['team="web"'], mode: 'per-group' },
    ]);
    const deps = depsFor({ PAGERDUTY_ROUTES: routes });
    const group = groupOf([firing('a', T1, 'db'), resolved('x', T2, 'web')]);

    // Act
    const drafted = draftDeliveries(group, deps, new Map(), NOW);

    // Assess
    expect(drafted.map(({ record }) => [record.routeName, record.dedupKey, record.action])).toEqual([
      ['db', groupDedupKey(group, 'db'), EventAction.TRIGGER],
      ['web', groupDedupKey(group, 'web'), EventAction.RESOLVE],
    ]);
  });

  it('sends a per-alert resolve to its trigger’s recorded route, as before', () => {
    // Prepare: the trigger went to "db" (then per-alert); the rules changed and "db" no longer matches
    const routes = JSON.stringify([{ name: 'db', matchers: ['team="nobody"'] }]);
    const deps = depsFor({ PAGERDUTY_ROUTES: routes });
    const group = groupOf([resolved('a', T1, 'db')]);
    const [counterpartKey] = counterpartKeysOf(group, deps.router);
    const trigger = { routeName: 'db' } as DeliveryRecord;

    // Act
    const drafted = draftDeliveries(group, deps, new Map([[counterpartKey as string, trigger]]), NOW);

    // Assess
    expect(counterpartKey).toBe(counterpartKeyOf({ dedupKey: 'a', action: EventAction.RESOLVE, occurrence: T1 }));
    expect(drafted.map(({ record, route }) => [record.routeName, route.name])).toEqual([['db', 'db']]);
  });

  it('lists the counterpart keys of every delivery it will draft, per-group ones with their route', () => {
    // Prepare
    const deps = depsFor({ PAGERDUTY_ROUTES: DB_PER_GROUP });
    const group = groupOf([firing('a', T1, 'db'), firing('x', T2, 'web'), firing('b', T3, 'db')]);

    // Act
    const keys = counterpartKeysOf(group, deps.router);
    const drafted = draftDeliveries(group, deps, new Map(), NOW);

    // Assess: the same keys the ordering code looks up for each drafted record
    expect(keys).toEqual(drafted.map(({ record }) => counterpartKeyOf(record)));
    expect(keys[0]).toBe(
      deliveryKeyOf({
        dedupKey: groupDedupKey(group, 'db'),
        action: EventAction.RESOLVE,
        occurrence: T3,
        routeName: 'db',
      }),
    );
  });
});
