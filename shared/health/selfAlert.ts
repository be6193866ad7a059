/**
 * The bridge's own PagerDuty incident: triggered on `HEALTH_ROUTING_KEY` when the verdict is `failing`, resolved when
 * it is `healthy` again. It goes only through the health key (never through a key that may be the one failing), with
 * one stable `dedup_key` per bridge, so every trigger lands on the same open alert and the resolve finds it.
 *
 * When to send ({@link reconcileSelfAlert}); `previous` is the state the last run returned, `undefined` when unknown
 * (a new instance, or the last send failed and may or may not have landed):
 *
 * | previous | verdict | sends | state after (sent ok / failed) |
 * |---|---|---|---|
 * | `open` | failing | nothing (the incident is open; re-triggering would only add alert-log noise) | `open` |
 * | `closed` or unknown | failing | trigger | `open` / unknown |
 * | `closed` | healthy | nothing | `closed` |
 * | `open` or unknown | healthy | resolve (PagerDuty drops a resolve with no open alert, so unknown is safe) | `closed` / unknown |
 * | any | degraded | nothing: degraded keeps an open incident open and opens none | unchanged |
 * | any, no health key | any | nothing | unchanged |
 *
 * A failed send leaves the state unknown, so the next run sends again (a timed-out trigger may have landed: the next
 * healthy run then still resolves it).
 */
import type { Secret } from '../config/Secret';
import { DEDUP_KEY_MAX, type DeliveryStatus, EventAction, Severity, SUMMARY_MAX_CODE_POINTS } from '../constants';
import type { Logger } from '../logger';
import { sendEvent } from '../pagerduty/client';
import { truncateCodePoints } from '../pagerduty/truncateCodePoints';
import type { PagerDutyEventBody, SendResult } from '../pagerduty/types';
import { type HealthRule, type HealthVerdict, Verdict } from './verdict';

/** Whether the self-alert incident is open in PagerDuty, as far as the bridge knows. */
type SelfAlertState = 'open' | 'closed';

/** The runbook, from the repository root: one section per rule, its anchor the rule's name (`## outbox-age`). */
const RUNBOOK_PATH = 'docs/runbook.md';

/** Prefix of the self-alert's `dedup_key`, its `group` and its `client`. */
const SELF_ALERT_PREFIX = 'arms-pagerduty-bridge';
/** The name used when none is given. */
const DEFAULT_INSTANCE_NAME = 'delivery-health';

/** What to do, per rule that decided the verdict: the second half of the summary. */
const WHAT_TO_DO: Readonly<Record<HealthRule, string>> = {
  config: 'fix the settings named in the delivery-health log and redeploy',
  'store-unreachable':
    'check Tablestore (TABLESTORE_ENDPOINT, TABLESTORE_INSTANCE, the RAM policy, the network); callbacks are not being recorded',
  auth: 'check PAGERDUTY_ROUTING_KEY, the routes’ keys and PAGERDUTY_EVENTS_URL, then re-queue the dead deliveries with `npm run redrive`',
  'dead-letters': 'inspect them with `npm run status`, fix the cause, then re-queue them with `npm run redrive`',
  'outbox-age': 'alerts are not reaching PagerDuty: the delivery-health log names the failure reason',
  watchdog: 'check the ARMS Watchdog rule, its notification policy, the webhook URL and WEBHOOK_TOKENS',
  canary:
    'the canary posted through the webhook did not reach PagerDuty: check CANARY_URL, WEBHOOK_TOKENS, the canary route and the delivery-health log',
  backlog: 'watch the next runs: the delivery-health log names the failure reason',
  'circuit-open':
    'PagerDuty fails for a routing key (5xx, timeouts or network): check status.pagerduty.com and the network to events.pagerduty.com; the backlog drains by itself when a probe succeeds',
  'failure-ratio': 'the delivery-health log names the failure reasons',
  'rate-limited': 'spread routes over more integration keys or lower PAGERDUTY_RATE_PER_MINUTE',
  'store-errors': 'check Tablestore latency and errors',
  'client-errors': 'the delivery-health log names the field PagerDuty refused',
  'dead-kept': 're-queue them with `npm run redrive` once the cause is fixed',
  'callbacks-rejected': 'check the webhook token and the ARMS notification template',
  ok: 'nothing',
};

const SEVERITY_OF: Readonly<Record<HealthVerdict['verdict'], Severity>> = {
  failing: Severity.CRITICAL,
  degraded: Severity.WARNING,
  healthy: Severity.INFO,
};

