import { describe, expect, it } from 'vitest';
import {
  DEFAULT_DEGRADED_OUTBOX_AGE_SECONDS,
  HealthRule,
  healthVerdict,
  type VerdictInput,
  type VerdictThresholds,
} from '../../../shared/health/verdict';

const NOW = Date.parse('2026-03-01T12:00:00.000Z');

const THRESHOLDS: VerdictThresholds = {
  maxOutboxAgeSeconds: 900,
  maxDeadDeliveries: 0,
  maxFailureRatio: 0.5,
  degradedOutboxAgeSeconds: 120,
};

/** A healthy run: a few deliveries, nothing waiting, nothing failed. */
function healthyInput(): VerdictInput {
  return {
    now: NOW,
    deliveries: { DELIVERED: 10 },
    oldestWaitingSeconds: null,
    window: { delivered: 4, failures: {}, dead: 0 },
    storeReachable: true,
    configProblems: [],
    lastCallbackAt: NOW - 30_000,
  };
}

type Change = (input: VerdictInput) => void;

function set(fields: Partial<VerdictInput>): Change {
  return (input) => {
    Object.assign(input, fields);
  };
}

function withWindow(window: Partial<VerdictInput['window']>): Change {
  return (input) => {
    input.window = { ...input.window, ...window };
  };
}

function judge(change: Change, thresholds: VerdictThresholds = THRESHOLDS) {
  const input = healthyInput();
  change(input);
  return healthVerdict(input, thresholds);
}

