/**
 * The health report of one delivery-health run: what the relay did and what the outbox holds, by status. Printed as
 * one log line per run and returned as the invocation result (README § "Reading the health report").
 */
import type { BridgeConfig } from '../config/config';
import { DeliveryStatus } from '../constants';
import type { RelayResult } from '../delivery/relay';
import type { FcTimerEvent } from '../fc/types';
import type { DeliveryRecord } from '../store/DeliveryRecord';

interface HealthReport {
  ok: true;
  triggerTime: string;
  triggerName: string;
  dryRun: boolean;
  /** What this run relayed; absent in dry-run (nothing is ever sent). */
  relay?: RelayResult;
  /** Live delivery records by status. */
  deliveries: Record<DeliveryStatus, number>;
  /** Age in seconds of the oldest delivery still waiting (PENDING, RETRY or SENDING), or null. */
  oldestWaitingSeconds: number | null;
}

const WAITING: ReadonlySet<string> = new Set([DeliveryStatus.PENDING, DeliveryStatus.RETRY, DeliveryStatus.SENDING]);

function buildHealthReport(input: {
  trigger: FcTimerEvent;
  relay: RelayResult | undefined;
  records: readonly DeliveryRecord[];
  config: BridgeConfig;
  now: number;
}): HealthReport {
  const deliveries = Object.fromEntries(Object.values(DeliveryStatus).map((status) => [status, 0])) as Record<
    DeliveryStatus,
    number
  >;
  let oldestWaiting: number | undefined;
  for (const record of input.records) {
    deliveries[record.status]++;
    if (WAITING.has(record.status)) oldestWaiting = Math.min(oldestWaiting ?? record.createdAt, record.createdAt);
  }
  return {
    ok: true,
    triggerTime: input.trigger.triggerTime,
    triggerName: input.trigger.triggerName,
    dryRun: input.config.pagerduty.dryRun,
    relay: input.relay,
    deliveries,
    oldestWaitingSeconds: oldestWaiting === undefined ? null : Math.round((input.now - oldestWaiting) / 1000),
  };
}

export type { HealthReport };
export { buildHealthReport };
