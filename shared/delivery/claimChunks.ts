import { mapLimited, sleep } from '../async';
import {
  DeliveryStatus,
  STORE_ANSWER_RESERVE_MS,
  WEBHOOK_ANSWER_RESERVE_MS,
  WEBHOOK_CLAIM_CHUNK,
  WEBHOOK_CLAIMS_IN_FLIGHT,
  WEBHOOK_INLINE_FLOOR_PER_KEY,
} from '../constants';
import type { Logger } from '../logger';
import type { CounterDelta } from '../store/Counters';
import type { DeliveryRecord } from '../store/DeliveryRecord';
import type { ClaimedWith } from '../store/DeliveryStore';
import type { OccurrenceMarker } from '../store/OccurrenceMarker';
import type { DeliverDeps, DeliverySummary } from './CallbackDelivery';
import { addFailures, inlineCount, isTakeover, markerAdvances, type Planned, tallyOutcomes } from './deliveryRules';
import { failOpen } from './failOpen';
import { keyIdOf, laneIdOf } from './keyIdOf';
import { RESOLVED_BEFORE_DELIVERY } from './ordering';
import type { OrderingContext } from './orderingContext';
import type { RouteChoice } from './Router';
import { readOlderResolves, recheckCounterparts, recheckOlderResolves } from './recheckClaimed';
import { recordOutcomes } from './recordOutcomes';
import { resolveWaitUntil } from './resolveWait';
import { type LaneResult, sendLane } from './sendLane';
import type { SendOutcome } from './sendRecord';
import { markPending, markSuperseded, unleased } from './transitions';
import { recordUnmatchedResolve } from './unmatchedResolve';
import { WebhookLanes } from './webhookLanes';

/**
 * Claims `planned` chunk by chunk (`WEBHOOK_CLAIM_CHUNK`, one BatchWriteRow each) and hands each chunk to the lanes as
 * soon as it is claimed and checked, while the next one is claimed: every delivery is stored before it is sent, and
 * all are stored before the answer. Each chunk's deliveries of a key are leased to this invocation only while its send
 * window can still start them (`inlineCount`); the rest is claimed queued for the relay.
 */
