/**
 * Deadlines from FC facts, not from the context: FC documents no remaining-time function, so each invocation records
 * its start and its budget (the webhook: WEBHOOK_DEADLINE_MS, inside ARMS's 5 s; delivery-health: its time budget),
 * and every outbound call gets `min(callBudget, time left)`. A store operation gets one too: `STORE_TIMEOUT_MS` cut to
 * what the invocation leaves, shared by all its calls and retries.
 */
class Deadline {
  readonly #endsAt: number;
  readonly #now: () => number;

  public constructor(budgetMs: number, now: () => number = Date.now) {
    this.#now = now;
    this.#endsAt = now() + budgetMs;
  }

  /** Milliseconds left, never negative. */
  public remainingMs(): number {
    return Math.max(0, this.#endsAt - this.#now());
  }

  public expired(): boolean {
    return this.remainingMs() === 0;
  }

  /** Timeout for one call: its own budget, cut to what is left (at least 1 ms, so the signal still fires). */
  public callTimeoutMs(callBudgetMs: number): number {
    return Math.max(1, Math.min(callBudgetMs, this.remainingMs()));
  }

  /**
   * This deadline less `reserveMs`: what a call may spend when `reserveMs` must stay for what follows it; never less
   * than half of what is left, so a short deadline (below the reserve) still lets the call run rather than starving it.
   */
  public reserving(reserveMs: number): { remainingMs(): number } {
    // An object of a class, not a literal with a closure: the bundle keeps function names (esbuild keepNames), so a new
    // closure is named by a defineProperty on every call, three times per callback, and that showed in the profile.
    return new ReservedDeadline(this, reserveMs);
  }

  /** An abort signal for one call, firing at `callTimeoutMs(callBudgetMs)`. */
  public signal(callBudgetMs: number): AbortSignal {
    return AbortSignal.timeout(this.callTimeoutMs(callBudgetMs));
  }
}

/** {@link Deadline.reserving}: what `deadline` leaves less `reserveMs`, never under half of what it leaves. */
class ReservedDeadline {
  readonly #deadline: Deadline;
  readonly #reserveMs: number;

  public constructor(deadline: Deadline, reserveMs: number) {
    this.#deadline = deadline;
    this.#reserveMs = reserveMs;
  }

  public remainingMs(): number {
    const left = this.#deadline.remainingMs();
    return Math.max(left - this.#reserveMs, left / 2);
  }
}

export { Deadline };
