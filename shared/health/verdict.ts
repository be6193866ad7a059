/**
 * The bridge's verdict on itself: `healthy`, `degraded` or `failing`, as a pure function of what one delivery-health
 * run saw. `failing` pages a human (the self-alert on `HEALTH_ROUTING_KEY`, the heartbeat's `/fail`); `degraded` is
 * written in the report for dashboards and pages nobody; it keeps an open self-alert open (only `healthy` resolves it).
 *
 * Every rule is checked; `rule` names the first match in the table's order (most severe first) and `reasons` holds
 * one sentence per match, so a report shows everything that is wrong, not only the rule that decided.
 *
 * | Order | Rule | Verdict | Matches when | Why |
 * |---|---|---|---|---|
 * | 1 | `config` | failing | `configProblems` is not empty | nothing is delivered until the settings are fixed |
 * | 2 | `store-unreachable` | failing | `storeReachable` is false | callbacks cannot be recorded, the outbox cannot be read |
 * | 3 | `auth` | failing | any `auth` failure in the window | a revoked or mistyped key (or a wrong events URL) loses every page on that key; retrying never fixes it |
 * | 4 | `dead-letters` | failing | `window.dead` > `maxDeadDeliveries` | each dead delivery is a page that did not happen |
 * | 5 | `outbox-age` | failing | `oldestWaitingSeconds` > `maxOutboxAgeSeconds` | alerts are waiting too long to reach PagerDuty |
 * | 6 | `watchdog` | failing | a watchdog is configured and has not arrived within `intervalSeconds` (or never) | the inbound path (ARMS → webhook) is broken |
 * | 6a | `canary` | failing | a canary is configured and `canary.ok` is false | a synthetic alert posted through the webhook did not reach PagerDuty within its interval |
 * | 7 | `backlog` | degraded | `degradedOutboxAgeSeconds` < `oldestWaitingSeconds` ≤ `maxOutboxAgeSeconds` (young backlog; older is rule 5) | deliveries survived a run: PagerDuty or the store is struggling |
 * | 7a | `circuit-open` | degraded | a routing key's circuit is open (`openCircuits` not empty) | PagerDuty (or the way to it) fails for that key: nothing but one probe at a time goes to it until a probe succeeds |
 * | 8 | `failure-ratio` | degraded | failures ÷ (delivered + failures) in the window > `maxFailureRatio` | most attempts fail; the backlog will age into `outbox-age` |
 * | 9 | `rate-limited` | degraded | any `rate-limited` failure in the window | PagerDuty throttles a key; deliveries are paced and delayed |
 * | 10 | `store-errors` | degraded | any `store` failure in the window (store reachable) | some reads or writes failed; outcomes may be recorded late |
 * | 11 | `client-errors` | degraded | any `client` failure in the window | PagerDuty refused an event (a bug or bad template); the delivery dies, so rule 4 decides when the dead budget is 0 |
 * | 12 | `dead-kept` | degraded | live `DEAD` records in the store (`deliveries.DEAD` > 0; known only from a full scan, `npm run status -- --scan`) | undelivered pages wait for `npm run redrive` |
 * | 13 | `callbacks-rejected` | degraded | any rejected callback in the window | 401s: a wrong or rotated webhook token; other 4xx: a misconfigured ARMS template (may also be stray traffic) |
 * | – | `ok` | healthy | nothing above | |
 *
 * Thresholds compare with a strict `>`: a value equal to its limit passes. `lastCallbackAt` decides nothing (without
 * a watchdog, silence is normal: nothing fires); it is carried for the report and the self-alert.
 */
import { DeliveryStatus } from '../constants';
import { DeliveryFailureReason } from '../errors';

/** Verdict values, most severe last. */
const Verdict = {
  HEALTHY: 'healthy',
  DEGRADED: 'degraded',
  FAILING: 'failing',
} as const;
type Verdict = (typeof Verdict)[keyof typeof Verdict];

/** Names of the rules of the table above, in their order. */
const HealthRule = {
  CONFIG: 'config',
  STORE_UNREACHABLE: 'store-unreachable',
  AUTH: 'auth',
  DEAD_LETTERS: 'dead-letters',
  OUTBOX_AGE: 'outbox-age',
  WATCHDOG: 'watchdog',
  CANARY: 'canary',
  BACKLOG: 'backlog',
  CIRCUIT_OPEN: 'circuit-open',
  FAILURE_RATIO: 'failure-ratio',
  RATE_LIMITED: 'rate-limited',
  STORE_ERRORS: 'store-errors',
  CLIENT_ERRORS: 'client-errors',
  DEAD_KEPT: 'dead-kept',
  CALLBACKS_REJECTED: 'callbacks-rejected',
  OK: 'ok',
} as const;
type HealthRule = (typeof HealthRule)[keyof typeof HealthRule];

