/**
 * Pacing per PagerDuty routing key: PagerDuty accepts about 120 events per minute per integration key and answers
 * 429 beyond (reference: pagerduty.md §1.6). Alertmanager does not pace and retries 429s straight into the limit; the
 * bridge spends a token bucket per key instead, and stops a key for the rest of an invocation once PagerDuty says 429.
 *
 * The bucket holds a quarter of a minute's rate (30 events at the default 120/min), so a small callback goes out at
 * once and a storm settles at the configured rate. Each FC instance keeps its own buckets across invocations (module
 * scope); instances do not share them, which is what the 429 stop and the relay's backoff are for.
 */
import { createHash } from 'node:crypto';
import type { Secret } from '../config/Secret';

interface Bucket {
  tokens: number;
  updatedAt: number;
  /** Set when PagerDuty answered 429 in this invocation; cleared by `startInvocation`. */
  blocked: boolean;
}

class KeyPacer {
  readonly #ratePerMs: number;
  readonly #capacity: number;
  readonly #now: () => number;
  readonly #buckets = new Map<string, Bucket>();

  public constructor(ratePerMinute: number, now: () => number = Date.now) {
    this.#ratePerMs = ratePerMinute / 60_000;
    this.#capacity = Math.max(1, Math.floor(ratePerMinute / 4));
    this.#now = now;
  }

  /** A key's bucket id: a hash, so the key itself is never held as a map key or printed. */
  public static idOf(routingKey: Secret): string {
    return createHash('sha256').update(routingKey.reveal()).digest('hex').slice(0, 16);
  }

  /** Clears the 429 stops of the previous invocation (buckets keep their tokens). */
  public startInvocation(): void {
    for (const bucket of this.#buckets.values()) bucket.blocked = false;
  }

  /** PagerDuty answered 429 for this key: send nothing more to it in this invocation. */
  public block(keyId: string): void {
    this.#bucket(keyId).blocked = true;
  }

  public isBlocked(keyId: string): boolean {
    return this.#buckets.get(keyId)?.blocked ?? false;
  }

  /**
   * Reserves one send on the key. Returns how long to wait before sending (0: now), or undefined when the key is
   * stopped or the wait would exceed `maxWaitMs` (then nothing is reserved: leave the delivery for later).
   */
  public reserve(keyId: string, maxWaitMs: number): number | undefined {
    const bucket = this.#bucket(keyId);
    if (bucket.blocked) return undefined;
    const now = this.#now();
    bucket.tokens = Math.min(this.#capacity, bucket.tokens + (now - bucket.updatedAt) * this.#ratePerMs);
    bucket.updatedAt = now;
    const waitMs = bucket.tokens >= 1 ? 0 : Math.ceil((1 - bucket.tokens) / this.#ratePerMs);
    if (waitMs > maxWaitMs) return undefined;
    // Tokens may go negative: later callers queue behind this reservation.
    bucket.tokens -= 1;
    return waitMs;
  }

  #bucket(keyId: string): Bucket {
    let bucket = this.#buckets.get(keyId);
    if (bucket === undefined) {
      bucket = { tokens: this.#capacity, updatedAt: this.#now(), blocked: false };
      this.#buckets.set(keyId, bucket);
    }
    return bucket;
  }
}

export { KeyPacer };
