import { describe, expect, it } from 'vitest';
import { labelSetIdentity } from '../../../shared/alerts/identity';
import { detectFormat, normalizeAlert, normalizeCallback } from '../../../shared/alerts/normalize';
import type { RawAlert, RawCallbackEnvelope } from '../../../shared/alerts/schema';
import { fixtureJson } from './fixtures';

const ARMS = { format: 'arms' } as const;
const AM = { format: 'alertmanager' } as const;

/** A minimal valid raw alert with extra fields. */
function raw(overrides: Partial<RawAlert> = {}): RawAlert {
  return { status: 'firing', labels: { alertname: 'HighCPU' }, ...overrides };
}

describe('normalizeCallback', () => {
  it('normalizes the verbatim ARMS sample', () => {
    // Prepare
    const body = fixtureJson<RawCallbackEnvelope>('arms/sample.json');
    const rawAlert = body.alerts[0] as RawAlert;

    // Act
    const group = normalizeCallback(body, [rawAlert], []);

    // Assess
    expect(group).toEqual({
      format: 'arms',
      status: 'firing',
      receiver: 'testjiubian',
      externalURL: 'https://alerts.console.aliyun.com/#/alarm/alert/detail/2848',
      groupLabels: { alertname: '容器内存使用率大于80%' },
      commonLabels: body.commonLabels,
      commonAnnotations: body.commonAnnotations,
      rejected: [],
      alerts: [
        {
          identity: 'bec72890cc2c7b4a027e008df0cd1013',
          identitySource: 'fingerprint',
          status: 'firing',
          startsAt: Date.UTC(2021, 1, 22, 7, 18, 15, 578),
          endsAt: Date.UTC(2021, 1, 22, 7, 27, 15, 404),
          severity: 'warning',
          severitySource: 'severity',
          summary:
            '报警：命名空间: arms-prom / Pod: kube-state-metrics-ccb59dbff-jljg4 / 容器: kube-state-metrics 内存使用率超>过80%, 当前值15.52%',
          source: '10.0.80.186:10255',
          component: 'kube-state-metrics',
          group: 'arms-prom',
          class: '容器内存使用率大于80%',
          links: [{ href: 'https://alerts.console.aliyun.com/#/alarm/alert/detail/2848', text: 'ARMS alert details' }],
          images: [],
          labels: rawAlert.labels,
          annotations: rawAlert.annotations,
          clientUrl: 'https://alerts.console.aliyun.com/#/alarm/alert/detail/2848',
        },
      ],
    });
  });

  it('keeps the identity and takes the status from the alert in the resolved variant', () => {
    // Prepare
    const firing = fixtureJson<RawCallbackEnvelope>('arms/sample.json');
    const resolved = fixtureJson<RawCallbackEnvelope>('arms/resolved.json');

    // Act
    const [before] = normalizeCallback(firing, firing.alerts as RawAlert[], []).alerts;
    const [after] = normalizeCallback(resolved, resolved.alerts as RawAlert[], []).alerts;

    // Assess
    expect(after?.identity).toBe(before?.identity);
    expect(after?.status).toBe('resolved');
    expect(after?.startsAt).toBe(before?.startsAt);
    expect(after?.endsAt).toBe(Date.UTC(2021, 1, 22, 7, 42, 15, 404));
  });

  it('normalizes a native Alertmanager v4 webhook and keeps truncatedAlerts', () => {
    // Prepare
    const body = fixtureJson<RawCallbackEnvelope>('alertmanager/v4-truncated.json');

    // Act
    const group = normalizeCallback(body, body.alerts as RawAlert[], []);

    // Assess
    expect(group).toMatchObject({
      format: 'alertmanager',
      version: '4',
      groupKey: '{}/{severity="critical"}:{alertname="HighRequestLatency"}',
      truncatedAlerts: 2,
      receiver: 'arms-pagerduty-bridge',
      externalURL: 'http://alertmanager.monitoring.svc:9093',
    });
    expect(group.alerts).toHaveLength(2);
    expect(group.alerts[0]).toEqual({
      identity: 'c4a1b2d3e4f50617',
      identitySource: 'fingerprint',
      status: 'firing',
      startsAt: Date.UTC(2024, 4, 14, 9, 31, 27, 123),
      severity: 'critical',
      severitySource: 'severity',
      summary: 'p99 latency of api-0.api.prod.svc:8080 above 2s',
      source: 'api-0.api.prod.svc:8080',
      component: 'api',
      group: 'prod',
      class: 'HighRequestLatency',
      links: [
        { href: 'https://runbooks.example.com/HighRequestLatency', text: 'Runbook' },
        {
          href: 'http://prometheus.monitoring.svc:9090/graph?g0.expr=histogram_quantile%280.99%2C+rate%28http_request_duration_seconds_bucket%5B5m%5D%29%29+%3E+2&g0.tab=1',
          text: 'Alert source (generatorURL)',
        },
        { href: 'http://alertmanager.monitoring.svc:9093', text: 'Alertmanager' },
      ],
      images: [],
      labels: (body.alerts[0] as RawAlert).labels,
      annotations: (body.alerts[0] as RawAlert).annotations,
      generatorURL:
        'http://prometheus.monitoring.svc:9090/graph?g0.expr=histogram_quantile%280.99%2C+rate%28http_request_duration_seconds_bucket%5B5m%5D%29%29+%3E+2&g0.tab=1',
      clientUrl: 'http://alertmanager.monitoring.svc:9093',
    });
    expect(group.alerts[0]?.endsAt).toBeUndefined();
  });

  it('reads the Alertmanager resolved webhook and its notification_reason', () => {
    // Prepare
    const body = fixtureJson<RawCallbackEnvelope>('alertmanager/v4-resolved.json');

    // Act
    const group = normalizeCallback(body, body.alerts as RawAlert[], []);

    // Assess
    expect(group).toMatchObject({ status: 'resolved', truncatedAlerts: 0, notificationReason: 'resolved' });
    expect(group.alerts[0]).toMatchObject({
      identity: 'c4a1b2d3e4f50617',
      status: 'resolved',
      endsAt: Date.UTC(2024, 4, 14, 9, 51, 27, 123),
    });
  });

  it('keeps the rejected list and only the string entries of the group maps', () => {
    // Prepare
    const body: RawCallbackEnvelope = { alerts: [], commonLabels: { a: 'x', b: 1, c: null }, groupLabels: { d: 'y' } };
    const rejected = [{ index: 1, reason: 'labels is required' }];

    // Act
    const group = normalizeCallback(body, [raw()], rejected);

    // Assess
    expect(group.commonLabels).toEqual({ a: 'x' });
    expect(group.groupLabels).toEqual({ d: 'y' });
    expect(group.commonAnnotations).toEqual({});
    expect(group.rejected).toEqual(rejected);
    expect(group.rejected).not.toBe(rejected);
  });

  it('passes identity exclusions to alerts without a fingerprint', () => {
    // Prepare
    const alert = raw({ labels: { alertname: 'X', replica: 'b' } });

    // Act
    const group = normalizeCallback({ alerts: [] }, [alert], [], { identityExcludedLabels: ['replica'] });

    // Assess
    expect(group.alerts[0]?.identity).toBe(labelSetIdentity({ alertname: 'X' }));
  });
});