async function deliverInChunks(
  planned: Planned[],
  deps: DeliverDeps,
  context: OrderingContext,
  summary: DeliverySummary,
  now: number,
): Promise<void> {
  const { store, logger, config } = deps;
  // This invocation's view of the gate: the sends its claims take in advance are its own (`KeyGate.prepare`).
  const gate = deps.gate.forInvocation();
  // The counters ride on the last outcome slice: every chunk claimed, every delivery fed to a lane recorded with it.
  let claimsDone = false;
  let fed = 0;
  let recorded = 0;
  const countersFor = (slice: number) => {
    recorded += slice;
    const last = claimsDone && !storeDown && failingOpen.length === 0 && recorded === fed;
    if (!last || deps.activity === undefined || deps.activity.carried) return undefined;
    deps.activity.carried = true;
    return { delta: deps.activity.delta(summary), ttlSeconds: deps.activity.ttlSeconds };
  };
  const lanes = new WebhookLanes(
    (route, feed) => startLane(route, feed, { ...deps, gate }, summary, countersFor),
    deps.now ?? Date.now,
  );
  const windowLeftMs = () => deps.deadline.remainingMs() - WEBHOOK_ANSWER_RESERVE_MS - config.pagerduty.timeoutMs;
  const failingOpen: Promise<unknown>[] = [];
  const unsent: DeliveryRecord[] = [];
  const unmatchedResolves: Planned[] = [];
  // The dry-run events of every chunk, logged in one line once the claims end.
  const dryRun: DeliveryRecord[] = [];
  let storeDown = false;

  // The versions of the markers this invocation wrote, so a later chunk's advance of the same identity builds on them.
  const markers = new Map(context.markers);
  // This invocation's own deliveries: its lanes send an identity's events one at a time, the older occurrence first.
  const own = new Set(planned.map((item) => item.record.deliveryKey));
  const chunks: Planned[][] = [];
  for (let start = 0; start < planned.length; start += WEBHOOK_CLAIM_CHUNK) {
    chunks.push(planned.slice(start, start + WEBHOOK_CLAIM_CHUNK));
  }
  const claimChunk = async (slice: Planned[]) => {
    const { chunk, reserved } = inlineShare(slice, lanes, windowLeftMs(), now);
    try {
      await claimAndFeed(chunk);
    } finally {
      for (const [route, count] of reserved) lanes.release(route, count);
    }
  };
  const claimAndFeed = async (chunk: Planned[]) => {
    let claimed: Planned[] = [];
    let failed: Planned[] = chunk;
    if (!storeDown) {
      try {
        ({ claimed, failed } = await claimPlanned(chunk, { ...deps, gate }, markers, now));
      } catch (error) {
        // This chunk and the ones not yet claimed go out fail open; the chunks claimed already are sent (or queued)
        // once.
        logger.error('delivery store unavailable: sending straight to PagerDuty (fail open)', { error });
        storeDown = true;
      }
    }
    summary.duplicates += chunk.length - claimed.length - failed.length;
    if (failed.length > 0) {
      // Only the rows whose write failed go out fail open: the claimed ones are the relay's if this invocation stops.
      logger.error('some claims failed: sending those deliveries straight to PagerDuty (fail open)', {
        count: failed.length,
      });
      summary.degraded = 'store-unavailable';
      failingOpen.push(failOpen(failed, deps, summary));
    }
    if (claimed.length === 0) return;
    const checked = await checkClaimed(claimed, deps, context, own, now);
    unsent.push(...checked.waiting);
    const final = tallyFinal(claimed, summary, logger, dryRun);
    unmatchedResolves.push(...final.unmatchedResolves);
    if (checked.held) {
      // Unsure whether a counterpart appeared: send nothing of this chunk now; the relay judges these rows again.
      const held = final.toSend.map((item) => item.record);
      summary.queued += held.length;
      unsent.push(...held);
      return;
    }
    fed += final.toSend.length;
    lanes.feed(final.toSend);
  };
  try {
    await mapLimited(chunks, WEBHOOK_CLAIMS_IN_FLIGHT, claimChunk);
    claimsDone = true;
  } finally {
    lanes.close();
    logDryRun(dryRun, logger);
  }

  // From here on every claimed row exists: a store failure only leaves rows to the relay (after their lease).
  store.useDeadline(deps.deadline.reserving(STORE_ANSWER_RESERVE_MS));
  const [left] = await Promise.all([lanes.finish(), ...failingOpen]);
  await gate.returnHeld();
  summary.queued += left.length;
  unsent.push(...left);
  if (unsent.length > 0) {
    try {
      await store.replaceMany(
        unsent.map((record) => (record.status === DeliveryStatus.SENDING ? markPending(record, now) : record)),
      );
    } catch (error) {
      // Still SENDING with a lease: the relay takes them over when it ends.
      logger.error('could not queue the deliveries left for the relay; it takes them over after their lease', {
        error,
      });
    }
  }
  for (const { record, route } of unmatchedResolves) {
    const timeoutMs = deps.deadline.callTimeoutMs(config.pagerduty.timeoutMs);
    await recordUnmatchedResolve(record, route, { config, logger, timeoutMs, now });
  }
}

/**
 * The chunk as it is claimed: as many of a key's deliveries leased to this invocation (SENDING) as `inlineCount` says
 * its lane can still start in the window, the rest queued for the relay (PENDING, due now): one write per delivery
 * either way, never a lease and then a second write to queue what was never going to be sent inline. Returns the
 * leases reserved per lane (released once the chunk is claimed).
 */
