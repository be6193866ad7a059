import { mapLimited } from '../async';
import { DeliveryStatus, EventAction, SENDS_IN_FLIGHT, WEBHOOK_ANSWER_RESERVE_MS } from '../constants';
import type { DeliveryRecord } from '../store/DeliveryRecord';
import type { DeliverDeps, DeliverySummary } from './CallbackDelivery';
import type { RouteChoice } from './Router';

/**
 * Store down (or these rows' claims failed): send them directly, so a store outage alone never costs a page. Nothing
 * is recorded; a resolve sent this way is kept for the next invocation (`FailOpenTraces.ts`).
 */
async function failOpen(
  drafted: ReadonlyArray<{ record: DeliveryRecord; route: RouteChoice }>,
  deps: DeliverDeps,
  summary: DeliverySummary,
): Promise<DeliverySummary> {
  const { config, logger, deadline } = deps;
  await mapLimited(drafted, SENDS_IN_FLIGHT, async ({ record, route }) => {
    if (record.status === DeliveryStatus.SUPERSEDED) {
      // The ordering held it back (its resolve came first, a newer occurrence exists): sent fail open, such a trigger
      // would open an incident that nothing closes.
      summary.superseded++;
      return;
    }
    if (config.pagerduty.dryRun) {
      summary.dryRun++;
      logger.info('dry-run: event not sent (store unavailable, not stored)', { event: record.event });
      return;
    }
    const budget = deadline.remainingMs() - WEBHOOK_ANSWER_RESERVE_MS;
    if (budget <= 0) {
      summary.lost++;
      return;
    }
    const { record: result, reason } = await deps.send(record, route.routingKey, {
      now: deps.now,
      config,
      logger,
      timeoutMs: budget,
    });
    if (reason !== undefined) summary.failures[reason] = (summary.failures[reason] ?? 0) + 1;
    if (result.status === DeliveryStatus.DELIVERED) summary.delivered++;
    else summary.lost++;
    if (record.action === EventAction.RESOLVE && result.status === DeliveryStatus.DELIVERED) {
      summary.unrecordedResolves = (summary.unrecordedResolves ?? 0) + 1;
      deps.traces?.keep(result);
    }
  });
  return summary;
}

export { failOpen };
