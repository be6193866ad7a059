/**
 * The timing rules of a health run: how much of its budget the relay may use, when a relay that met a store failure
 * tries again within the run, and when a run that left due work starts the next one at once (continuous drain)
 * instead of leaving it to the timer.
 */
import { HEALTH_REPORT_RESERVE_MS, RELAY_STORE_RETRIES, RELAY_STORE_RETRY_BASE_MS } from '../constants';

/**
 * The relay's share of a run's budget: all but the time the report, the self-alert and the heartbeat need after it
 * (`HEALTH_REPORT_RESERVE_MS`, or a third of a short budget, so a small `HEALTH_TIME_BUDGET_SECONDS` still relays).
 *
 * @example
 * relayBudgetMs(50_000); // 40_000
 */
function relayBudgetMs(budgetMs: number): number {
  return budgetMs - Math.min(HEALTH_REPORT_RESERVE_MS, budgetMs / 3);
}

/**
 * Whether a relay that left due work (`more`) starts the next run now: only when that run can act within its own
 * relay budget. A key shut until later than that (`resumeAt`, a circuit or a 429's pause) is the timer's.
 *
 * @example
 * chainsNextRun({ more: true, resumeAt: undefined }, now, 40_000); // true
 */
function chainsNextRun(relay: { more: boolean; resumeAt?: number }, now: number, relayBudget: number): boolean {
  if (!relay.more) return false;
  return relay.resumeAt === undefined || relay.resumeAt - now < relayBudget;
}

/**
 * How long the relay waits before its `attempt`-th try again after a store failure, or undefined when it stops: after
 * `RELAY_STORE_RETRIES` tries, or when the wait would not leave one send's time (`sendTimeoutMs`) of the relay's
 * budget (`leftMs`). A blip then costs a second, not the minute until the next timer run.
 *
 * @example
 * relayRetryDelayMs(1, 40_000, 2_500); // 250
 */
function relayRetryDelayMs(attempt: number, leftMs: number, sendTimeoutMs: number): number | undefined {
  if (attempt < 1 || attempt > RELAY_STORE_RETRIES) return undefined;
  const waitMs = RELAY_STORE_RETRY_BASE_MS * 2 ** (attempt - 1);
  return leftMs - waitMs > sendTimeoutMs ? waitMs : undefined;
}

export { chainsNextRun, relayBudgetMs, relayRetryDelayMs };