function inlineShare(
  chunk: Planned[],
  lanes: WebhookLanes,
  windowLeftMs: number,
  now: number,
): { chunk: Planned[]; reserved: Map<RouteChoice, number> } {
  const wanted = new Map<string, { route: RouteChoice; count: number }>();
  for (const item of chunk) {
    if (item.record.status !== DeliveryStatus.SENDING) continue;
    const lane = laneIdOf(item.route);
    const entry = wanted.get(lane) ?? { route: item.route, count: 0 };
    entry.count++;
    wanted.set(lane, entry);
  }
  const allowed = new Map<string, number>();
  const reserved = new Map<RouteChoice, number>();
  for (const [lane, { route, count }] of wanted) {
    const inline = inlineCount(lanes.progressOf(route), count, windowLeftMs, WEBHOOK_INLINE_FLOOR_PER_KEY);
    allowed.set(lane, inline);
    lanes.reserve(route, inline);
    reserved.set(route, inline);
  }
  const shared = chunk.map((item) => {
    if (item.record.status !== DeliveryStatus.SENDING) return item;
    const lane = laneIdOf(item.route);
    const left = allowed.get(lane) ?? 0;
    if (left > 0) {
      allowed.set(lane, left - 1);
      return item;
    }
    return { ...item, record: unleased(item.record, now) };
  });
  return { chunk: shared, reserved };
}

/**
 * After a chunk's claim (its occurrence markers advanced in the same write: `claimPlanned`): check its deliveries
 * again against counterparts claimed meanwhile by another instance, and stop the triggers its resolves overtake.
 * Returns the rows whose state changed (to be written), and `held` when the check itself failed (then nothing of the
 * chunk is sent now).
 */
async function checkClaimed(
  claimed: Planned[],
  deps: DeliverDeps,
  context: OrderingContext,
  own: ReadonlySet<string>,
  now: number,
): Promise<{ waiting: DeliveryRecord[]; held: boolean }> {
  const { logger } = deps;
  // Both rechecks' reads at once: the claim wrote this chunk's rows and markers, which is all either waits for (the
  // older resolve finds this trigger through the marker: read after the marker write, never beside it).
  const olderResolves = readOlderResolves(claimed, deps, context, own);
  olderResolves.catch(() => undefined); // its failure is handled where it is awaited, below
  let changed: DeliveryRecord[];
  try {
    changed = await recheckCounterparts(claimed, deps, context, own, now);
  } catch (error) {
    // Unsure whether a counterpart appeared: the relay judges these rows again (queued now if the store takes the
    // write, else after their lease).
    logger.warn('could not check counterparts again; the claimed deliveries wait for the relay', { error });
    return { waiting: [], held: true };
  }
  try {
    await recheckOlderResolves(claimed, deps, context, own, now, olderResolves);
  } catch (error) {
    logger.warn('could not check the older resolves again; the claimed deliveries wait for the relay', { error });
    return { waiting: changed, held: true };
  }
  const waiting = [...changed, ...(await stopOvertakenTriggers(claimed, deps, now))];
  return { waiting, held: false };
}

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

/**
 * Stops the triggers these resolves overtake BEFORE sending anything: a relay run may be about to send one. When a
 * stop loses its compare-and-set, the trigger is being sent right now: the resolve then waits for it (returned, to be
 * written as queued).
 */
async function stopOvertakenTriggers(claimed: Planned[], deps: DeliverDeps, now: number): Promise<DeliveryRecord[]> {
  const stopping = claimed.filter((item) => item.stopTrigger !== undefined);
  if (stopping.length === 0) return [];
  const stops = stopping.map((item) =>
    markSuperseded(item.stopTrigger as DeliveryRecord, now, 'its resolve arrived first'),
  );
  let won: boolean[] = [];
  try {
    won = await deps.store.replaceMany(stops);
  } catch (error) {
    deps.logger.warn('could not stop the triggers overtaken by their resolves; the resolves wait for the relay', {
      error,
    });
  }
  const waiting: DeliveryRecord[] = [];
  stopping.forEach((item, index) => {
    if (won[index]) return;
    const leaseUntil = now + deps.config.store.leaseSeconds * 1000;
    item.record = markPending(item.record, now, resolveWaitUntil(leaseUntil, now));
    waiting.push(item.record);
  });
  return waiting;
}

