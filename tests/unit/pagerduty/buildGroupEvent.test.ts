import { describe, expect, it } from 'vitest';
import { buildGroupEvent } from '../../../shared/pagerduty/buildGroupEvent';
import { groupDedupKey } from '../../../shared/pagerduty/dedupKey';
import { eventByteLength } from '../../../shared/pagerduty/encode';
import { eventProblems } from '../../../shared/pagerduty/eventProblems';
import { makeAlert, makeGroup, SAMPLE_ENDS_AT, SAMPLE_STARTS_AT } from '../../support/alerts';

const labels = (pod: string, severity: string) => ({
  alertname: 'HighMemory',
  namespace: 'prod',
  pod,
  severity,
  _aliyun_arms_alert_rule_id: '1',
});

function threeAlerts() {
  return [
    makeAlert({
      identity: 'a1',
      labels: labels('p1', 'warning'),
      severity: 'warning',
      startsAt: SAMPLE_STARTS_AT + 1000,
    }),
    makeAlert({ identity: 'a2', labels: labels('p2', 'critical'), severity: 'critical', startsAt: SAMPLE_STARTS_AT }),
    makeAlert({
      identity: 'a3',
      labels: labels('p3', 'info'),
      severity: 'info',
      status: 'resolved',
      endsAt: SAMPLE_ENDS_AT,
    }),
  ];
}

describe('Function: buildGroupEvent', () => {
  it('triggers while any alert fires, titled like Alertmanager, with the most urgent firing severity', () => {
    // Prepare
    const alerts = threeAlerts();
    const group = makeGroup({ alerts, groupLabels: { alertname: 'HighMemory' } });

    // Act
    const { event, cuts } = buildGroupEvent(alerts, group, { routeName: 'db' });

    // Assess
    expect(cuts).toEqual([]);
    expect(event.event_action).toBe('trigger');
    expect(event.dedup_key).toBe(groupDedupKey(group, 'db'));
    // `_aliyun_*` labels stay out of the title; `pod` and `severity` differ, so only `namespace` is common
    expect(event.payload.summary).toBe('[FIRING:2] HighMemory (prod)');
    expect(event.payload.severity).toBe('critical');
    expect(event.payload.custom_details?.severity_source).toBe('most urgent alert (a2): labels.severity');
    expect(event.payload.timestamp).toBe('2021-02-22T07:18:15.578Z');
    expect(event.payload.custom_details).toMatchObject({
      status: 'firing',
      route: 'db',
      num_firing: 2,
      num_resolved: 1,
      common_labels: { alertname: 'HighMemory', namespace: 'prod', _aliyun_arms_alert_rule_id: '1' },
    });
    expect(event.payload.custom_details?.firing).toHaveLength(2);
    expect(eventProblems(event)).toEqual([]);
  });

  it('resolves only when every alert is resolved, stamped with the latest endsAt', () => {
    // Prepare
    const alerts = threeAlerts().map((alert, i) => ({
      ...alert,
      status: 'resolved' as const,
      endsAt: SAMPLE_ENDS_AT + i,
    }));
    const group = makeGroup({ alerts, groupLabels: { alertname: 'HighMemory' } });

    // Act
    const { event } = buildGroupEvent(alerts, group, { routeName: 'db' });

    // Assess
    expect(event.event_action).toBe('resolve');
    expect(event.payload.summary).toBe('[RESOLVED] HighMemory (prod)');
    expect(event.payload.timestamp).toBe(new Date(SAMPLE_ENDS_AT + 2).toISOString());
    expect(event.payload.severity).toBe('critical');
    expect(event.dedup_key).toBe(groupDedupKey(group, 'db'));
  });

  it('keeps one dedup_key while the group changes, and separates routes and receivers', () => {
    // Prepare
    const alerts = threeAlerts();
    const group = makeGroup({ alerts, groupLabels: { alertname: 'HighMemory' } });

    // Act
    const all = buildGroupEvent(alerts, group, { routeName: 'db' }).event.dedup_key;
    const fewer = buildGroupEvent(alerts.slice(0, 1), group, { routeName: 'db' }).event.dedup_key;
    const otherRoute = buildGroupEvent(alerts, group, { routeName: 'web' }).event.dedup_key;
    const otherReceiver = buildGroupEvent(alerts, { ...group, receiver: 'other' }, { routeName: 'db' }).event.dedup_key;

    // Assess
    expect(fewer).toBe(all);
    expect(new Set([all, otherRoute, otherReceiver]).size).toBe(3);
  });

  it('uses the first firing alert summary as title when the group has no group labels', () => {
    // Prepare
    const alerts = threeAlerts();

    // Act
    const { event } = buildGroupEvent(alerts, makeGroup({ alerts, groupLabels: {} }), { routeName: 'default' });

    // Assess
    expect(event.payload.summary).toBe(`[FIRING:2] ${alerts[0]?.summary}`);
  });

  it('uses a shared source, else the receiver', () => {
    // Prepare
    const alerts = threeAlerts();
    const mixed = alerts.map((alert, i) => ({ ...alert, source: `host-${i}` }));

    // Act
    const shared = buildGroupEvent(alerts, makeGroup({ alerts }), { routeName: 'db' }).event;
    const differing = buildGroupEvent(mixed, makeGroup({ alerts: mixed }), { routeName: 'db' }).event;

    // Assess
    expect(shared.payload.source).toBe('klyz1688-kubernetes-1');
    expect(differing.payload.source).toBe('testjiubian');
  });

  it('stays within 512,000 bytes for a group of 400 alerts with long annotations', () => {
    // Prepare
    const alerts = Array.from({ length: 400 }, (_, i) =>
      makeAlert({ identity: `id${i}`, annotations: { description: 'd'.repeat(3000) } }),
    );

    // Act
    const { event, cuts } = buildGroupEvent(alerts, makeGroup({ alerts }), { routeName: 'db' });

    // Assess
    expect(eventByteLength(event)).toBeLessThanOrEqual(512_000);
    expect(cuts.length).toBeGreaterThan(0);
    expect(event.payload.custom_details).toMatchObject({ num_firing: 400, num_resolved: 0, route: 'db' });
    expect(eventProblems(event)).toEqual([]);
  });

  it('throws on an empty alert list (a caller bug)', () => {
    // Act / Assess
    expect(() => buildGroupEvent([], makeGroup(), { routeName: 'db' })).toThrow(
      'buildGroupEvent called without alerts',
    );
  });
});
