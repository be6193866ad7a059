/**
 * The webhook's delivery rules, each a pure function of what it decides from (the orchestration is
 * `deliverCallback.ts`; each rule has its table test in `tests/unit/delivery/deliveryRules.test.ts`):
 *
 * | Rule | Decides |
 * |------|---------|
 * | `firstState` | a drafted delivery's state when it is claimed: DRY_RUN, SUPERSEDED, PENDING (held behind its trigger), DEAD (no key), or SENDING leased to this invocation |
 * | `isTakeover` | whether an existing row is taken over instead of being a duplicate: finished and older than the dedup window |
 * | `markerAdvances` | the occurrence-marker writes that move each identity forward to the newest occurrence claimed |
 * | `tallyOutcomes` | the counts of a set of send outcomes: delivered, dead, queued, failures by reason |
 * | `inlineCount` | how many of a chunk's deliveries of one key the webhook leases to itself; the rest are queued for the relay |
 */
import { DeliveryStatus, EventAction } from '../constants';
import type { DeliveryRecord } from '../store/DeliveryRecord';
import type { OccurrenceMarker } from '../store/OccurrenceMarker';
import { NO_OCCURRENCE } from './deliveryKey';
import type { OrderVerdict } from './ordering';
import type { RouteChoice } from './Router';
import { resolveWaitUntil } from './resolveWait';
import type { SendOutcome } from './sendRecord';
import { withChanges } from './transitions';

/** Final states: a row in one of them is a duplicate only within the dedup window. */
const FINISHED: ReadonlySet<string> = new Set([
  DeliveryStatus.DELIVERED,
  DeliveryStatus.DEAD,
  DeliveryStatus.SUPERSEDED,
  DeliveryStatus.DRY_RUN,
]);

/** A delivery as the webhook claims it, with the trigger its resolve stops (the resolve came first). */
interface Planned {
  record: DeliveryRecord;
  route: RouteChoice;
  stopTrigger?: DeliveryRecord;
  /**
   * A trigger queued behind the older occurrence's resolve on the wire: it leaves the identity's marker where it is, so
   * whoever judges it again still finds that resolve (`olderResolveKeyOf`) and it advances the marker when it is sent.
   */
  behindOlderResolve?: boolean;
}

/** The state a drafted delivery is claimed in, from its ordering verdict (`ordering.ts`). */
function firstState(input: {
  record: DeliveryRecord;
  route: RouteChoice;
  dryRun: boolean;
  verdict: OrderVerdict;
  counterpart?: DeliveryRecord;
  leaseMs: number;
  now: number;
}): Planned {
  const { record, route, verdict, counterpart, now } = input;
  // Override-only spreads stay fast; each state that adds a key to the record goes through `withChanges`.
  if (input.dryRun) return { record: { ...record, status: DeliveryStatus.DRY_RUN }, route };
  if (verdict.kind === 'supersede') {
    const stopTrigger = verdict.supersedeTrigger ? counterpart : undefined;
    const superseded = withChanges(record, { status: DeliveryStatus.SUPERSEDED, lastError: verdict.reason });
    return { record: superseded, route, stopTrigger };
  }
  if (verdict.kind === 'defer') {
    const nextAttemptAt = resolveWaitUntil(verdict.until, now);
    const planned: Planned = { record: withChanges(record, { status: DeliveryStatus.PENDING, nextAttemptAt }), route };
    if (record.action === EventAction.TRIGGER) planned.behindOlderResolve = true;
    return planned;
  }
  if (route.routingKey === undefined) {
    const lastError = `no routing key for route "${route.name}"`;
    return { record: withChanges(record, { status: DeliveryStatus.DEAD, lastError }), route };
  }
  // Claimed already leased to this invocation: it sends at once, and if it dies the lease lets the relay take over.
  const leased = withChanges(record, { status: DeliveryStatus.SENDING, leaseUntil: now + input.leaseMs });
  return { record: leased, route, stopTrigger: verdict.stopTrigger ? counterpart : undefined };
}

