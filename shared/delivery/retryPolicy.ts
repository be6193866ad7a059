/**
 * When to try a failed delivery again, and when to give up. Pure functions of the attempt count and the clock.
 */
import type { RetryConfig } from '../config/config';

/**
 * Exponential backoff with full jitter (delay uniform in [0, min(max, base·2^(attempt−1))]), never earlier than
 * PagerDuty's `Retry-After` when it sent one.
 *
 * @param attempts attempts made so far (≥ 1)
 * @param random a number in [0, 1) (injectable for tests)
 */
function retryDelayMs(
  attempts: number,
  retry: RetryConfig,
  retryAfterMs = 0,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(retry.maxSeconds, retry.baseSeconds * 2 ** Math.max(0, attempts - 1)) * 1000;
  // At least one second, so a storm of failures never turns into a busy loop.
  return Math.max(1000, retryAfterMs, Math.floor(random() * ceiling));
}

/** A delivery is given up (DEAD) after too many attempts or when too old to matter. */
function shouldGiveUp(attempts: number, createdAt: number, now: number, retry: RetryConfig): boolean {
  return attempts >= retry.maxAttempts || now - createdAt >= retry.maxAgeSeconds * 1000;
}

export { retryDelayMs, shouldGiveUp };
