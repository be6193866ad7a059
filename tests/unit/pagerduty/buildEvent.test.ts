import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildEvent } from '../../../shared/pagerduty/buildEvent';
import { DETAILS_REMOVED_MESSAGE, eventByteLength } from '../../../shared/pagerduty/encode';
import { eventProblems } from '../../../shared/pagerduty/eventProblems';
import { makeAlert, makeGroup, SAMPLE_ENDS_AT, SAMPLE_STARTS_AT } from '../../support/alerts';

describe('Function: buildEvent', () => {
  it('builds a trigger from the ARMS sample with every field in place', () => {
    // Prepare
    const alert = makeAlert();
    const group = makeGroup({ alerts: [alert] });

    // Act
    const { event, cuts } = buildEvent(alert, group, {});

    // Assess
    expect(cuts).toEqual([]);
    expect(event).toEqual({
      event_action: 'trigger',
      dedup_key: 'bec72890cc2c7b4a027e008df0cd1013',
      payload: {
        summary: alert.summary,
        source: 'klyz1688-kubernetes-1',
        severity: 'warning',
        timestamp: '2021-02-22T07:18:15.578Z',
        component: 'kube-state-metrics',
        custom_details: {
          status: 'firing',
          labels: alert.labels,
          annotations: alert.annotations,
          starts_at: '2021-02-22T07:18:15.578Z',
          ends_at: '2021-02-22T07:27:15.404Z',
          severity_source: 'labels.severity',
          identity: alert.identity,
          identity_source: 'fingerprint',
          notification: {
            format: 'arms',
            receiver: 'testjiubian',
            external_url: group.externalURL,
            group_labels: group.groupLabels,
          },
        },
      },
      links: [{ href: 'https://alerts.console.aliyun.com/#/alarm/alert/detail/2848', text: 'ARMS alert' }],
      client: 'ARMS',
      client_url: group.externalURL,
    });
    expect(eventProblems(event)).toEqual([]);
  });

  it('builds a resolve that carries the full payload, stamped with endsAt', () => {
    // Prepare
    const alert = makeAlert({ status: 'resolved' });

    // Act
    const { event } = buildEvent(alert, makeGroup(), {});

    // Assess
    expect(event.event_action).toBe('resolve');
    expect(event.dedup_key).toBe(alert.identity);
    expect(event.payload).toMatchObject({
      summary: alert.summary,
      source: alert.source,
      severity: 'warning',
      timestamp: '2021-02-22T07:27:15.404Z',
      component: 'kube-state-metrics',
    });
    expect(event.payload.custom_details?.labels).toEqual(alert.labels);
  });

  it.each([
    {
      case: 'trigger with startsAt',
      status: 'firing',
      startsAt: SAMPLE_STARTS_AT,
      endsAt: SAMPLE_ENDS_AT,
      receivedAt: 1_700_000_000_000,
      expected: '2021-02-22T07:18:15.578Z',
    },
    {
      case: 'trigger without startsAt (receivedAt unused)',
      status: 'firing',
      startsAt: undefined,
      endsAt: SAMPLE_ENDS_AT,
      receivedAt: 1_700_000_000_000,
      expected: undefined,
    },
    {
      case: 'resolve with endsAt',
      status: 'resolved',
      startsAt: SAMPLE_STARTS_AT,
      endsAt: SAMPLE_ENDS_AT,
      receivedAt: 1_700_000_000_000,
      expected: '2021-02-22T07:27:15.404Z',
    },
    {
      case: 'resolve without endsAt falls back to receivedAt',
      status: 'resolved',
      startsAt: SAMPLE_STARTS_AT,
      endsAt: undefined,
      receivedAt: 1_700_000_000_000,
      expected: '2023-11-14T22:13:20.000Z',
    },
    {
      case: 'resolve without endsAt nor receivedAt',
      status: 'resolved',
      startsAt: SAMPLE_STARTS_AT,
      endsAt: undefined,
      receivedAt: undefined,
      expected: undefined,
    },
    {
      case: 'trigger with an unrepresentable startsAt',
      status: 'firing',
      startsAt: Number.NaN,
      endsAt: undefined,
      receivedAt: undefined,
      expected: undefined,
    },
    {
      case: 'trigger with startsAt beyond Date range',
      status: 'firing',
      startsAt: 9e15,
      endsAt: undefined,
      receivedAt: undefined,
      expected: undefined,
    },
  ] as const)('timestamp: $case', ({ status, startsAt, endsAt, receivedAt, expected }) => {
    // Prepare
    const alert = makeAlert({ status, startsAt, endsAt });

    // Act
    const { event } = buildEvent(alert, makeGroup(), { receivedAt });

    // Assess
    expect(event.payload.timestamp).toBe(expected);
    expect('timestamp' in event.payload).toBe(expected !== undefined);
  });

  it.each([
    {
      case: 'the alert severity wins',
      severity: 'critical',
      source: 'severity',
      defaultSeverity: 'info',
      expected: 'critical',
      from: 'labels.severity',
    },
    {
      case: 'the ARMS level label is named',
      severity: 'error',
      source: '_aliyun_arms_alert_level',
      defaultSeverity: undefined,
      expected: 'error',
      from: 'labels._aliyun_arms_alert_level',
    },
    {
      case: 'the route default applies when the alert has none',
      severity: undefined,
      source: undefined,
      defaultSeverity: 'info',
      expected: 'info',
      from: 'route defaultSeverity',
    },
    {
      case: 'error when neither has one',
      severity: undefined,
      source: undefined,
      defaultSeverity: undefined,
      expected: 'error',
      from: 'bridge default (error)',
    },
    {
      case: 'an invalid alert severity never leaks',
      severity: 'none',
      source: 'severity',
      defaultSeverity: 'warning',
      expected: 'warning',
      from: 'route defaultSeverity',
    },
    {
      case: 'an invalid route default never leaks',
      severity: undefined,
      source: undefined,
      defaultSeverity: 'page',
      expected: 'error',
      from: 'bridge default (error)',
    },
  ] as const)('severity: $case', ({ severity, source, defaultSeverity, expected, from }) => {
    // Prepare
    // biome-ignore lint/suspicious/noExplicitAny: the invalid values are the point of these cases
    const alert = makeAlert({ severity: severity as any, severitySource: source });

    // Act
    // biome-ignore lint/suspicious/noExplicitAny: as above
    const { event } = buildEvent(alert, makeGroup(), { defaultSeverity: defaultSeverity as any });

    // Assess
    expect(event.payload.severity).toBe(expected);
    expect(event.payload.custom_details?.severity_source).toBe(from);
  });

  it.each([
    { case: 'ASCII', unit: 'a', count: 2000 },
    { case: 'CJK', unit: '告', count: 1500 },
    { case: 'emoji (astral, 2 UTF-16 units each)', unit: '🔥', count: 1100 },
  ])('cuts a $case summary to 1024 code points ending in …', ({ unit, count }) => {
    // Prepare
    const alert = makeAlert({ summary: unit.repeat(count) });

    // Act
    const { event, cuts } = buildEvent(alert, makeGroup(), {});

    // Assess
    const codePoints = Array.from(event.payload.summary);
    expect(codePoints).toHaveLength(1024);
    expect(codePoints.at(-1)).toBe('…');
    expect(codePoints.slice(0, 1023).every((char) => char === unit)).toBe(true);
    expect(cuts).toEqual([`payload.summary cut from ${count} to 1024 code points`]);
    expect(eventProblems(event)).toEqual([]);
  });

  it('keeps a summary of exactly 1024 emoji untouched', () => {
    // Prepare
    const summary = '🔥'.repeat(1024);

    // Act
    const { event, cuts } = buildEvent(makeAlert({ summary }), makeGroup(), {});

    // Assess
    expect(event.payload.summary).toBe(summary);
    expect(cuts).toEqual([]);
  });

  it.each([
    { case: 'blank summary → alertname', summary: '  ', labels: { alertname: 'HighCPU' }, expected: 'HighCPU' },
    {
      case: 'no alertname either → identity',
      summary: '',
      labels: {},
      expected: 'Alert bec72890cc2c7b4a027e008df0cd1013',
    },
  ])('never sends a blank summary: $case', ({ summary, labels, expected }) => {
    // Act
    const { event } = buildEvent(makeAlert({ summary, labels: labels as Record<string, string> }), makeGroup(), {});

    // Assess
    expect(event.payload.summary).toBe(expected);
  });

  it('never sends a blank source, and omits blank component/group/class', () => {
    // Prepare
    const alert = makeAlert({ source: ' ', component: '', group: ' ', class: undefined });

    // Act
    const { event } = buildEvent(alert, makeGroup(), {});

    // Assess
    expect(event.payload.source).toBe('ARMS');
    expect(event.payload).not.toHaveProperty('component');
    expect(event.payload).not.toHaveProperty('group');
    expect(event.payload).not.toHaveProperty('class');
  });

  it('hashes an identity longer than 255 characters into a stable dedup_key', () => {
    // Prepare
    const alert = makeAlert({ identity: 'x'.repeat(300) });

    // Act
    const first = buildEvent(alert, makeGroup(), {});
    const second = buildEvent(alert, makeGroup(), {});

    // Assess
    expect(first.event.dedup_key).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(second.event.dedup_key).toBe(first.event.dedup_key);
    expect(first.cuts).toEqual(['dedup_key: identity of 300 characters replaced by its SHA-256']);
  });

  it('puts links and https images at the top level, dropping other images and non-http links', () => {
    // Prepare
    const alert = makeAlert({
      links: [
        { href: 'https://runbooks.example.com/mem', text: 'Runbook' },
        { href: 'https://runbooks.example.com/mem', text: 'Runbook (duplicate)' },
        { href: 'see wiki', text: 'Wiki' },
      ],
      images: [
        { src: 'https://grafana.example.com/render/1.png', alt: 'Memory', href: 'https://grafana.example.com/d/1' },
        { src: 'http://grafana.example.com/render/2.png', alt: 'Plain http' },
        { src: 'data:image/png;base64,AAAA' },
      ],
    });

    // Act
    const { event, cuts } = buildEvent(alert, makeGroup(), {});

    // Assess
    expect(event.links).toEqual([{ href: 'https://runbooks.example.com/mem', text: 'Runbook' }]);
    expect(event.images).toEqual([
      { src: 'https://grafana.example.com/render/1.png', href: 'https://grafana.example.com/d/1', alt: 'Memory' },
    ]);
    expect(event.payload).not.toHaveProperty('links');
    expect(event.payload).not.toHaveProperty('images');
    expect(cuts).toEqual([
      'link "Wiki" dropped: href is not an http(s) URL',
      'image "Plain http" dropped: src is not an https URL',
      'image "data:image/png;base64,AAAA" dropped: src is not an https URL',
    ]);
  });

  it.each([
    {
      case: 'ARMS: the alert page itself',
      format: 'arms',
      externalURL: 'https://alerts.console.aliyun.com/#/alarm/alert/detail/2848',
      client: 'ARMS',
      clientUrl: 'https://alerts.console.aliyun.com/#/alarm/alert/detail/2848',
    },
    {
      case: 'Alertmanager: its alert list for the receiver',
      format: 'alertmanager',
      externalURL: 'http://am.example.com:9093/',
      client: 'Alertmanager',
      clientUrl: 'http://am.example.com:9093/#/alerts?receiver=team%20db',
    },
    { case: 'no URL', format: 'arms', externalURL: undefined, client: 'ARMS', clientUrl: undefined },
    { case: 'not a URL', format: 'arms', externalURL: 'alerts console', client: 'ARMS', clientUrl: undefined },
  ] as const)('client and client_url: $case', ({ format, externalURL, client, clientUrl }) => {
    // Prepare
    const group = makeGroup({ format, externalURL, receiver: 'team db' });

    // Act
    const { event } = buildEvent(makeAlert(), group, {});

    // Assess
    expect(event.client).toBe(client);
    expect(event.client_url).toBe(clientUrl);
  });

  it('carries the Alertmanager context into custom_details.notification', () => {
    // Prepare
    const group = makeGroup({
      format: 'alertmanager',
      groupKey: '{}/{team="db"}:{alertname="HighCPU"}',
      truncatedAlerts: 3,
      notificationReason: 'new_alert',
      externalURL: 'http://am:9093',
    });

    // Act
    const { event } = buildEvent(makeAlert(), group, {});

    // Assess
    expect(event.payload.custom_details?.notification).toEqual({
      format: 'alertmanager',
      receiver: 'testjiubian',
      external_url: 'http://am:9093',
      group_key: '{}/{team="db"}:{alertname="HighCPU"}',
      group_labels: group.groupLabels,
      truncated_alerts: 3,
      notification_reason: 'new_alert',
    });
  });

  it('degrades an event with a 513 KB annotation to fit 512,000 bytes, saying what it cut', () => {
    // Prepare
    const alert = makeAlert({ annotations: { description: 'x'.repeat(513 * 1024), runbook: 'short' } });

    // Act
    const { event, cuts } = buildEvent(alert, makeGroup(), {});

    // Assess
    expect(eventByteLength(event)).toBeLessThanOrEqual(512_000);
    const details = event.payload.custom_details as { annotations: Record<string, string>; labels: unknown };
    expect(Array.from(details.annotations.description ?? '')).toHaveLength(1024);
    expect(details.annotations.runbook).toBe('short');
    expect(details.labels).toEqual(alert.labels);
    expect(cuts).toHaveLength(1);
    expect(cuts[0]).toMatch(
      /^event over 512000 bytes: cut to 1024 code points: custom_details\.annotations\.description \(525312 code points\)/,
    );
    expect(eventProblems(event)).toEqual([]);
  });

  it('replaces custom_details when long values alone are not enough, keeping the labels', () => {
    // Prepare: 600 annotations of 1,000 code points each, none "long", 600 KB together
    const annotations = Object.fromEntries(Array.from({ length: 600 }, (_, i) => [`a${i}`, 'y'.repeat(1000)]));
    const alert = makeAlert({ annotations });

    // Act
    const { event, cuts } = buildEvent(alert, makeGroup(), {});

    // Assess
    expect(eventByteLength(event)).toBeLessThanOrEqual(512_000);
    expect(event.payload.custom_details).toEqual({
      error: DETAILS_REMOVED_MESSAGE,
      status: 'firing',
      labels: alert.labels,
      severity_source: 'labels.severity',
    });
    expect(cuts).toHaveLength(1);
    expect(cuts[0]).toContain('custom_details reduced to status, labels, severity_source; removed annotations');
    expect(event.links).toBeDefined();
  });

  it('every built event passes the schema and PagerDuty limits (property)', () => {
    fc.assert(
      fc.property(
        fc.record({
          identity: fc.string({ minLength: 1, maxLength: 400 }),
          status: fc.constantFrom('firing' as const, 'resolved' as const),
          summary: fc.string({ unit: 'grapheme', maxLength: 1500 }),
          source: fc.string({ maxLength: 50 }),
          severity: fc.option(
            fc.constantFrom('critical' as const, 'error' as const, 'warning' as const, 'info' as const),
            { nil: undefined },
          ),
          startsAt: fc.option(fc.integer({ min: -10, max: 4_102_444_800_000 }), { nil: undefined }),
          endsAt: fc.option(fc.integer({ min: -10, max: 4_102_444_800_000 }), { nil: undefined }),
          labels: fc.dictionary(fc.string({ minLength: 1, maxLength: 20 }), fc.string({ maxLength: 40 })),
          src: fc.webUrl(),
        }),
        ({ src, ...fields }) => {
          const alert = makeAlert({ ...fields, images: [{ src }], links: [{ href: src, text: 't' }] });
          const { event } = buildEvent(alert, makeGroup(), {});
          expect(eventProblems(event)).toEqual([]);
          expect(Array.from(event.payload.summary).length).toBeLessThanOrEqual(1024);
          expect(event.dedup_key.length).toBeLessThanOrEqual(255);
          expect(event.event_action).toBe(fields.status === 'firing' ? 'trigger' : 'resolve');
        },
      ),
      { numRuns: 300 },
    );
  });
});
