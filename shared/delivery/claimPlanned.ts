/**
 * What the webhook's claim of one chunk writes, in one BatchWriteRow on Tablestore: the delivery rows with their due
 * entries, the occurrence markers they advance, and each routing key's first block of sends (`KeyGate.prepare`). A
 * finished delivery past its dedup window is taken over by compare-and-set instead.
 */

import { DeliveryStatus } from '../constants';
import type { ClaimedWith } from '../store/DeliveryStore';
import type { OccurrenceMarker } from '../store/OccurrenceMarker';
import type { DeliverDeps } from './CallbackDelivery';
import { isTakeover, markerAdvances, type Planned } from './deliveryRules';
import { keyIdOf } from './keyIdOf';

/**
 * Claims the planned rows; a finished delivery older than the dedup window is taken over (by CAS) instead. Returns the
 * rows claimed and the rows whose own write failed (each row stands alone: those go out fail open, the rest not).
 *
 * The occurrence markers the rows advance are written in the claim's own write (one round trip), each on its own:
 * `markers` gets the versions written (a later chunk's advance of the same identity builds on them); one that fails
 * is a warning. A marker may so advance for a row whose claim loses or fails, which is safe: a lost claim is a
 * duplicate of the same occurrence (its row exists, and its claimer advances the marker to the same value); a failed
 * claim goes out fail open, and the marker then truly names the newest occurrence seen (an older trigger is
 * superseded; an older resolve finds no newer trigger's row, so it is sent, as it would be without the marker). Its
 * row and its marker may land in either order: a resolve that sees the marker without the trigger's row is sent, and
 * the trigger, whose recheck of that resolve (`recheckOlderResolves`) reads after both landed, finds it on the wire
 * and waits for it. The rows claimed queued behind an older resolve (`behindOlderResolve`) advance nothing.
 */
async function claimPlanned(
  planned: Planned[],
  deps: DeliverDeps,
  markers: Map<string, OccurrenceMarker>,
  now: number,
): Promise<{ claimed: Planned[]; failed: Planned[] }> {
  const { store, config, logger } = deps;
  const advances = markerAdvances(
    planned.filter((item) => item.behindOlderResolve !== true).map((item) => item.record),
    markers,
    config.store.ttlSeconds * 1000,
    now,
  );
  // The chunk's first block of sends per key, taken in the claim's own write (no gate round trip before the send).
  const keyStates = sendsWanted(planned).flatMap(([keyId, wanted]) => deps.gate.prepare(keyId, wanted) ?? []);
  let result: ClaimedWith;
  try {
    result = await store.claimWithMarkers(
      planned.map((item) => item.record),
      advances,
      keyStates,
    );
  } catch (error) {
    for (const state of keyStates) deps.gate.prepared(state.keyId, false);
    throw error;
  }
  keyStates.forEach((state, index) => {
    deps.gate.prepared(state.keyId, result.keyStates[index] === true);
  });
  if ('keyStatesError' in result) logger.warn('could not take sends in the claim', { error: result.keyStatesError });
  const outcomes = result.claims;
  advances.forEach((marker, index) => {
    if (result.markers[index]) markers.set(marker.dedupKey, marker);
  });
  // Ordering stays safe: each delivery is judged again against its counterpart before any send.
  if ('markersError' in result) logger.warn('could not advance occurrence markers', { error: result.markersError });
  const claimed = planned.filter((_, index) => outcomes[index]?.claimed === true);
  const failed = planned.filter((_, index) => {
    const outcome = outcomes[index];
    return outcome !== undefined && !outcome.claimed && 'failed' in outcome;
  });
  const windowMs = config.store.dedupWindowSeconds * 1000;
  const takeovers = planned.flatMap((item, index) => {
    const outcome = outcomes[index];
    if (outcome === undefined || outcome.claimed || !('existing' in outcome)) return [];
    if (!isTakeover(outcome.existing, windowMs, now)) return [];
    return [{ ...item, record: { ...item.record, version: outcome.existing.version + 1 } }];
  });
  if (takeovers.length > 0) {
    const won = await store.replaceMany(takeovers.map((item) => item.record));
    claimed.push(...takeovers.filter((_, index) => won[index]));
  }
  return { claimed, failed };
}

/** The sends each routing key's lane will ask for first: the chunk's deliveries leased to this invocation, per key. */
function sendsWanted(planned: readonly Planned[]): [string, number][] {
  const wanted = new Map<string, number>();
  for (const { record, route } of planned) {
    if (record.status !== DeliveryStatus.SENDING || route.routingKey === undefined) continue;
    const keyId = keyIdOf(route.routingKey);
    wanted.set(keyId, (wanted.get(keyId) ?? 0) + 1);
  }
  return [...wanted];
}

export { claimPlanned };
