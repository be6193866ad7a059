/**
 * One attempt at one delivery: send its stored event with the route's key, and return the record's next state
 * (DELIVERED, RETRY with a backoff, or DEAD). Shared by the webhook and the relay, so both treat PagerDuty's answers
 * the same way. Never throws: every failure becomes a state.
 */
import type { BridgeConfig } from '../config/config';
import type { Secret } from '../config/Secret';
import type { DeliveryFailureReason } from '../errors';
import type { Deadline } from '../fc/deadline';
import type { Logger } from '../logger';
import { sendEvent } from '../pagerduty/client';
import type { DeliveryRecord } from '../store/DeliveryRecord';
import { retryDelayMs, shouldGiveUp } from './retryPolicy';
import { markDead, markDelivered, markRetry } from './transitions';

interface SendOptions {
  config: BridgeConfig;
  logger: Logger;
  deadline: Deadline;
  /** Time to keep back from the deadline for what follows the send. */
  reserveMs?: number;
  now?: () => number;
}

/** The record's next state, and why the attempt failed (the pacer stops a key on `rate-limited`). */
interface SendOutcome {
  record: DeliveryRecord;
  reason?: DeliveryFailureReason;
}

async function sendRecord(
  record: DeliveryRecord,
  routingKey: Secret | undefined,
  options: SendOptions,
): Promise<SendOutcome> {
  const { config, logger, deadline } = options;
  const now = options.now ?? Date.now;
  if (routingKey === undefined) {
    return { record: markDead(record, now(), `no routing key for route "${record.routeName}"`, false), reason: 'auth' };
  }
  const budget = Math.max(1, deadline.remainingMs() - (options.reserveMs ?? 0));
  const result = await sendEvent({
    url: config.pagerduty.eventsUrl,
    routingKey,
    event: record.event,
    timeoutMs: Math.min(config.pagerduty.timeoutMs, budget),
  });
  const at = now();
  const context = { deliveryKey: record.deliveryKey, dedupKey: record.dedupKey, route: record.routeName };
  if (result.ok) {
    if (result.dedupKey !== undefined && result.dedupKey !== record.event.dedup_key) {
      // A 202 is not a page (reference §1.4); an echoed key that differs means the event landed elsewhere than meant.
      logger.warn('PagerDuty echoed a different dedup_key', { ...context, echoed: result.dedupKey });
    }
    logger.info('delivered to PagerDuty', {
      ...context,
      action: record.event.event_action,
      latencyMs: result.latencyMs,
    });
    return { record: markDelivered(record, at) };
  }
  const attempts = record.attempts + 1;
  if (!result.retryable || shouldGiveUp(attempts, record.createdAt, at, config.retry)) {
    logger.error('delivery failed for good (DEAD)', {
      ...context,
      reason: result.reason,
      error: result.message,
      attempts,
    });
    return { record: markDead(record, at, `${result.reason}: ${result.message}`), reason: result.reason };
  }
  const delayMs = retryDelayMs(attempts, config.retry, result.retryAfterMs);
  logger.warn('delivery failed; will retry', {
    ...context,
    reason: result.reason,
    error: result.message,
    attempts,
    delayMs,
  });
  return { record: markRetry(record, at, `${result.reason}: ${result.message}`, delayMs), reason: result.reason };
}

export type { SendOptions, SendOutcome };
export { sendRecord };