/** The figures of the health report the self-alert quotes (the full `HealthReport` fits). */
interface SelfAlertReport {
  /** Live delivery records by status. */
  deliveries: Partial<Record<DeliveryStatus, number>>;
  /** Age in seconds of the oldest delivery still waiting, or null. */
  oldestWaitingSeconds: number | null;
  /** What the run relayed (`RelayResult`); only its numeric fields are quoted. */
  relay?: object;
  triggerTime?: string;
}

/** Options of the event builders. */
interface SelfAlertOptions {
  /**
   * Names this bridge deployment (e.g. the FC function name with its region): part of the `dedup_key` and the
   * `source`, so two deployments on one health service get two incidents. Must be stable across runs.
   * @default 'delivery-health'
   */
  instanceName?: string;
  /** Epoch milliseconds of the run, the event's `timestamp`. @default Date.now() */
  now?: number;
  /**
   * Where `docs/runbook.md` is published (`RUNBOOK_URL`): the trigger then links the rule's section.
   * @default undefined (`custom_details.runbook` names the file and section only)
   */
  runbookUrl?: string;
}

/**
 * The runbook section of a rule: `docs/runbook.md#<rule>`, or the published URL with the rule as its anchor.
 *
 * @example
 * runbookSection('outbox-age'); // 'docs/runbook.md#outbox-age'
 * runbookSection('outbox-age', 'https://github.com/o/r/blob/main/docs/runbook.md'); // '…/runbook.md#outbox-age'
 */
