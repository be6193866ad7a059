/**
 * One run of delivery-health (every minute, and on demand): relay what is due, record the relay's activity, build
 * the report and its verdict, then tell the people who need to know: the self-alert on the health key, and the
 * heartbeat. The per-instance state lives here too: whether this instance's self-alert is open, the canary in flight.
 *
 * Every step is bounded by the run's budget (`HEALTH_TIME_BUDGET_SECONDS`): the relay by its share of it
 * (`relayBudgetMs`), each later call by what is left.
 */

import { sleep as defaultSleep } from '../async';
import type { BridgeConfig } from '../config/config';
import { CANARY_TIMEOUT_MS, HEARTBEAT_TIMEOUT_MS, KICK_TIMEOUT_MS } from '../constants';
import { Deadline } from '../deadline';
import type { KeyGate, OpenCircuit } from '../delivery/KeyGate';
import { routeKeyIds } from '../delivery/keyIdOf';
import type { Router } from '../delivery/Router';
import { type RelayResult, relayDue } from '../delivery/relay';
import { sendRecord } from '../delivery/sendRecord';
import type { FcContext, FcTimerEvent } from '../fc/types';
import type { Logger } from '../logger';
import type { CounterTotals } from '../store/Counters';
import type { DeliveryStore, OutboxSummary } from '../store/DeliveryStore';
import { recordActivity, relayActivity } from './activity';
import { type CanaryResult, INITIAL_CANARY_STATE, runCanary } from './canary';
import { chainsNextRun, relayBudgetMs, relayRetryDelayMs } from './healthRunRules';
import { pingHeartbeat } from './heartbeat';
import { buildHealthReport, type HealthReport } from './report';
import { reconcileSelfAlert } from './selfAlert';

interface HealthRunOptions {
  config: BridgeConfig;
  logger: Logger;
  router: Router;
  store: DeliveryStore;
  gate: KeyGate;
  now: () => number;
  /** Waits between the relay's tries after a store failure. @default a timer */
  sleep?: (ms: number) => Promise<void>;
  /** Starts the next run at once (an asynchronous invocation of this function); never throws. */
  chain: { kick(reason: string, context: FcContext, options: { timeoutMs: number }): Promise<unknown> };
}

/**
 * @example
 * const run = createHealthRun({ ...bridge, chain: createKicker({ …, minIntervalMs: 0 }) });
 * const report = await run(timerEvent, context);
 */
