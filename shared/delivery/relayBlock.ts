import { BATCH_WRITE_MAX_ROWS, SENDS_IN_FLIGHT } from '../constants';

/**
 * Most sends the relay takes from a key's gate, and leases, in one block. Bigger blocks cost fewer store round trips
 * per delivery (a block is one gate write and one lease write), but every row of a block must be sent well inside its
 * lease, or the lease could end with the row still queued behind the others: a block is sent `SENDS_IN_FLIGHT` at a
 * time, each send taking at most `sendTimeoutMs`, so it holds as many rounds as fit in half the lease. One
 * BatchWriteRow leases it, so never more than that takes; never less than one round.
 *
 * @example
 * relayBlockMax(30_000, 2_500); // 192: six rounds of 32 in a 30 s lease
 */
function relayBlockMax(leaseMs: number, sendTimeoutMs: number): number {
  const rounds = Math.max(1, Math.floor(leaseMs / 2 / Math.max(1, sendTimeoutMs)));
  return Math.min(BATCH_WRITE_MAX_ROWS, SENDS_IN_FLIGHT * rounds);
}

export { relayBlockMax };
