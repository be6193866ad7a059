/**
 * How often one instance kicks: at most once per invocation, and at most once per `minIntervalMs` (the kicked run
 * drains every due row anyway). Failed attempts count too, so a refused kick does not cost every later invocation its
 * timeout. Across instances this is best effort: N webhook instances may each kick once per interval. That is
 * harmless: the kicked runs claim rows by compare-and-set, so concurrent runs never deliver twice, and FC itself
 * queues async invocations.
 */
import { KICK_MIN_INTERVAL_MS } from '../constants';

/** Why a kick was not sent: this invocation kicked already, or this instance kicked less than the interval ago. */
type KickSkip = 'invocation' | 'interval';

interface KickGateOptions {
  /** @default KICK_MIN_INTERVAL_MS */
  minIntervalMs?: number;
  /** @default Date.now */
  now?: () => number;
}

class KickGate {
  readonly #minIntervalMs: number;
  readonly #now: () => number;
  #lastRequestId: string | undefined;
  #lastAttemptAt = Number.NEGATIVE_INFINITY;

  public constructor(options: KickGateOptions = {}) {
    this.#minIntervalMs = options.minIntervalMs ?? KICK_MIN_INTERVAL_MS;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Lets a kick of invocation `requestId` through (and counts it as this instance's latest attempt), or says why not.
   *
   * @example
   * const skipped = gate.admit(context.requestId);
   * if (skipped !== undefined) return { ok: true, skipped };
   */
  public admit(requestId: string | undefined): KickSkip | undefined {
    if (requestId && requestId === this.#lastRequestId) return 'invocation';
    const now = this.#now();
    if (now - this.#lastAttemptAt < this.#minIntervalMs) return 'interval';
    this.#lastRequestId = requestId;
    this.#lastAttemptAt = now;
    return undefined;
  }
}

export type { KickSkip };
export { KickGate };