/**
 * Default of {@link VerdictThresholds.degradedOutboxAgeSeconds}: two timer periods. A delivery the webhook left queued
 * is due at the next run (one minute); one still waiting after two runs did not go through.
 */
const DEFAULT_DEGRADED_OUTBOX_AGE_SECONDS = 120;

/** What one run saw. Counts are for the report window (HEALTH_WINDOW_SECONDS) unless said otherwise. */
interface VerdictInput {
  /** Epoch milliseconds of the run (the watchdog's clock). */
  now: number;
  /** Live delivery records by status (a status left out counts 0). */
  deliveries: Partial<Record<DeliveryStatus, number>>;
  /** Age in seconds of the oldest delivery still waiting (PENDING, RETRY or SENDING), or null when none waits. */
  oldestWaitingSeconds: number | null;
  /** Deliveries and failures in the report window. */
  window: {
    /** Events PagerDuty accepted. */
    delivered: number;
    /** Failed attempts by reason (`classifyResponse`'s labels, plus `store`). */
    failures: Partial<Record<DeliveryFailureReason, number>>;
    /** Deliveries that became DEAD. */
    dead: number;
    /** Callbacks the webhook rejected, by `error.code` (`unauthorized`, `invalid_callback`…). */
    rejectedCallbacks?: Partial<Record<string, number>>;
  };
  /** False when the store could not be read at all this run. */
  storeReachable: boolean;
  /** Configuration problems, one line each (empty when the configuration is valid). */
  configProblems: readonly string[];
  /** Epoch milliseconds of the last callback the webhook accepted, if known. Informational. */
  lastCallbackAt?: number | null;
  /** The always-firing ARMS alert (`WATCHDOG_ALERTNAME`), when one is configured. */
  watchdog?: {
    /** Its `alertname`. */
    name: string;
    /** Epoch milliseconds it last arrived, or null when it never did. */
    lastSeenAt: number | null;
    /** It must arrive at least this often (`WATCHDOG_INTERVAL_SECONDS`). */
    intervalSeconds: number;
  };
  /** Routing keys whose circuit is open (`shared/delivery/circuit.ts`): route name, since when, the last error. */
  openCircuits?: ReadonlyArray<{ route: string; openedAt: number; lastError: string }>;
  /** The end-to-end canary (`CANARY_URL`), when one is configured: `ok` false when the last one went missing. */
  canary?: {
    ok: boolean;
    /** What went wrong, for the reason sentence. */
    detail?: string;
  };
}

/** The limits. `config.health` (`HealthConfig`) fits as is. */
interface VerdictThresholds {
  /** `HEALTH_MAX_OUTBOX_AGE_SECONDS`: older than this is failing. */
  maxOutboxAgeSeconds: number;
  /** `HEALTH_MAX_DEAD_DELIVERIES`: more deaths than this in the window is failing. */
  maxDeadDeliveries: number;
  /** `HEALTH_MAX_FAILURE_RATIO`: a larger share of failed attempts in the window is degraded. */
  maxFailureRatio: number;
  /** `HEALTH_DEGRADED_OUTBOX_AGE_SECONDS`: older than this is degraded. @default 120 (two timer periods) */
  degradedOutboxAgeSeconds?: number;
}

/** The verdict, the rule that decided it, and every rule that matched with a sentence each. */
interface HealthVerdict {
  verdict: Verdict;
  /** The first matching rule in the table's order (`ok` when healthy). */
  rule: HealthRule;
  /** Every matching rule, in the table's order (empty when healthy). */
  rules: HealthRule[];
  /** One sentence per matching rule, in the same order. */
  reasons: string[];
}

function count(value: number | undefined): number {
  return value !== undefined && Number.isFinite(value) && value > 0 ? value : 0;
}

function sum(values: Partial<Record<string, number>> | undefined): number {
  return Object.values(values ?? {}).reduce<number>((total, value) => total + count(value), 0);
}

