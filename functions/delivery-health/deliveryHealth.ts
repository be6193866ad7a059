/**
 * One run of delivery-health (every minute, and on demand): relay what is due, record the relay's activity, build
 * the report and its verdict, then tell the people who need to know: the self-alert on the health key, and the
 * heartbeat. Reads as the steps it takes; each lives in `shared/`.
 */
import type { Bridge } from '../../shared/app';
import { Deadline } from '../../shared/deadline';
import type { OpenCircuit } from '../../shared/delivery/KeyGate';
import { routeKeyIds } from '../../shared/delivery/keyIdOf';
import { type RelayResult, relayDue } from '../../shared/delivery/relay';
import { sendRecord } from '../../shared/delivery/sendRecord';
import { createKicker } from '../../shared/fc/invokeAsync';
import type { FcContext, FcTimerEvent } from '../../shared/fc/types';
import { recordActivity, relayActivity } from '../../shared/health/activity';
import { type CanaryResult, INITIAL_CANARY_STATE, runCanary } from '../../shared/health/canary';
import { pingHeartbeat } from '../../shared/health/heartbeat';
import { buildHealthReport, type HealthReport } from '../../shared/health/report';
import { reconcileSelfAlert } from '../../shared/health/selfAlert';
import type { CounterTotals } from '../../shared/store/Counters';
import type { OutboxSummary } from '../../shared/store/DeliveryStore';

/** Time kept for reading the store, the self-alert and the heartbeat after the relay. */
const REPORT_RESERVE_MS = 10_000;
/** Time the next run's asynchronous invocation may take. */
const CHAIN_TIMEOUT_MS = 1_000;
/** Budget of one canary request: the webhook answers within WEBHOOK_DEADLINE_MS (4 s by default). */
const CANARY_TIMEOUT_MS = 8_000;

function createDeliveryHealth(bridge: Bridge) {
  const { config, logger, router, store, gate, now: clock } = bridge;
  /** Whether this instance's self-alert is open; unknown after a cold start (PagerDuty dedupes either way). */
  let selfAlertState: 'open' | 'closed' | undefined;
  /** The canary in flight; forgotten on a cold start, whose first run sends a fresh canary. */
  let canaryState = INITIAL_CANARY_STATE;
  // A relay run that ends with due work left starts the next one at once (continuous drain); the timer is the backstop.
  const chain = createKicker({
    functionName: config.functionName ?? config.webhook.healthFunctionName,
    endpoint: config.webhook.functionComputeEndpoint,
    credentials: config.credentials,
    logger,
    minIntervalMs: 0,
  });

  return async function deliveryHealth(event: FcTimerEvent, context?: FcContext): Promise<HealthReport> {
    const budgetMs = config.health.timeBudgetSeconds * 1000;
    const relayBudgetMs = budgetMs - Math.min(REPORT_RESERVE_MS, budgetMs / 3);
    const relayDeadline = new Deadline(relayBudgetMs, clock);
    const deadline = new Deadline(budgetMs, clock);

    let relay: RelayResult | undefined;
    if (!config.pagerduty.dryRun) {
      // Dry-run: nothing is ever sent, not even what an earlier configuration queued.
      try {
        relay = await relayDue({
          config,
          router,
          store,
          logger,
          deadline: relayDeadline,
          gate,
          send: sendRecord,
          now: clock,
        });
        await recordActivity(store, relayActivity(relay, clock()), config.store.ttlSeconds, logger);
        // Chain only when the next run can act within its own budget: a key shut for longer is the timer's.
        const resumesInTime = relay.resumeAt === undefined || relay.resumeAt - clock() < relayBudgetMs;
        if (relay.more && resumesInTime && context !== undefined) {
          await chain.kick('drain', context, { timeoutMs: deadline.callTimeoutMs(CHAIN_TIMEOUT_MS) });
        }
      } catch (error) {
        logger.error('relay failed: the store is unreachable', { error });
      }
    }
    let canary: CanaryResult | undefined;
    if (config.health.canaryUrl !== undefined) {
      // Dry-run: nothing reaches PagerDuty, so a canary could never be delivered.
      if (config.pagerduty.dryRun) canary = { state: 'off', detail: 'dry-run: nothing is sent to PagerDuty' };
      else {
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
        canary = ran.result;
      }
    }
    const now = clock();
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
    const report = buildHealthReport({ trigger: event, relay, outbox, counters, config, now, canary, circuits });

    const reconciled = await reconcileSelfAlert({
      previous: selfAlertState,
      verdict: { verdict: report.verdict, rule: report.rule, rules: report.rules, reasons: report.reasons },
      routingKey: config.health.routingKey,
      eventsUrl: config.pagerduty.eventsUrl,
      timeoutMs: deadline.callTimeoutMs(config.pagerduty.timeoutMs),
      report: {
        deliveries: report.outbox,
        oldestWaitingSeconds: report.oldestWaitingSeconds,
        relay,
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
        timeoutMs: deadline.callTimeoutMs(5_000),
      });
    }
    const log = report.verdict === 'healthy' ? logger.info : report.verdict === 'degraded' ? logger.warn : logger.error;
    log.call(logger, 'delivery health', { report });
    return report;
  };
}

export { createDeliveryHealth };