function createHealthRun(options: HealthRunOptions) {
  const { config, logger, router, store, gate, now: clock, chain } = options;
  const sleep = options.sleep ?? defaultSleep;
  /** Whether this instance's self-alert is open; unknown after a cold start (PagerDuty dedupes either way). */
  let selfAlertState: 'open' | 'closed' | undefined;
  /** The canary in flight; forgotten on a cold start, whose first run sends a fresh canary. */
  let canaryState = INITIAL_CANARY_STATE;

  /** Relays what is due (never in dry-run: nothing is sent, not even what an earlier configuration queued). */
  async function relay(context: FcContext | undefined, budgetMs: number, deadline: Deadline) {
    if (config.pagerduty.dryRun) return undefined;
    const relayBudget = relayBudgetMs(budgetMs);
    const relayDeadline = new Deadline(relayBudget, clock);
    try {
      const relayed = await relayRetrying(relayDeadline);
      await recordActivity(store, relayActivity(relayed, clock()), config.store.ttlSeconds, logger);
      if (chainsNextRun(relayed, clock(), relayBudget) && context !== undefined) {
        await chain.kick('drain', context, { timeoutMs: deadline.callTimeoutMs(KICK_TIMEOUT_MS) });
      }
      return relayed;
    } catch (error) {
      logger.error('relay failed: the store is unreachable', { error });
      return undefined;
    }
  }

  /**
   * The relay, tried again a few times within the run when the store fails (`relayRetryDelayMs`): a blip costs a
   * second, not the minute to the next timer run. Rows are leased by compare-and-set, so a try again never sends what
   * the failed one sent. Throws the last failure.
   */
  async function relayRetrying(deadline: Deadline): Promise<RelayResult> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await relayDue({ config, router, store, logger, deadline, gate, send: sendRecord, now: clock });
      } catch (error) {
        const waitMs = relayRetryDelayMs(attempt, deadline.remainingMs(), config.pagerduty.timeoutMs);
        if (waitMs === undefined) throw error;
        logger.warn('relay: the store failed; trying again', { error, waitMs });
        await sleep(waitMs);
      }
    }
  }

  async function canary(deadline: Deadline): Promise<CanaryResult | undefined> {
    if (config.health.canaryUrl === undefined) return undefined;
    // Dry-run: nothing reaches PagerDuty, so a canary could never be delivered.
    if (config.pagerduty.dryRun) return { state: 'off', detail: 'dry-run: nothing is sent to PagerDuty' };
    const ran = await runCanary({
      url: config.health.canaryUrl,
      token: config.webhook.tokens[0],
      now: clock(),
      state: canaryState,
      intervalSeconds: config.health.canaryIntervalSeconds,
      store,
      timeoutMs: deadline.callTimeoutMs(CANARY_TIMEOUT_MS),
    });
    canaryState = ran.state;
    return ran.result;
  }

  /** What the store says about the backlog, the window's counters and the open circuits; nothing when it is down. */
  async function readState(now: number) {
    let outbox: OutboxSummary | undefined;
    let counters: CounterTotals | undefined;
    let circuits: OpenCircuit[] | undefined;
    try {
      outbox = await store.outboxSummary();
      counters = await store.readCounters(now - config.health.windowSeconds * 1000);
      circuits = await gate.openCircuits(routeKeyIds(router));
    } catch (error) {
      logger.error('health report: the store is unreachable', { error });
    }
    return { outbox, counters, circuits };
  }

  /** Opens or resolves the self-alert on the health key as the verdict says, then pings the heartbeat. */
  async function notify(
    report: HealthReport,
    relayed: RelayResult | undefined,
    event: FcTimerEvent,
    deadline: Deadline,
  ) {
    const reconciled = await reconcileSelfAlert({
      previous: selfAlertState,
      verdict: { verdict: report.verdict, rule: report.rule, rules: report.rules, reasons: report.reasons },
      routingKey: config.health.routingKey,
      eventsUrl: config.pagerduty.eventsUrl,
      timeoutMs: deadline.callTimeoutMs(config.pagerduty.timeoutMs),
      report: {
        deliveries: report.outbox,
        oldestWaitingSeconds: report.oldestWaitingSeconds,
        relay: relayed,
        triggerTime: event.triggerTime,
      },
      logger,
      instanceName: config.functionName,
      runbookUrl: config.health.runbookUrl,
    });
    selfAlertState = reconciled.state;
    if (config.health.routingKey !== undefined)
      report.selfAlert = { state: selfAlertState ?? 'unknown', sent: reconciled.sent };
    if (config.health.heartbeatUrl !== undefined) {
      // Degraded still pings healthy: a short backlog or a stray 401 must not page through the switch too.
      report.heartbeat = await pingHeartbeat({
        url: config.health.heartbeatUrl,
        healthy: report.verdict !== 'failing',
        timeoutMs: deadline.callTimeoutMs(HEARTBEAT_TIMEOUT_MS),
      });
    }
  }

  return async function healthRun(event: FcTimerEvent, context?: FcContext): Promise<HealthReport> {
    const budgetMs = config.health.timeBudgetSeconds * 1000;
    const deadline = new Deadline(budgetMs, clock);
    const relayed = await relay(context, budgetMs, deadline);
    const canaryResult = await canary(deadline);
    const now = clock();
    const state = await readState(now);
    const report = buildHealthReport({ trigger: event, relay: relayed, ...state, config, now, canary: canaryResult });
    await notify(report, relayed, event, deadline);
    const log = report.verdict === 'healthy' ? logger.info : report.verdict === 'degraded' ? logger.warn : logger.error;
    log.call(logger, 'delivery health', { report });
    return report;
  };
}

export { createHealthRun };
