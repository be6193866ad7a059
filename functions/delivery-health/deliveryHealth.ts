/**
 * One run of delivery-health (every minute, and on demand): relay what is due, then report. Reads as the steps it
 * takes; each lives in `shared/`.
 */
import { relayDue } from '../../shared/delivery/relay';
import { sendRecord } from '../../shared/delivery/sendRecord';
import { Deadline } from '../../shared/fc/deadline';
import type { FcTimerEvent } from '../../shared/fc/types';
import { buildHealthReport, type HealthReport } from '../../shared/health/report';
import type { BridgeInstance } from '../../shared/instance';

function createDeliveryHealth(instance: BridgeInstance) {
  return async function deliveryHealth(
    event: FcTimerEvent,
  ): Promise<HealthReport | { ok: false; error: { code: string; problems: readonly string[] } }> {
    if (!instance.ok) {
      // Logged once at cold start; every run says it again in its result so the FC console shows it.
      return { ok: false, error: { code: instance.error.code, problems: instance.error.problems } };
    }
    const { config, logger, router, store, pacer } = instance;
    const deadline = new Deadline(config.health.timeBudgetSeconds * 1000);
    const relay = config.pagerduty.dryRun
      ? undefined // Dry-run: nothing is ever sent, not even what an earlier configuration queued.
      : await relayDue({ config, router, store, logger, deadline, pacer, send: sendRecord });
    const report = buildHealthReport({ trigger: event, relay, records: await store.list(), config, now: Date.now() });
    logger.info('delivery health', { report });
    return report;
  };
}

export { createDeliveryHealth };
