import { RESOLVE_RECHECK_MS } from '../constants';

/**
 * When a resolve held behind its trigger's send is due again: when the trigger's lease ends, or sooner, at the next
 * recheck (the trigger's sender usually frees it as soon as its outcome is recorded: `recordOutcomes.ts`).
 */
function resolveWaitUntil(leaseUntil: number, now: number): number {
  return Math.min(leaseUntil, now + RESOLVE_RECHECK_MS);
}

export { resolveWaitUntil };
