import { describe, expect, it } from 'vitest';
import { REDACTED, Secret } from '../../../shared/config/Secret';
import { DEDUP_KEY_MAX, SUMMARY_MAX_CODE_POINTS } from '../../../shared/constants';
import type { SelfAlertReport } from '../../../shared/health/selfAlert';
import { resolveSelfAlertEvent, selfAlertDedupKey, selfAlertEvent } from '../../../shared/health/selfAlert';
import { type HealthVerdict, healthVerdict, type VerdictInput } from '../../../shared/health/verdict';
import { eventProblems } from '../../../shared/pagerduty/eventProblems';

const NOW = Date.parse('2026-03-01T12:00:00.000Z');
const HEALTH_KEY = 'HEALTHKEYabcdef0123456789ZYXWVUT';
const THRESHOLDS = { maxOutboxAgeSeconds: 900, maxDeadDeliveries: 0, maxFailureRatio: 0.5 };

const REPORT: SelfAlertReport = {
  triggerTime: '2026-03-01T12:00:00Z',
  deliveries: { PENDING: 3, SENDING: 0, DELIVERED: 40, RETRY: 9, DEAD: 1, SUPERSEDED: 0, DRY_RUN: 0 },
  oldestWaitingSeconds: 1_200,
  relay: {
    due: 12,
    attempted: 12,
    delivered: 0,
    retrying: 12,
    dead: 0,
    superseded: 0,
    waiting: 0,
    lostRaces: 0,
    deferred: 0,
    rateLimitedKeys: 0,
  },
};

function verdictOf(change: (input: VerdictInput) => void): HealthVerdict {
  const input: VerdictInput = {
    now: NOW,
    deliveries: {},
    oldestWaitingSeconds: null,
    window: { delivered: 1, failures: {}, dead: 0 },
    storeReachable: true,
    configProblems: [],
  };
  change(input);
  return healthVerdict(input, THRESHOLDS);
}

const FAILING = verdictOf((input) => {
  input.oldestWaitingSeconds = 1_200;
  input.window.failures = { server: 12 };
});
const DEGRADED = verdictOf((input) => {
  input.oldestWaitingSeconds = 300;
});
const HEALTHY = verdictOf(() => undefined);

