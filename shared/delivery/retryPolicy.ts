/**
 * When a failed delivery is given up (DEAD). Waiting between attempts is the key's business, not the delivery's: a
 * 5xx, a timeout or a network error opens the routing key's circuit (`circuit.ts`) and a 429 narrows its budget
 * (`pacing.ts`), so a failed delivery is due again at once (or after PagerDuty's `Retry-After`) and the key's gate
 * decides when it goes.
 */
import type { RetryConfig } from '../config/config';

/**
 * A delivery is given up after `MAX_ATTEMPTS` failed attempts on a key that was taking sends, or when older than
 * `MAX_DELIVERY_AGE_SECONDS`. A probe of an open circuit counts as an attempt but never exhausts the count: an
 * outage of PagerDuty is not the delivery's fault, and only the age bounds it.
 */
function shouldGiveUp(
  attempt: { attempts: number; probe: boolean },
  createdAt: number,
  now: number,
  retry: RetryConfig,
): boolean {
  if (now - createdAt >= retry.maxAgeSeconds * 1000) return true;
  return !attempt.probe && attempt.attempts >= retry.maxAttempts;
}

/** When a delivery whose attempt failed retryably is due again: at once, or after PagerDuty's `Retry-After`. */
function retryDueAt(now: number, retryAfterMs = 0): number {
  return now + Math.max(0, retryAfterMs);
}

export { retryDueAt, shouldGiveUp };
