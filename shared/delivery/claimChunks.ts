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
import type { DeliverDeps, DeliverySummary } from './CallbackDelivery';
import { claimPlanned } from './claimPlanned';
import { addFailures, inlineCount, type Planned, tallyOutcomes } from './deliveryRules';
import { failOpen } from './failOpen';
import { keyIdOf, laneIdOf } from './keyIdOf';
import { RESOLVED_BEFORE_DELIVERY } from './ordering';
import type { OrderingContext } from './orderingContext';
import type { RouteChoice } from './Router';
import { checkClaimed } from './recheckClaimed';
import { recordOutcomes } from './recordOutcomes';
import { type LaneResult, sendLane } from './sendLane';
import type { SendOutcome } from './sendRecord';
import { markPending, unleased } from './transitions';
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