/** `{a: 2, b: 1}` → `a 2, b 1` (only non-zero entries). */
function listCounts(values: Partial<Record<string, number>> | undefined): string {
  return Object.entries(values ?? {})
    .filter(([, value]) => count(value) > 0)
    .map(([key, value]) => `${key} ${value}`)
    .join(', ');
}

function plural(n: number, word: string, words = `${word}s`): string {
  return `${n} ${n === 1 ? word : words}`;
}

/** One rule: its verdict and the reason when it matches. */
interface Rule {
  name: HealthRule;
  verdict: Verdict;
  check: (input: VerdictInput, thresholds: Required<VerdictThresholds>) => string | undefined;
}

const RULES: readonly Rule[] = [
  {
    name: HealthRule.CONFIG,
    verdict: Verdict.FAILING,
    check: ({ configProblems }) =>
      configProblems.length > 0 ? `configuration invalid: ${configProblems.join('; ')}` : undefined,
  },
  {
    name: HealthRule.STORE_UNREACHABLE,
    verdict: Verdict.FAILING,
    check: ({ storeReachable }) =>
      storeReachable ? undefined : 'the delivery store is unreachable: callbacks cannot be recorded',
  },
  {
    name: HealthRule.AUTH,
    verdict: Verdict.FAILING,
    check: ({ window }) => {
      const n = count(window.failures[DeliveryFailureReason.AUTH]);
      return n > 0 ? `PagerDuty refused a routing key or the events URL (${plural(n, 'auth failure')})` : undefined;
    },
  },
  {
    name: HealthRule.DEAD_LETTERS,
    verdict: Verdict.FAILING,
    check: ({ window }, { maxDeadDeliveries }) =>
      count(window.dead) > maxDeadDeliveries
        ? `${plural(count(window.dead), 'delivery', 'deliveries')} died in the report window (limit ${maxDeadDeliveries})`
        : undefined,
  },
  {
    name: HealthRule.OUTBOX_AGE,
    verdict: Verdict.FAILING,
    check: ({ oldestWaitingSeconds: age }, { maxOutboxAgeSeconds }) =>
      age !== null && age > maxOutboxAgeSeconds
        ? `the oldest undelivered alert has waited ${age} s (limit ${maxOutboxAgeSeconds} s)`
        : undefined,
  },
  {
    name: HealthRule.WATCHDOG,
    verdict: Verdict.FAILING,
    check: ({ watchdog, now }) => {
      if (watchdog === undefined) return undefined;
      if (watchdog.lastSeenAt === null) return `the watchdog alert ${watchdog.name} has never arrived`;
      const silentSeconds = Math.round((now - watchdog.lastSeenAt) / 1000);
      return now - watchdog.lastSeenAt > watchdog.intervalSeconds * 1000
        ? `the watchdog alert ${watchdog.name} has not arrived for ${silentSeconds} s (expected every ${watchdog.intervalSeconds} s)`
        : undefined;
    },
  },
  {
    name: HealthRule.CANARY,
    verdict: Verdict.FAILING,
    check: ({ canary }) => {
      if (canary === undefined || canary.ok) return undefined;
      const detail = canary.detail === undefined ? '' : ` (${canary.detail})`;
      return `the canary alert sent through the webhook was not delivered to PagerDuty within its interval${detail}`;
    },
  },
  {
    name: HealthRule.BACKLOG,
    verdict: Verdict.DEGRADED,
    check: ({ oldestWaitingSeconds: age }, { degradedOutboxAgeSeconds, maxOutboxAgeSeconds }) =>
      age !== null && age > degradedOutboxAgeSeconds && age <= maxOutboxAgeSeconds
        ? `undelivered alerts are waiting, the oldest for ${age} s (degraded above ${degradedOutboxAgeSeconds} s)`
        : undefined,
  },
  {
    name: HealthRule.CIRCUIT_OPEN,
    verdict: Verdict.DEGRADED,
    check: ({ openCircuits, now }) => {
      if (openCircuits === undefined || openCircuits.length === 0) return undefined;
      const each = openCircuits.map(
        (circuit) =>
          `route ${circuit.route} for ${Math.round((now - circuit.openedAt) / 1000)} s (${circuit.lastError})`,
      );
      return `PagerDuty fails for ${plural(openCircuits.length, 'routing key')}, probed one send at a time: ${each.join('; ')}`;
    },
  },
  {
    name: HealthRule.FAILURE_RATIO,
    verdict: Verdict.DEGRADED,
    check: ({ window }, { maxFailureRatio }) => {
      const failures = sum(window.failures);
      const attempts = count(window.delivered) + failures;
      if (attempts === 0 || failures / attempts <= maxFailureRatio) return undefined;
      return `${failures} of ${plural(attempts, 'attempt')} failed in the report window (${listCounts(window.failures)}; limit ratio ${maxFailureRatio})`;
    },
  },
  {
    name: HealthRule.RATE_LIMITED,
    verdict: Verdict.DEGRADED,
    check: ({ window }) => {
      const n = count(window.failures[DeliveryFailureReason.RATE_LIMITED]);
      return n > 0 ? `PagerDuty rate-limited ${plural(n, 'attempt')} (429)` : undefined;
    },
  },
  {
    name: HealthRule.STORE_ERRORS,
    verdict: Verdict.DEGRADED,
    check: ({ window }) => {
      const n = count(window.failures[DeliveryFailureReason.STORE]);
      return n > 0 ? `${plural(n, 'store operation')} failed in the report window` : undefined;
    },
  },
  {
    name: HealthRule.CLIENT_ERRORS,
    verdict: Verdict.DEGRADED,
    check: ({ window }) => {
      const n = count(window.failures[DeliveryFailureReason.CLIENT]);
      return n > 0 ? `PagerDuty rejected ${plural(n, 'event')} as invalid (4xx)` : undefined;
    },
  },
  {
    name: HealthRule.DEAD_KEPT,
    verdict: Verdict.DEGRADED,
    check: ({ deliveries }) => {
      const n = count(deliveries[DeliveryStatus.DEAD]);
      return n > 0 ? `${plural(n, 'dead delivery waits', 'dead deliveries wait')} for a redrive` : undefined;
    },
  },
  {
    name: HealthRule.CALLBACKS_REJECTED,
    verdict: Verdict.DEGRADED,
    check: ({ window }) => {
      const n = sum(window.rejectedCallbacks);
      return n > 0
        ? `the webhook rejected ${plural(n, 'callback')} (${listCounts(window.rejectedCallbacks)})`
        : undefined;
    },
  },
];