describe('Function: selfAlertEvent', () => {
  it('builds a critical trigger with a stable dedup_key, a summary saying what and what to do, and the figures', () => {
    // Act
    const event = selfAlertEvent(FAILING, REPORT, { instanceName: 'cn-hangzhou/delivery-health', now: NOW });

    // Assess
    expect(event).toMatchObject({
      event_action: 'trigger',
      dedup_key: 'arms-pagerduty-bridge/health/cn-hangzhou/delivery-health',
      client: 'arms-pagerduty-bridge',
      payload: {
        source: 'cn-hangzhou/delivery-health',
        severity: 'critical',
        timestamp: '2026-03-01T12:00:00.000Z',
        component: 'delivery-health',
        group: 'arms-pagerduty-bridge',
        class: 'health/outbox-age',
      },
    });
    expect(event.payload.summary).toBe(
      'arms-pagerduty-bridge cn-hangzhou/delivery-health is FAILING: the oldest undelivered alert has waited 1200 s ' +
        '(limit 900 s) (+1 more) — do: alerts are not reaching PagerDuty: the delivery-health log names the failure reason',
    );
    expect(event.payload.custom_details).toEqual({
      verdict: 'failing',
      rule: 'outbox-age',
      rules: ['outbox-age', 'failure-ratio'],
      reasons: FAILING.reasons,
      whatToDo: expect.any(String),
      runbook: 'docs/runbook.md#outbox-age',
      deliveries: REPORT.deliveries,
      oldestWaitingSeconds: 1_200,
      relay: REPORT.relay,
      triggerTime: REPORT.triggerTime,
    });
  });

  it.each([
    { verdict: FAILING, severity: 'critical' },
    { verdict: DEGRADED, severity: 'warning' },
    { verdict: HEALTHY, severity: 'info' },
  ])('severity of a $verdict.verdict verdict is $severity', ({ verdict, severity }) => {
    // Act
    const event = selfAlertEvent(verdict, REPORT, { now: NOW });

    // Assess
    expect(event.payload.severity).toBe(severity);
  });

  it.each([
    { title: 'same name, different verdicts', a: [FAILING, 'x'], b: [DEGRADED, 'x'], same: true },
    { title: 'no name twice', a: [FAILING, undefined], b: [HEALTHY, undefined], same: true },
    { title: 'blank name = no name', a: [FAILING, '  '], b: [FAILING, undefined], same: true },
    { title: 'two deployments', a: [FAILING, 'prod'], b: [FAILING, 'staging'], same: false },
  ] as const)('dedup_key is stable: $title', ({ a, b, same }) => {
    // Act
    const first = selfAlertEvent(a[0], REPORT, { instanceName: a[1], now: NOW }).dedup_key;
    const second = selfAlertEvent(b[0], REPORT, { instanceName: b[1], now: NOW + 60_000 }).dedup_key;

    // Assess
    expect(first === second).toBe(same);
  });

  it('defaults the name to delivery-health', () => {
    // Act / Assess
    expect(selfAlertDedupKey()).toBe('arms-pagerduty-bridge/health/delivery-health');
    expect(selfAlertEvent(FAILING, REPORT).payload.source).toBe('delivery-health');
  });

  it('cuts the dedup_key to 255 characters and the summary to 1024 code points (CJK and emoji reasons)', () => {
    // Prepare: reasons from many configuration problems in Chinese with astral characters
    const verdict = verdictOf((input) => {
      input.configProblems = Array.from({ length: 200 }, (_, i) => `配置错误 ${i} 😀`);
    });

    // Act
    const event = selfAlertEvent(verdict, REPORT, { instanceName: 'n'.repeat(400), now: NOW });

    // Assess
    expect(event.dedup_key.length).toBe(DEDUP_KEY_MAX);
    expect(Array.from(event.payload.summary).length).toBeLessThanOrEqual(SUMMARY_MAX_CODE_POINTS);
    expect(event.payload.summary.endsWith('…')).toBe(true);
    expect(eventProblems({ routing_key: HEALTH_KEY, ...event })).toEqual([]);
  });

  it.each([
    { title: 'failing', event: () => selfAlertEvent(FAILING, REPORT, { instanceName: 'prod', now: NOW }) },
    { title: 'degraded', event: () => selfAlertEvent(DEGRADED, REPORT, { now: NOW }) },
    { title: 'healthy', event: () => selfAlertEvent(HEALTHY, { deliveries: {}, oldestWaitingSeconds: null }) },
    { title: 'resolve', event: () => resolveSelfAlertEvent({ instanceName: 'prod', now: NOW }) },
    { title: 'resolve, defaults', event: () => resolveSelfAlertEvent() },
  ])('passes the Events v2 schema: $title', ({ event }) => {
    // Act / Assess: stored form and sent form
    expect(eventProblems(event())).toEqual([]);
    expect(eventProblems({ routing_key: HEALTH_KEY, ...event() })).toEqual([]);
  });

  it('never carries a secret, even when the report object holds one', () => {
    // Prepare: a report with extra fields a future version might add, one of them a Secret
    const report = {
      ...REPORT,
      routingKey: new Secret(HEALTH_KEY),
      heartbeatUrl: 'https://hc-ping.com/TOKEN',
      relay: { ...REPORT.relay, lastKey: HEALTH_KEY, key: new Secret(HEALTH_KEY) },
      deliveries: { ...REPORT.deliveries, note: 'TOKEN' },
    };

    // Act
    const text = JSON.stringify(selfAlertEvent(FAILING, report, { now: NOW }));

    // Assess
    expect(text).not.toContain(HEALTH_KEY);
    expect(text).not.toContain(REDACTED);
    expect(text).not.toContain('TOKEN');
  });
});

describe('Function: resolveSelfAlertEvent', () => {
  it('resolves the same dedup_key as the trigger', () => {
    // Act
    const trigger = selfAlertEvent(FAILING, REPORT, { instanceName: 'prod', now: NOW });
    const resolve = resolveSelfAlertEvent({ instanceName: 'prod', now: NOW + 600_000 });

    // Assess
    expect(resolve).toEqual({
      event_action: 'resolve',
      dedup_key: trigger.dedup_key,
      client: 'arms-pagerduty-bridge',
      payload: {
        summary: 'arms-pagerduty-bridge prod is healthy again',
        source: 'prod',
        severity: 'info',
        timestamp: '2026-03-01T12:10:00.000Z',
        component: 'delivery-health',
        group: 'arms-pagerduty-bridge',
      },
    });
  });
});