/** A finished delivery older than the dedup window no longer suppresses its repeat: the repeat takes the row over. */
function isTakeover(existing: DeliveryRecord, windowMs: number, now: number): boolean {
  return FINISHED.has(existing.status) && existing.createdAt + windowMs <= now;
}

/** The marker writes that move each identity forward to the newest occurrence among `records`. */
function markerAdvances(
  records: readonly DeliveryRecord[],
  markers: ReadonlyMap<string, OccurrenceMarker>,
  ttlMs: number,
  now: number,
): OccurrenceMarker[] {
  const newest = new Map<string, number>();
  for (const record of records) {
    if (record.occurrence === NO_OCCURRENCE) continue;
    newest.set(record.dedupKey, Math.max(newest.get(record.dedupKey) ?? NO_OCCURRENCE, record.occurrence));
  }
  const writes: OccurrenceMarker[] = [];
  for (const [dedupKey, occurrence] of newest) {
    const marker = markers.get(dedupKey);
    if (marker !== undefined && marker.latestOccurrence >= occurrence) continue;
    writes.push({
      dedupKey,
      latestOccurrence: occurrence,
      version: (marker?.version ?? 0) + 1,
      updatedAt: now,
      expiresAt: now + ttlMs,
    });
  }
  return writes;
}

interface OutcomeTally {
  delivered: number;
  dead: number;
  /** Not delivered, not dead: queued again (RETRY). */
  queued: number;
  failures: Record<string, number>;
}

/** Counts a set of send outcomes, the same way for the webhook's answer and the relay's report. */
function tallyOutcomes(outcomes: readonly SendOutcome[]): OutcomeTally {
  const tally: OutcomeTally = { delivered: 0, dead: 0, queued: 0, failures: {} };
  for (const outcome of outcomes) {
    if (outcome.reason !== undefined) tally.failures[outcome.reason] = (tally.failures[outcome.reason] ?? 0) + 1;
    if (outcome.record.status === DeliveryStatus.DELIVERED) tally.delivered++;
    else if (outcome.record.status === DeliveryStatus.DEAD) tally.dead++;
    else tally.queued++;
  }
  return tally;
}

/** One routing key's sends in this invocation, as the webhook sees them when it claims the next chunk. */
interface LaneProgress {
  /** Deliveries of the key this invocation leased to itself so far (chunks being claimed included). */
  leased: number;
  /** Of those, the ones whose send has not started yet. */
  backlog: number;
  /** Sends of the key answered so far. */
  answered: number;
  /** Time since the key's first send started (ms); 0 before it. */
  sendingForMs: number;
  /** The key's lane still takes deliveries: it has not stopped on its gate, the deadline or the store. */
  open: boolean;
}

/**
 * How many of a chunk's `count` deliveries of one key the webhook leases to itself (SENDING); the rest it claims queued
 * for the relay (PENDING, due now). A lease is worth it only if the send starts before the window closes
 * (`windowLeftMs`: a send starts only while its whole timeout still fits the deadline), else the row is written twice.
 * Up to `floor` leases need no measure; beyond it, as many as the key's measured pace (answers per ms) starts, after
 * its backlog, before the window closes.
 */
function inlineCount(progress: LaneProgress, count: number, windowLeftMs: number, floor: number): number {
  if (!progress.open || windowLeftMs <= 0) return 0;
  const unmeasured = floor - progress.leased;
  const measured =
    progress.answered > 0 && progress.sendingForMs > 0
      ? Math.floor((windowLeftMs * progress.answered) / progress.sendingForMs) - progress.backlog
      : 0;
  return Math.max(0, Math.min(count, Math.max(unmeasured, measured)));
}

/** Adds `tally`'s failures into `failures` (in place). */
function addFailures(failures: Record<string, number>, tally: OutcomeTally): void {
  for (const [reason, count] of Object.entries(tally.failures)) failures[reason] = (failures[reason] ?? 0) + count;
}

export type { LaneProgress, OutcomeTally, Planned };
export { addFailures, firstState, inlineCount, isTakeover, markerAdvances, tallyOutcomes };
