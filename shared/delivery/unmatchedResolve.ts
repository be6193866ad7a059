/**
 * An unmatched resolve is the resolve of an occurrence whose trigger was never sent to PagerDuty. It pages nobody (no
 * alert event: paging for an alert already over helps nobody), but with LONE_RESOLVES_AS_CHANGE_EVENTS it is recorded
 * on the PagerDuty service as a Change Event: history without a page, so the on-call can still see that it happened.
 * Best effort: a change event that fails is logged, never retried (it pages nobody either way).
 */
import type { BridgeConfig } from '../config/config';
import type { Logger } from '../logger';
import { sendChangeEvent } from '../pagerduty/client';
import type { PagerDutyChangeEventBody } from '../pagerduty/types';
import type { DeliveryRecord } from '../store/DeliveryRecord';
import type { RouteChoice } from './Router';

/** The change event for an unmatched resolve, from the event the bridge would have sent. Pure. */
function unmatchedResolveChangeEvent(resolve: DeliveryRecord, now: number): PagerDutyChangeEventBody {
  const { payload, links } = resolve.event;
  return {
    payload: {
      summary: `Resolved before it was paged: ${payload.summary}`,
      source: payload.source,
      timestamp: new Date(now).toISOString(),
      custom_details: {
        dedup_key: resolve.dedupKey,
        started_at: resolve.occurrence > 0 ? new Date(resolve.occurrence).toISOString() : undefined,
        severity: payload.severity,
        details: payload.custom_details,
      },
    },
    ...(links ? { links } : {}),
  };
}

/** Sends the change event when the setting is on; returns whether PagerDuty accepted it. Never throws. */
async function recordUnmatchedResolve(
  resolve: DeliveryRecord,
  route: RouteChoice | undefined,
  options: { config: BridgeConfig; logger: Logger; timeoutMs: number; now: number },
): Promise<boolean> {
  const { config, logger } = options;
  if (!config.pagerduty.loneResolvesAsChangeEvents || config.pagerduty.dryRun || route?.routingKey === undefined) {
    return false;
  }
  const result = await sendChangeEvent({
    url: config.pagerduty.eventsUrl,
    routingKey: route.routingKey,
    event: unmatchedResolveChangeEvent(resolve, options.now),
    timeoutMs: options.timeoutMs,
  });
  if (result.ok) logger.info('unmatched resolve recorded as a PagerDuty change event', { dedupKey: resolve.dedupKey });
  else
    logger.warn('unmatched resolve change event not accepted', { dedupKey: resolve.dedupKey, error: result.message });
  return result.ok;
}

export { recordUnmatchedResolve, unmatchedResolveChangeEvent };
