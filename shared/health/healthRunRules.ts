/**
 * The two timing rules of a health run: how much of its budget the relay may use, and when a run that left due work
 * starts the next one at once (continuous drain) instead of leaving it to the timer.
 */
import { HEALTH_REPORT_RESERVE_MS } from '../constants';

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

export { chainsNextRun, relayBudgetMs };