function runbookSection(rule: HealthRule, runbookUrl?: string): string {
  const base = runbookUrl === undefined ? RUNBOOK_PATH : runbookUrl.replace(/#.*$/s, '');
  return `${base}#${rule}`;
}

/** The numeric fields of `figures` only: counts cannot carry a secret, whatever fields a report grows. */
function numbersOf(figures: object): Record<string, number> {
  return Object.fromEntries(Object.entries(figures).filter(([, value]) => typeof value === 'number'));
}

function nameOf(options: SelfAlertOptions): string {
  const name = options.instanceName?.trim();
  return name === undefined || name === '' ? DEFAULT_INSTANCE_NAME : name;
}

/**
 * The stable `dedup_key` of a bridge's self-alert: `arms-pagerduty-bridge/health/<instance name>`, cut to 255.
 *
 * @example
 * selfAlertDedupKey('delivery-health'); // 'arms-pagerduty-bridge/health/delivery-health'
 */
function selfAlertDedupKey(instanceName?: string): string {
  return `${SELF_ALERT_PREFIX}/health/${nameOf({ instanceName })}`.slice(0, DEDUP_KEY_MAX);
}

/**
 * The trigger event of the self-alert: the summary says what is wrong and what to do (≤ 1024 code points), severity
 * `critical` when failing (`warning` degraded, `info` healthy), `custom_details` the reasons and the report's key
 * figures, picked one by one and numbers only (so nothing else, and never a secret, can slip in).
 *
 * @example
 * const event = selfAlertEvent(verdict, report, { instanceName: 'delivery-health' });
 * event.payload.summary; // 'arms-pagerduty-bridge delivery-health is FAILING: the oldest undelivered alert … — do: …'
 */
function selfAlertEvent(
  verdict: HealthVerdict,
  report: SelfAlertReport,
  options: SelfAlertOptions = {},
): PagerDutyEventBody {
  const name = nameOf(options);
  const whatToDo = WHAT_TO_DO[verdict.rule];
  const more = verdict.reasons.length > 1 ? ` (+${verdict.reasons.length - 1} more)` : '';
  const what = verdict.reasons[0] ?? 'no problem found';
  const summary = `${SELF_ALERT_PREFIX} ${name} is ${verdict.verdict.toUpperCase()}: ${what}${more} — do: ${whatToDo}`;
  // The person paged lands on the fix: the rule's section of the runbook, linked when it is published.
  const links =
    options.runbookUrl === undefined
      ? undefined
      : [{ href: runbookSection(verdict.rule, options.runbookUrl), text: `Runbook: ${verdict.rule}` }];
  return {
    event_action: EventAction.TRIGGER,
    dedup_key: selfAlertDedupKey(name),
    payload: {
      summary: truncateCodePoints(summary, SUMMARY_MAX_CODE_POINTS).text,
      source: name,
      severity: SEVERITY_OF[verdict.verdict],
      timestamp: new Date(options.now ?? Date.now()).toISOString(),
      component: 'delivery-health',
      group: SELF_ALERT_PREFIX,
      class: `health/${verdict.rule}`,
      custom_details: {
        verdict: verdict.verdict,
        rule: verdict.rule,
        rules: verdict.rules,
        reasons: verdict.reasons,
        whatToDo,
        runbook: runbookSection(verdict.rule, options.runbookUrl),
        deliveries: numbersOf(report.deliveries),
        oldestWaitingSeconds: report.oldestWaitingSeconds,
        ...(report.relay === undefined ? {} : { relay: numbersOf(report.relay) }),
        ...(report.triggerTime === undefined ? {} : { triggerTime: report.triggerTime }),
      },
    },
    ...(links === undefined ? {} : { links }),
    client: SELF_ALERT_PREFIX,
  };
}

/**
 * The resolve event of the self-alert: same `dedup_key` as the trigger (the bridge's events carry a full payload
 * even on resolve, `eventSchema.ts`).
 *
 * @example
 * await sendEvent({ url, routingKey: healthKey, event: resolveSelfAlertEvent({ instanceName }), timeoutMs: 2_000 });
 */
function resolveSelfAlertEvent(options: SelfAlertOptions = {}): PagerDutyEventBody {
  const name = nameOf(options);
  return {
    event_action: EventAction.RESOLVE,
    dedup_key: selfAlertDedupKey(name),
    payload: {
      summary: `${SELF_ALERT_PREFIX} ${name} is healthy again`,
      source: name,
      severity: Severity.INFO,
      timestamp: new Date(options.now ?? Date.now()).toISOString(),
      component: 'delivery-health',
      group: SELF_ALERT_PREFIX,
    },
    client: SELF_ALERT_PREFIX,
  };
}

/** Options of {@link reconcileSelfAlert}. */
interface ReconcileSelfAlertOptions extends SelfAlertOptions {
  /** The state the previous run returned; undefined when unknown. */
  previous: SelfAlertState | undefined;
  verdict: HealthVerdict;
  /** `HEALTH_ROUTING_KEY`, and only that one; undefined: self-alerting is off. */
  routingKey: Secret | undefined;
  /** `PAGERDUTY_EVENTS_URL`. */
  eventsUrl: string;
  /** Budget of the one request. */
  timeoutMs: number;
  report: SelfAlertReport;
  logger: Logger;
  /** The run's deadline. */
  signal?: AbortSignal;
}

/** What {@link reconcileSelfAlert} did; pass `state` back as `previous` next run. */
interface ReconcileSelfAlertResult {
  /** The state now; undefined when unknown (a send failed). */
  state: SelfAlertState | undefined;
  /** What was sent (attempted), if anything; `result.ok` says whether PagerDuty accepted it. */
  sent?: 'trigger' | 'resolve';
  /** PagerDuty's verdict on what was sent (never contains the routing key). */
  result?: SendResult;
}

/**
 * Brings the self-alert in line with the verdict (the table at the top of this file). Never throws.
 *
 * @example
 * selfAlertState = (await reconcileSelfAlert({ previous: selfAlertState, verdict, routingKey: config.health.routingKey,
 *   eventsUrl: config.pagerduty.eventsUrl, timeoutMs: config.pagerduty.timeoutMs, report, logger })).state;
 */
async function reconcileSelfAlert(options: ReconcileSelfAlertOptions): Promise<ReconcileSelfAlertResult> {
  const { previous, verdict, routingKey, logger } = options;
  if (routingKey === undefined) return { state: previous };
  let action: 'trigger' | 'resolve';
  if (verdict.verdict === Verdict.FAILING && previous !== 'open') action = 'trigger';
  else if (verdict.verdict === Verdict.HEALTHY && previous !== 'closed') action = 'resolve';
  else return { state: previous };

  const event =
    action === 'trigger' ? selfAlertEvent(verdict, options.report, options) : resolveSelfAlertEvent(options);
  const result = await sendEvent({
    url: options.eventsUrl,
    routingKey,
    event,
    timeoutMs: options.timeoutMs,
    signal: options.signal,
  });
  if (result.ok) {
    const log = action === 'trigger' ? logger.warn.bind(logger) : logger.info.bind(logger);
    log(action === 'trigger' ? 'self-alert triggered' : 'self-alert resolved', {
      dedupKey: event.dedup_key,
      rule: verdict.rule,
      statusCode: result.statusCode,
    });
    return { state: action === 'trigger' ? 'open' : 'closed', sent: action, result };
  }
  logger.error(`self-alert ${action} not accepted by PagerDuty`, {
    dedupKey: event.dedup_key,
    reason: result.reason,
    statusCode: result.statusCode,
    error: result.message,
  });
  return { state: undefined, sent: action, result };
}

export type { ReconcileSelfAlertOptions, ReconcileSelfAlertResult, SelfAlertOptions, SelfAlertReport, SelfAlertState };
export {
  RUNBOOK_PATH,
  reconcileSelfAlert,
  resolveSelfAlertEvent,
  runbookSection,
  SELF_ALERT_PREFIX,
  selfAlertDedupKey,
  selfAlertEvent,
};