/**
 * Counts the claimed rows that are final or queued (one log line per kind; the dry-run ones are collected in `dryRun`
 * for the callback's one line), and returns those to send now.
 */
function tallyFinal(claimed: Planned[], summary: DeliverySummary, logger: Logger, dryRun: DeliveryRecord[]) {
  const toSend: Planned[] = [];
  const unmatchedResolves: Planned[] = [];
  const superseded: DeliveryRecord[] = [];
  for (const item of claimed) {
    const { record } = item;
    switch (record.status) {
      case DeliveryStatus.DRY_RUN:
        summary.dryRun++;
        dryRun.push(record);
        break;
      case DeliveryStatus.DEAD:
        summary.failed++;
        logger.error('delivery cannot be sent', { deliveryKey: record.deliveryKey, reason: record.lastError });
        break;
      case DeliveryStatus.SUPERSEDED:
        summary.superseded++;
        superseded.push(record);
        if (record.lastError === RESOLVED_BEFORE_DELIVERY) unmatchedResolves.push(item);
        break;
      case DeliveryStatus.PENDING:
        summary.queued++;
        break;
      default:
        toSend.push(item);
    }
  }
  if (superseded.length > 0) {
    logger.info('not sent: out of order', {
      deliveries: superseded.map((record) => ({ deliveryKey: record.deliveryKey, reason: record.lastError })),
    });
  }
  return { toSend, unmatchedResolves };
}

/** The callback's one dry-run line: the events it would have sent (data the callback made: not scanned for secrets). */
function logDryRun(records: readonly DeliveryRecord[], logger: Logger): void {
  if (records.length === 0) return;
  const events = records.map((record) => ({
    deliveryKey: record.deliveryKey,
    route: record.routeName,
    event: record.event,
  }));
  logger.info('dry-run: events stored, not sent', undefined, { events });
}

/**
 * Starts one routing key's lane (`sendLane.ts`), fed by `WebhookLanes`: through the key's gate without waiting for it
 * (ARMS waits 5 s at most, and a storm would hold every callback to the deadline); what the gate or the deadline
 * refuses is queued for the relay, which the webhook kicks.
 */
function startLane(
  route: RouteChoice,
  feed: { more: () => Promise<readonly DeliveryRecord[] | undefined>; started: () => void; answered: () => void },
  deps: DeliverDeps,
  summary: DeliverySummary,
  countersFor: (slice: number) => { delta: CounterDelta; ttlSeconds: number } | undefined,
): Promise<LaneResult> {
  const { config, logger, store, deadline, gate } = deps;
  const clock = deps.now ?? Date.now;
  const tally = (outcomes: SendOutcome[]) => {
    const counted = tallyOutcomes(outcomes);
    summary.delivered += counted.delivered;
    summary.failed += counted.dead;
    summary.queued += counted.queued;
    addFailures(summary.failures, counted);
  };
  return sendLane([], {
    keyId: route.routingKey === undefined ? undefined : keyIdOf(route.routingKey),
    routingKey: route.routingKey,
    route: route.name,
    gate,
    deadline,
    sendTimeoutMs: config.pagerduty.timeoutMs,
    reserveMs: WEBHOOK_ANSWER_RESERVE_MS,
    wait: false,
    send: async (record, probe) => {
      feed.started();
      try {
        return await deps.send(record, route.routingKey, { config, logger, probe, now: deps.now });
      } finally {
        feed.answered();
      }
    },
    record: async (outcomes) => {
      tally(outcomes);
      const counters = countersFor(outcomes.length);
      return (await recordOutcomes(outcomes, store, logger, clock, { counters })) !== undefined;
    },
    sleep,
    now: clock,
    more: feed.more,
  });
}

export { deliverInChunks };
