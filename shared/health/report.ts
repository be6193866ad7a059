/**
 * The health report of one delivery-health run: what the relay did, what waits in the outbox, the activity of the
 * window (deliveries, failures by reason, rejected callbacks by code, last callback and delivery), and the verdict
 * with the rule that decided it. One JSON log line per run (fields an SLS dashboard can chart) and the invocation's
 * result. docs/health-report.md explains it.
 */
import type { BridgeConfig } from '../config/config';
import type { DeliveryStatus } from '../constants';
import type { OpenCircuit } from '../delivery/KeyGate';
import type { RelayResult } from '../delivery/relay';
import type { FcTimerEvent } from '../fc/types';
import { Counter, type CounterTotals, countsUnder, LastSeen } from '../store/Counters';
import type { OutboxSummary } from '../store/DeliveryStore';
import type { CanaryResult } from './canary';
import { type HealthVerdict, healthVerdict } from './verdict';

interface HealthReport {
  ok: true;
  verdict: HealthVerdict['verdict'];
  /** The rule that decided the verdict (`ok` when healthy), and one sentence per rule that matched. */
  rule: HealthVerdict['rule'];
  /** Every rule that matched, in order. */
  rules: HealthVerdict['rules'];
  reasons: string[];
  triggerTime: string;
  triggerName: string;
  dryRun: boolean;
  /** What this run relayed; absent in dry-run (nothing is ever sent) or when the store was unreachable. */
  relay?: RelayResult;
  /** Deliveries still waiting, by status. */
  outbox: Partial<Record<DeliveryStatus, number>>;
  /** Routing keys whose circuit is open: nothing but one probe at a time is sent to them. */
  circuits: Array<{ route: string; openSince: string; lastError: string; nextProbeAt: string; failedProbes: number }>;
  /** Age in seconds of the oldest delivery still waiting, or null. */
  oldestWaitingSeconds: number | null;
  storeReachable: boolean;
  /** Activity of the last `windowSeconds`, from every instance of both functions. */
  window: {
    windowSeconds: number;
    callbacks: number;
    alertsReceived: number;
    alertsRejected: number;
    consoleTests: number;
    /** Callbacks refused with a 4xx, by `error.code`. */
    rejectedCallbacks: Record<string, number>;
    delivered: number;
    /** Failed attempts by reason. */
    failures: Record<string, number>;
    dead: number;
    superseded: number;
  };
  /** ISO times, or null when not seen within the store's TTL window read. */
  lastCallbackAt: string | null;
  lastDeliveredAt: string | null;
  watchdog?: { alertname: string; lastSeenAt: string | null; intervalSeconds: number };
  /** The end-to-end canary, when `CANARY_URL` is set (`off` in dry-run). */
  canary?: CanaryResult;
  /** Self-alert and heartbeat outcomes of this run, when configured. */
  selfAlert?: { state: 'open' | 'closed' | 'unknown'; sent?: 'trigger' | 'resolve' };
  heartbeat?: { ok: boolean; status?: number; error?: string };
}

const iso = (time: number | undefined) => (time === undefined || time <= 0 ? null : new Date(time).toISOString());

function buildHealthReport(input: {
  trigger: FcTimerEvent;
  relay: RelayResult | undefined;
  outbox: OutboxSummary | undefined;
  counters: CounterTotals | undefined;
  config: BridgeConfig;
  now: number;
  /** This run's canary, when `CANARY_URL` is set. */
  canary?: CanaryResult;
  /** The open circuits of the configured routing keys. */
  circuits?: readonly OpenCircuit[];
  /**
   * Every stored delivery by state, when a full scan was paid for (`npm run status -- --scan`): lets the verdict see
   * DEAD rows kept for a redrive. The timer's run never scans (its cost must not grow with history).
   */
  stored?: Partial<Record<DeliveryStatus, number>>;
}): HealthReport {
  const { config, now } = input;
  const counters = input.counters ?? { counts: {}, latest: {} };
  const count = (name: string) => counters.counts[name] ?? 0;
  const storeReachable = input.outbox !== undefined && input.counters !== undefined;
  const oldest = input.outbox?.oldestCreatedAt;
  const oldestWaitingSeconds = oldest === undefined ? null : Math.max(0, Math.round((now - oldest) / 1000));
  const window = {
    windowSeconds: config.health.windowSeconds,
    callbacks: count(Counter.CALLBACKS),
    alertsReceived: count(Counter.ALERTS_RECEIVED),
    alertsRejected: count(Counter.ALERTS_REJECTED),
    consoleTests: count(Counter.CONSOLE_TESTS),
    rejectedCallbacks: countsUnder(counters, Counter.CALLBACKS_REJECTED),
    delivered: count(Counter.DELIVERED),
    failures: countsUnder(counters, Counter.FAILED),
    dead: count(Counter.DEAD),
    superseded: count(Counter.SUPERSEDED),
  };
  const watchdogName = config.health.watchdogAlertname;
  const watchdogSeen = counters.latest[LastSeen.WATCHDOG_AT];
  const verdict = healthVerdict(
    {
      now,
      deliveries: input.stored ?? input.outbox?.waiting ?? {},
      oldestWaitingSeconds,
      window: {
        delivered: window.delivered,
        failures: window.failures,
        dead: window.dead,
        rejectedCallbacks: window.rejectedCallbacks,
      },
      storeReachable,
      configProblems: [],
      lastCallbackAt: counters.latest[LastSeen.CALLBACK_AT] ?? null,
      watchdog:
        watchdogName === undefined
          ? undefined
          : {
              name: watchdogName,
              lastSeenAt: watchdogSeen ?? null,
              intervalSeconds: config.health.watchdogIntervalSeconds,
            },
      openCircuits: input.circuits,
      canary:
        input.canary === undefined || input.canary.state === 'off'
          ? undefined
          : { ok: input.canary.state !== 'missing', detail: input.canary.detail },
    },
    config.health,
  );
  return {
    ok: true,
    verdict: verdict.verdict,
    rule: verdict.rule,
    rules: verdict.rules,
    reasons: verdict.reasons,
    triggerTime: input.trigger.triggerTime,
    triggerName: input.trigger.triggerName,
    dryRun: config.pagerduty.dryRun,
    relay: input.relay,
    outbox: input.outbox?.waiting ?? {},
    circuits: (input.circuits ?? []).map((circuit) => ({
      route: circuit.route,
      openSince: new Date(circuit.openedAt).toISOString(),
      lastError: circuit.lastError,
      nextProbeAt: new Date(circuit.nextProbeAt).toISOString(),
      failedProbes: circuit.failedProbes,
    })),
    oldestWaitingSeconds,
    storeReachable,
    window,
    lastCallbackAt: iso(counters.latest[LastSeen.CALLBACK_AT]),
    lastDeliveredAt: iso(counters.latest[LastSeen.DELIVERED_AT]),
    watchdog:
      watchdogName === undefined
        ? undefined
        : {
            alertname: watchdogName,
            lastSeenAt: iso(watchdogSeen),
            intervalSeconds: config.health.watchdogIntervalSeconds,
          },
    canary: input.canary,
  };
}

export type { HealthReport };
export { buildHealthReport };
