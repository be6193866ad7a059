/**
 * One attempt at one delivery: send its stored event with the route's key, and return the record's next state
 * (DELIVERED, RETRY, or DEAD). Shared by the webhook and the relay, so both treat PagerDuty's answers the same way.
 * Never throws: every failure becomes a state.
 *
 * The send gets its full `PAGERDUTY_TIMEOUT_MS`, never less: the callers start no send their deadline cannot finish
 * (`sendLane.ts`), so a send on the wire is never cut off by the deadline and recorded as failed after PagerDuty
 * accepted it (which made the relay send it again).
 */
import type { BridgeConfig } from '../config/config';
import type { Secret } from '../config/Secret';
import { scrubSecrets } from '../config/scrubSecrets';
import type { DeliveryFailureReason } from '../errors';
import type { Logger } from '../logger';
import { sendEvent } from '../pagerduty/client';
import type { DeliveryRecord } from '../store/DeliveryRecord';
import { retryDueAt, shouldGiveUp } from './retryPolicy';
import { markDead, markDelivered, markRetry } from './transitions';

interface SendOptions {
  config: BridgeConfig;
  logger: Logger;
  /** This send probes the key's open circuit (`circuit.ts`). */
  probe?: boolean;
  /**
   * A shorter timeout than `PAGERDUTY_TIMEOUT_MS`: only where nothing is recorded anyway (the webhook failing open with
   * the store down), so a cut send is at worst a duplicate PagerDuty dedupes, never a page left unsent.
   */
  timeoutMs?: number;
  now?: () => number;
}

/** The record's next state, and why the attempt failed (the key's gate acts on the reason). */
interface SendOutcome {
  record: DeliveryRecord;
  reason?: DeliveryFailureReason;
  retryAfterMs?: number;
  /** One line, never a secret: what PagerDuty (or the network) said. */
  error?: string;
}

async function sendRecord(
  record: DeliveryRecord,
  routingKey: Secret | undefined,
  options: SendOptions,
): Promise<SendOutcome> {
  const { config, logger } = options;
  const now = options.now ?? Date.now;
  if (routingKey === undefined) {
    return { record: markDead(record, now(), `no routing key for route "${record.routeName}"`, false), reason: 'auth' };
  }
  const result = await sendEvent({
    url: config.pagerduty.eventsUrl,
    routingKey,
    event: record.event,
    timeoutMs: Math.min(config.pagerduty.timeoutMs, options.timeoutMs ?? Number.POSITIVE_INFINITY),
  });
  const at = now();
  const context = { deliveryKey: record.deliveryKey, dedupKey: record.dedupKey, route: record.routeName };
  if (result.ok) {
    if (result.dedupKey !== undefined && result.dedupKey !== record.event.dedup_key) {
      // A 202 is not a page (reference §1.4); an echoed key that differs means the event landed elsewhere than meant.
      logger.warn('PagerDuty echoed a different dedup_key', { ...context, echoed: result.dedupKey });
    }
    logger.debug('delivered to PagerDuty', {
      ...context,
      action: record.event.event_action,
      latencyMs: result.latencyMs,
    });
    return { record: markDelivered(record, at) };
  }
  const attempts = record.attempts + 1;
  // Stored in the row: no configured secret may reach it, whatever PagerDuty or the network echoed.
  const error = scrubSecrets(`${result.reason}: ${result.message}`, config.secrets);
  const probe = options.probe === true;
  if (!result.retryable || shouldGiveUp({ attempts, probe }, record.createdAt, at, config.retry)) {
    logger.error('delivery failed for good (DEAD)', {
      ...context,
      reason: result.reason,
      error: result.message,
      attempts,
    });
    return { record: markDead(record, at, error), reason: result.reason, error };
  }
  logger.warn('delivery failed; will retry', {
    ...context,
    reason: result.reason,
    error: result.message,
    attempts,
    probe,
  });
  return {
    record: markRetry(record, at, error, retryDueAt(at, result.retryAfterMs) - at),
    reason: result.reason,
    retryAfterMs: result.retryAfterMs,
    error,
  };
}

export type { SendOptions, SendOutcome };
export { sendRecord };