describe('detectFormat', () => {
  it.each([
    [{ alerts: [] }, 'arms'],
    [{ alerts: [], version: '4' }, 'alertmanager'],
    [{ alerts: [], groupKey: '{}:{}' }, 'alertmanager'],
    [{ alerts: [], truncatedAlerts: 0 }, 'arms'],
  ])('detects %j as %s', (body, format) => {
    // Act & Assess
    expect(detectFormat(body)).toBe(format);
  });
});

describe('normalizeAlert', () => {
  describe('summary', () => {
    it.each([
      ['annotations.summary first', { summary: 'S', description: 'D', message: 'M' }, {}, 'S'],
      ['then description', { description: 'D', message: 'M' }, {}, 'D'],
      ['then message', { message: 'M' }, {}, 'M'],
      ['skipping blank ones', { summary: '  ', description: '', message: 'M' }, {}, 'M'],
      ['rendering placeholders', { summary: '{{ $labels.pod }} is down' }, { pod: 'web-1' }, 'web-1 is down'],
      ['rendering $value from the value annotation', { summary: 'at {{ $value }}', value: '9' }, {}, 'at 9'],
      [
        'rendering $value from the ARMS now-value',
        { summary: '{{ printf "%.1f" $value }}%', _aliyun_arms_alert_now_value: '91.26' },
        {},
        '91.3%',
      ],
      ['removing what cannot be rendered', { summary: '{{ $labels.team }} paged' }, {}, 'paged'],
      ['skipping one left blank by that', { summary: '{{ $labels.team }}', message: 'M' }, {}, 'M'],
      ['trimmed', { summary: '\n  CPU high \n' }, {}, 'CPU high'],
      [
        'alertname and key labels without annotations',
        {},
        { instance: 'h:9100', job: 'node', zone: 'a' },
        'HighCPU (instance=h:9100, job=node)',
      ],
      ['alertname alone', {}, {}, 'HighCPU'],
      ['CJK text as is', { message: '磁盘空间不足' }, {}, '磁盘空间不足'],
    ])('takes %s', (_name, annotations, extraLabels, summary) => {
      // Act
      const alert = normalizeAlert(raw({ labels: { alertname: 'HighCPU', ...extraLabels }, annotations }), ARMS);

      // Assess
      expect(alert.summary).toBe(summary);
    });

    it.each([
      ['the ARMS alert name', { _aliyun_arms_alert_name: '内存告警', pod: 'p' }, '内存告警 (pod=p)'],
      [
        'at most four key labels',
        { alertname: 'A', instance: '1', pod: '2', pod_name: '3', namespace: '4', job: '5' },
        'A (instance=1, pod=2, pod_name=3, namespace=4)',
      ],
      ['the first labels by name without a name or key label', { zeta: 'z', beta: 'b' }, 'Alert (beta=b, zeta=z)'],
    ])('falls back to %s', (_name, labels, summary) => {
      // Act
      const alert = normalizeAlert(raw({ labels }), ARMS);

      // Assess
      expect(alert.summary).toBe(summary);
    });
  });

  describe('source', () => {
    it.each([
      ['instance first', { instance: 'i', pod: 'p', clustername: 'c' }, undefined, 'i'],
      ['then pod', { pod: 'p', clustername: 'c' }, undefined, 'p'],
      ['then the ARMS involved object', { _aliyun_arms_involvedObject_name: 'o', clustername: 'c' }, undefined, 'o'],
      ['then the cluster', { clustername: 'c', job: 'j' }, undefined, 'c'],
      ['skipping blank labels', { instance: ' ', job: 'j' }, undefined, 'j'],
      ['then the externalURL host', {}, 'https://alerts.console.aliyun.com/#/x', 'alerts.console.aliyun.com'],
      ['ignoring a non-http externalURL', {}, 'mailto:x@example.com', 'ARMS'],
      ['finally ARMS', {}, undefined, 'ARMS'],
    ])('takes %s', (_name, labels, externalURL, source) => {
      // Act
      const alert = normalizeAlert(raw({ labels: { alertname: 'A', ...labels } }), { ...ARMS, externalURL });

      // Assess
      expect(alert.source).toBe(source);
    });

    it('falls back to the generatorURL host, then Alertmanager, for Alertmanager alerts', () => {
      // Act
      const withUrl = normalizeAlert(raw({ generatorURL: 'http://prometheus:9090/graph' }), AM);
      const without = normalizeAlert(raw(), AM);

      // Assess
      expect(withUrl.source).toBe('prometheus:9090');
      expect(without.source).toBe('Alertmanager');
    });
  });

  it.each([
    [{ component: 'c', service: 's', container: 'k' }, { component: 'c' }],
    [{ service: 's', container: 'k', job: 'j' }, { component: 's' }],
    [{ container: 'k', job: 'j' }, { component: 'k' }],
    [{ team: 't', namespace: 'n' }, { group: 't' }],
    [{ namespace: 'n', clustername: 'c' }, { group: 'n' }],
    [{ cluster: 'c' }, { group: 'c' }],
    [{ class: 'cpu' }, { class: 'cpu' }],
  ])('takes component/group/class from %j', (labels, expected) => {
    // Act
    const alert = normalizeAlert(raw({ labels: { ...labels } }), ARMS);

    // Assess
    expect({ component: alert.component, group: alert.group, class: alert.class }).toEqual({
      component: undefined,
      group: undefined,
      class: undefined,
      ...expected,
    });
  });

  it('collects links and https images, without duplicates or unsafe schemes', () => {
    // Prepare
    const alert = raw({
      labels: { alertname: 'A', _aliyun_arms_insights_analyze_link: 'https://arms.console.aliyun.com/insights/1' },
      annotations: {
        runbook_url: 'https://runbooks.example.com/a',
        dashboard: 'javascript:alert(1)',
        grafana_url: 'https://grafana.example.com/d/1',
        image_url: 'https://img.example.com/a.png',
        image: 'http://img.example.com/insecure.png',
        snapshot_url: 'https://img.example.com/a.png',
      },
      generatorURL: 'https://runbooks.example.com/a',
    });

    // Act
    const normalized = normalizeAlert(alert, { ...ARMS, externalURL: 'https://alerts.console.aliyun.com/#/detail/1' });

    // Assess
    expect(normalized.links).toEqual([
      { href: 'https://runbooks.example.com/a', text: 'Runbook' },
      { href: 'https://grafana.example.com/d/1', text: 'Dashboard' },
      { href: 'https://arms.console.aliyun.com/insights/1', text: 'ARMS Insights analysis' },
      { href: 'https://alerts.console.aliyun.com/#/detail/1', text: 'ARMS alert details' },
    ]);
    expect(normalized.images).toEqual([{ src: 'https://img.example.com/a.png', alt: 'A' }]);
    expect(normalized.clientUrl).toBe('https://alerts.console.aliyun.com/#/detail/1');
    expect(normalized.generatorURL).toBe('https://runbooks.example.com/a');
  });

  it('uses the generatorURL as client URL when the group has no web externalURL', () => {
    // Act
    const alert = normalizeAlert(raw({ generatorURL: 'http://prometheus:9090/graph' }), {
      ...AM,
      externalURL: 'not a url',
    });

    // Assess
    expect(alert.clientUrl).toBe('http://prometheus:9090/graph');
  });

  it.each([
    [
      'firing with a future end (ARMS)',
      '2021-02-22T07:18:15.578000000Z',
      '2021-02-22T07:27:15.404000000Z',
      1613978295578,
      1613978835404,
    ],
    ['zero end', '2021-02-22T07:18:15.578Z', '0001-01-01T00:00:00Z', 1613978295578, undefined],
    ['end before start', '2021-02-22T07:18:15.578Z', '2021-02-22T07:00:00Z', 1613978295578, undefined],
    ['end equal to start', '2021-02-22T07:18:15.578Z', '2021-02-22T07:18:15.578000000Z', 1613978295578, 1613978295578],
    ['invalid start', 'soon', '2021-02-22T07:00:00Z', undefined, 1613977200000],
    ['no times', undefined, undefined, undefined, undefined],
  ])('parses times: %s', (_name, startsAt, endsAt, expectedStart, expectedEnd) => {
    // Act
    const alert = normalizeAlert(raw({ startsAt, endsAt }), ARMS);

    // Assess
    expect(alert.startsAt).toBe(expectedStart);
    expect(alert.endsAt).toBe(expectedEnd);
    expect(Object.hasOwn(alert, 'startsAt')).toBe(expectedStart !== undefined);
  });

  it('decides the status from the alert only, never from endsAt', () => {
    // Act: a resolved alert with a zero end, a firing one with a past end
    const resolved = normalizeAlert(raw({ status: 'resolved', endsAt: '0001-01-01T00:00:00Z' }), ARMS);
    const firing = normalizeAlert(
      raw({ status: 'firing', startsAt: '2020-01-01T00:00:00Z', endsAt: '2020-01-01T00:05:00Z' }),
      ARMS,
    );

    // Assess
    expect(resolved.status).toBe('resolved');
    expect(firing.status).toBe('firing');
  });

  it('has no severity when the labels give none, so the route default applies', () => {
    // Act
    const alert = normalizeAlert(raw({ labels: { alertname: 'A', severity: 'none' } }), ARMS);

    // Assess
    expect(alert.severity).toBeUndefined();
    expect(Object.hasOwn(alert, 'severitySource')).toBe(false);
  });

  it('keeps a __proto__ label as a label without touching the prototype', () => {
    // Prepare: JSON.parse makes "__proto__" an own property
    const alert = JSON.parse('{"status":"firing","labels":{"alertname":"A","__proto__":"x"}}') as RawAlert;

    // Act
    const normalized = normalizeAlert(alert, ARMS);

    // Assess
    expect(Object.getPrototypeOf(normalized.labels)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(normalized.labels, '__proto__')?.value).toBe('x');
    expect(normalized.identity).toBe(labelSetIdentity(normalized.labels));
  });
});
