import { RESOLVE_RECHECK_MS } from '../constants';

/**
 * When a resolve held behind its trigger's send is due again: when the trigger's lease ends, or sooner, at the next
 * recheck. A webhook sending the trigger frees it as soon as the outcome is recorded (`recordOutcomes.ts`); a relay
 * sending it waits for this recheck before its run ends (`relay.ts`), which costs no store read per trigger.
 */
function resolveWaitUntil(leaseUntil: number, now: number): number {
  return Math.min(leaseUntil, now + RESOLVE_RECHECK_MS);
}

export { resolveWaitUntil };