/** The rules' names in the table's order (the runbook has a section for each). */
const RULE_NAMES: readonly HealthRule[] = RULES.map((rule) => rule.name);

const RANK: Readonly<Record<Verdict, number>> = { healthy: 0, degraded: 1, failing: 2 };

/**
 * Judges one run by the rules of the table at the top of this file.
 *
 * @param input - what the run saw (store counts, the window's deliveries and failures, reachability, config, watchdog)
 * @param thresholds - the limits; `config.health` fits
 *
 * @example
 * healthVerdict(
 *   { now: Date.now(), deliveries: { PENDING: 3 }, oldestWaitingSeconds: 1_200, storeReachable: true, configProblems: [],
 *     window: { delivered: 0, failures: { server: 3 }, dead: 0 } },
 *   { maxOutboxAgeSeconds: 900, maxDeadDeliveries: 0, maxFailureRatio: 0.5 },
 * );
 * // { verdict: 'failing', rule: 'outbox-age', rules: ['outbox-age', 'failure-ratio'], reasons: [...] }
 */
function healthVerdict(input: VerdictInput, thresholds: VerdictThresholds): HealthVerdict {
  const limits: Required<VerdictThresholds> = {
    maxOutboxAgeSeconds: thresholds.maxOutboxAgeSeconds,
    maxDeadDeliveries: thresholds.maxDeadDeliveries,
    maxFailureRatio: thresholds.maxFailureRatio,
    degradedOutboxAgeSeconds: thresholds.degradedOutboxAgeSeconds ?? DEFAULT_DEGRADED_OUTBOX_AGE_SECONDS,
  };
  let verdict: Verdict = Verdict.HEALTHY;
  const rules: HealthRule[] = [];
  const reasons: string[] = [];
  for (const rule of RULES) {
    const reason = rule.check(input, limits);
    if (reason === undefined) continue;
    rules.push(rule.name);
    reasons.push(reason);
    if (RANK[rule.verdict] > RANK[verdict]) verdict = rule.verdict;
  }
  return { verdict, rule: rules[0] ?? HealthRule.OK, rules, reasons };
}

export type { HealthVerdict, VerdictInput, VerdictThresholds };
export { DEFAULT_DEGRADED_OUTBOX_AGE_SECONDS, HealthRule, healthVerdict, RULE_NAMES, Verdict };