describe('Function: healthVerdict', () => {
  it('is healthy when nothing is wrong, with rule ok and no reasons', () => {
    // Act
    const result = healthVerdict(healthyInput(), THRESHOLDS);

    // Assess
    expect(result).toEqual({ verdict: 'healthy', rule: 'ok', rules: [], reasons: [] });
  });

  // One row per rule, each alone: the rule decides, and it is the only one matching.
  it.each<{ title: string; change: Change; verdict: string; rule: HealthRule; reason: RegExp }>([
    {
      title: 'configuration problems',
      change: (input) => {
        input.configProblems = ['PAGERDUTY_ROUTING_KEY is required', 'STORE must be one of memory, file'];
      },
      verdict: 'failing',
      rule: HealthRule.CONFIG,
      reason: /configuration invalid: PAGERDUTY_ROUTING_KEY is required; STORE must be/,
    },
    {
      title: 'store unreachable',
      change: (input) => {
        input.storeReachable = false;
      },
      verdict: 'failing',
      rule: HealthRule.STORE_UNREACHABLE,
      reason: /store is unreachable/,
    },
    {
      title: 'one auth failure among many deliveries',
      change: withWindow({ delivered: 100, failures: { auth: 1 } }),
      verdict: 'failing',
      rule: HealthRule.AUTH,
      reason: /refused a routing key .*1 auth failure\)/,
    },
    {
      title: 'one dead delivery over a budget of 0',
      change: withWindow({ dead: 1 }),
      verdict: 'failing',
      rule: HealthRule.DEAD_LETTERS,
      reason: /^1 delivery died in the report window \(limit 0\)$/,
    },
    {
      title: 'oldest undelivered over the outbox age limit',
      change: (input) => {
        input.oldestWaitingSeconds = 901;
        input.deliveries = { PENDING: 1 };
      },
      verdict: 'failing',
      rule: HealthRule.OUTBOX_AGE,
      reason: /waited 901 s \(limit 900 s\)/,
    },
    {
      title: 'watchdog silent longer than its interval',
      change: (input) => {
        input.watchdog = { name: 'Watchdog', lastSeenAt: NOW - 3_601_000, intervalSeconds: 3_600 };
      },
      verdict: 'failing',
      rule: HealthRule.WATCHDOG,
      reason: /Watchdog has not arrived for 3601 s \(expected every 3600 s\)/,
    },
    {
      title: 'watchdog never seen',
      change: (input) => {
        input.watchdog = { name: 'Watchdog', lastSeenAt: null, intervalSeconds: 3_600 };
      },
      verdict: 'failing',
      rule: HealthRule.WATCHDOG,
      reason: /Watchdog has never arrived/,
    },
    {
      title: 'canary not delivered within its interval',
      change: (input) => {
        input.canary = { ok: false, detail: 'its delivery is RETRY' };
      },
      verdict: 'failing',
      rule: HealthRule.CANARY,
      reason: /canary alert .* was not delivered to PagerDuty within its interval \(its delivery is RETRY\)/,
    },
    {
      title: 'young backlog over the degraded age',
      change: (input) => {
        input.oldestWaitingSeconds = 121;
        input.deliveries = { RETRY: 2 };
      },
      verdict: 'degraded',
      rule: HealthRule.BACKLOG,
      reason: /oldest for 121 s \(degraded above 120 s\)/,
    },
    {
      title: 'failure ratio over the limit (server and network)',
      change: withWindow({ delivered: 1, failures: { server: 1, network: 1 } }),
      verdict: 'degraded',
      rule: HealthRule.FAILURE_RATIO,
      reason: /^2 of 3 attempts failed in the report window \(server 1, network 1; limit ratio 0.5\)$/,
    },
    {
      title: 'rate limited below the failure ratio',
      change: withWindow({ delivered: 9, failures: { 'rate-limited': 1 } }),
      verdict: 'degraded',
      rule: HealthRule.RATE_LIMITED,
      reason: /rate-limited 1 attempt \(429\)/,
    },
    {
      title: 'store errors below the failure ratio',
      change: withWindow({ delivered: 9, failures: { store: 2 } }),
      verdict: 'degraded',
      rule: HealthRule.STORE_ERRORS,
      reason: /2 store operations failed/,
    },
    {
      title: 'a client error whose death is within the dead budget',
      change: withWindow({ delivered: 9, failures: { client: 1 }, dead: 1 }),
      verdict: 'degraded',
      rule: HealthRule.CLIENT_ERRORS,
      reason: /rejected 1 event as invalid/,
    },
    {
      title: 'dead deliveries kept in the store from earlier runs',
      change: (input) => {
        input.deliveries = { DELIVERED: 10, DEAD: 3 };
      },
      verdict: 'degraded',
      rule: HealthRule.DEAD_KEPT,
      reason: /^3 dead deliveries wait for a redrive$/,
    },
    {
      title: 'rejected callbacks',
      change: withWindow({ rejectedCallbacks: { unauthorized: 4, invalid_callback: 0, malformed_json: 1 } }),
      verdict: 'degraded',
      rule: HealthRule.CALLBACKS_REJECTED,
      reason: /^the webhook rejected 5 callbacks \(unauthorized 4, malformed_json 1\)$/,
    },
  ])('$title → $verdict by $rule', ({ change, verdict, rule, reason }) => {
    // Prepare: a dead budget of 1 where the row is about client errors (so rule 4 stays quiet)
    const thresholds = rule === HealthRule.CLIENT_ERRORS ? { ...THRESHOLDS, maxDeadDeliveries: 1 } : THRESHOLDS;

    // Act
    const result = judge(change, thresholds);

    // Assess
    expect(result.verdict).toBe(verdict);
    expect(result.rule).toBe(rule);
    expect(result.rules).toEqual([rule]);
    expect(result.reasons).toHaveLength(1);
    expect(result.reasons[0]).toMatch(reason);
  });

  // Boundaries: a value equal to its limit passes; one above fails.
  it.each<{ title: string; change: Change; thresholds?: Partial<VerdictThresholds>; rule: HealthRule }>([
    { title: 'age = max outbox age (degraded only)', change: age(900), rule: HealthRule.BACKLOG },
    { title: 'age = max outbox age + 1', change: age(901), rule: HealthRule.OUTBOX_AGE },
    { title: 'age = degraded age', change: age(120), rule: HealthRule.OK },
    { title: 'age = degraded age + 1', change: age(121), rule: HealthRule.BACKLOG },
    { title: 'age 0', change: age(0), rule: HealthRule.OK },
    { title: 'no waiting delivery (null age)', change: age(null), rule: HealthRule.OK },
    { title: 'dead = budget 2', change: withWindow({ dead: 2 }), thresholds: { maxDeadDeliveries: 2 }, rule: 'ok' },
    {
      title: 'dead = budget 2 + 1',
      change: withWindow({ dead: 3 }),
      thresholds: { maxDeadDeliveries: 2 },
      rule: HealthRule.DEAD_LETTERS,
    },
    { title: 'ratio = limit (1 of 2)', change: withWindow({ delivered: 1, failures: { server: 1 } }), rule: 'ok' },
    {
      title: 'ratio just above limit (2 of 3)',
      change: withWindow({ delivered: 1, failures: { server: 2 } }),
      rule: HealthRule.FAILURE_RATIO,
    },
    {
      title: 'ratio 1 with a limit of 1',
      change: withWindow({ delivered: 0, failures: { network: 5 } }),
      thresholds: { maxFailureRatio: 1 },
      rule: HealthRule.OK,
    },
    {
      title: 'any failure with a limit of 0',
      change: withWindow({ delivered: 1000, failures: { network: 1 } }),
      thresholds: { maxFailureRatio: 0 },
      rule: HealthRule.FAILURE_RATIO,
    },
    { title: 'no attempts at all', change: withWindow({ delivered: 0, failures: {} }), rule: HealthRule.OK },
    { title: 'watchdog silent exactly its interval', change: watchdogSilentFor(3_600_000), rule: HealthRule.OK },
    { title: 'watchdog silent interval + 1 ms', change: watchdogSilentFor(3_600_001), rule: HealthRule.WATCHDOG },
    { title: 'watchdog just arrived', change: watchdogSilentFor(0), rule: HealthRule.OK },
    { title: 'zero counts are no failures', change: withWindow({ failures: { auth: 0, client: 0 } }), rule: 'ok' },
    { title: 'DEAD 0 in the store', change: set({ deliveries: { DEAD: 0 } }), rule: 'ok' },
    {
      title: 'a stale last callback decides nothing',
      change: set({ lastCallbackAt: NOW - 30 * 86_400_000 }),
      rule: 'ok',
    },
    { title: 'no callback ever decides nothing', change: set({ lastCallbackAt: null }), rule: 'ok' },
  ])('boundary: $title → $rule', ({ change, thresholds, rule }) => {
    // Act
    const result = judge(change, { ...THRESHOLDS, ...thresholds });

    // Assess
    expect(result.rule).toBe(rule);
    expect(result.verdict).toBe(
      rule === HealthRule.OK
        ? 'healthy'
        : [HealthRule.BACKLOG, HealthRule.FAILURE_RATIO].includes(rule as never)
          ? 'degraded'
          : 'failing',
    );
  });

  it.each([
    { age: DEFAULT_DEGRADED_OUTBOX_AGE_SECONDS, rule: HealthRule.OK },
    { age: DEFAULT_DEGRADED_OUTBOX_AGE_SECONDS + 1, rule: HealthRule.BACKLOG },
  ])('without degradedOutboxAgeSeconds the default 120 s applies: age $age → $rule', ({ age: seconds, rule }) => {
    // Prepare
    const { degradedOutboxAgeSeconds: _, ...thresholds } = THRESHOLDS;

    // Act
    const result = judge(age(seconds), thresholds);

    // Assess
    expect(result.rule).toBe(rule);
  });

  it('reports every matching rule in table order; the most severe decides', () => {
    // Prepare: PagerDuty down for the main key for a while, one key revoked, store slow, dead letters kept
    const change: Change = (input) => {
      input.deliveries = { PENDING: 5, RETRY: 7, DEAD: 2 };
      input.oldestWaitingSeconds = 1_000;
      input.window = {
        delivered: 0,
        failures: { server: 3, auth: 1, 'rate-limited': 2, store: 1, client: 1 },
        dead: 1,
        rejectedCallbacks: { unauthorized: 1 },
      };
      input.watchdog = { name: 'Watchdog', lastSeenAt: NOW - 10_000, intervalSeconds: 3_600 };
    };

    // Act
    const result = judge(change);

    // Assess
    expect(result.verdict).toBe('failing');
    expect(result.rule).toBe(HealthRule.AUTH);
    expect(result.rules).toEqual([
      HealthRule.AUTH,
      HealthRule.DEAD_LETTERS,
      HealthRule.OUTBOX_AGE,
      HealthRule.FAILURE_RATIO,
      HealthRule.RATE_LIMITED,
      HealthRule.STORE_ERRORS,
      HealthRule.CLIENT_ERRORS,
      HealthRule.DEAD_KEPT,
      HealthRule.CALLBACKS_REJECTED,
    ]);
    expect(result.reasons).toHaveLength(result.rules.length);
  });

  it.each([
    { title: 'config before store', first: HealthRule.CONFIG },
    { title: 'store before auth', first: HealthRule.STORE_UNREACHABLE },
  ])('precedence: $title', ({ first }) => {
    // Prepare
    const change: Change = (input) => {
      if (first === HealthRule.CONFIG) input.configProblems = ['LOG_LEVEL must be one of DEBUG, INFO, WARN, ERROR'];
      input.storeReachable = false;
      input.window.failures = { auth: 2 };
    };

    // Act
    const result = judge(change);

    // Assess
    expect(result.rule).toBe(first);
    expect(result.rules[0]).toBe(first);
  });

  it('degrades then fails as a backlog ages (the issue’s scenario)', () => {
    // Prepare: PagerDuty answers 5xx for every attempt; the oldest delivery ages run after run
    const ages = [30, 90, 150, 600, 900, 960];

    // Act
    const verdicts = ages.map(
      (seconds) =>
        judge((input) => {
          input.oldestWaitingSeconds = seconds;
          input.window = { delivered: 0, failures: { server: 1 }, dead: 0 };
        }).verdict,
    );

    // Assess: a single run's failures are degraded at once (ratio 1), failing once the age limit is passed
    expect(verdicts).toEqual(['degraded', 'degraded', 'degraded', 'degraded', 'degraded', 'failing']);
  });

  it('ignores negative and non-finite counts', () => {
    // Act
    const result = judge(withWindow({ delivered: -3, failures: { auth: -1, server: Number.NaN }, dead: -2 }));

    // Assess
    expect(result.verdict).toBe('healthy');
  });

  it('accepts the HealthConfig object as thresholds', () => {
    // Prepare: the shape of config.health (extra fields are fine)
    const health = { timeBudgetSeconds: 45, maxOutboxAgeSeconds: 900, maxDeadDeliveries: 0, maxFailureRatio: 0.5 };

    // Act
    const result = healthVerdict({ ...healthyInput(), oldestWaitingSeconds: 901 }, health);

    // Assess
    expect(result.rule).toBe(HealthRule.OUTBOX_AGE);
  });
});

function age(seconds: number | null): Change {
  return (input) => {
    input.oldestWaitingSeconds = seconds;
    input.deliveries = seconds === null ? {} : { PENDING: 1 };
  };
}

function watchdogSilentFor(ms: number): Change {
  return (input) => {
    input.watchdog = { name: 'Watchdog', lastSeenAt: NOW - ms, intervalSeconds: 3_600 };
  };
}
