/**
 * What delivering one callback takes (the webhook's dependencies, also the relay's) and what it reports (the summary
 * that becomes the 2xx body, the activity counters that may ride in its last write).
 */
import type { RejectedAlert } from '../alerts/types';
import type { BridgeConfig } from '../config/config';
import type { Deadline } from '../deadline';
import type { Logger } from '../logger';
import type { CounterDelta } from '../store/Counters';
import type { DeliveryStore } from '../store/DeliveryStore';
import type { DeliveryCounts } from './DeliveryCounts';
import type { FailOpenTraces } from './FailOpenTraces';
import type { KeyGate } from './KeyGate';
import type { Router } from './Router';
import type { sendRecord } from './sendRecord';

interface DeliverDeps {
  config: BridgeConfig;
  router: Router;
  store: DeliveryStore;
  logger: Logger;
  deadline: Deadline;
  gate: KeyGate;
  /** Resolves sent while the store was down, written once it is back (`FailOpenTraces.ts`). */
  traces?: FailOpenTraces;
  send: typeof sendRecord;
  now?: () => number;
  /** The callback's activity counters, written with its last outcomes when those are its last write. */
  activity?: CallbackActivity;
}

/**
 * The webhook's activity counters for this callback (`shared/health/activity.ts`): when the callback's last store
 * write is an outcome slice and the summary is final by then (every delivery handed to the lanes is recorded in it,
 * nothing failed open), they go in that same write (`replaceManyCounting`), and `carried` says so: the webhook does
 * not write them again.
 */
interface CallbackActivity {
  delta: (summary: DeliverySummary) => CounterDelta;
  ttlSeconds: number;
  carried: boolean;
}

/** What happened to one callback's alerts; becomes the 2xx body. */
interface DeliverySummary extends DeliveryCounts {
  received: number;
  /** Stored for the relay (deadline reached, PagerDuty asked to retry, or waiting for its trigger). */
  queued: number;
  /** Already known: a repeat notification of an occurrence. */
  duplicates: number;
  /** Stored and logged, never sent (dry-run). */
  dryRun: number;
  /** Refused for good (PagerDuty rejected the event, or no routing key): DEAD, visible in the health report. */
  failed: number;
  rejected: RejectedAlert[];
  /** Set when the store was unreachable and the bridge sent straight to PagerDuty (fail open). */
  degraded?: 'store-unavailable';
  /** Fail-open only: alerts neither delivered nor stored. Non-zero means the callback must be answered 503. */
  lost: number;
  /** Fail-open only: resolves sent unrecorded; the callback's replay line is then logged (the durable trace). */
  unrecordedResolves?: number;
}

/** A callback's summary before any delivery: its alerts received, its rejected ones listed, nothing counted yet. */
function emptySummary(received: number, rejected: RejectedAlert[]): DeliverySummary {
  return {
    received,
    delivered: 0,
    queued: 0,
    duplicates: 0,
    dryRun: 0,
    superseded: 0,
    failed: 0,
    failures: {},
    rejected,
    lost: 0,
  };
}

export type { CallbackActivity, DeliverDeps, DeliverySummary };
export { emptySummary };
