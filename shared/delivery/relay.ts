/**
 * The relay: drains due deliveries (PENDING/RETRY whose time has come, SENDING whose lease expired), one lane per
 * routing key, until nothing is due or its deadline comes. Per pass:
 *
 * 1. read up to `RELAY_BATCH` due rows and what ordering needs for them (`orderingContext.ts`: fixed reads);
 * 2. per key, take the key's drain lease (`KeyGate`): at most one relay drains a key at a time, so relays never race
 *    for rows; a key another relay drains is left to it;
 * 3. judge each row (`ordering.ts`) and write the rows that are not to be sent (superseded, deferred) in one batch;
 * 4. send the rest through the key's gate (`sendLane.ts`): leases and outcomes written in batches, several sends in
 *    flight, the shared budget and the circuit honoured, waiting for the gate inside the deadline.
 *
 * When nothing is due, a delivery due within `RESOLVE_RECHECK_MS` that the run has not judged (a resolve a webhook held
 * behind a trigger this relay was sending) is waited for, inside the deadline.
 *
 * A run that stops with due work left says so (`more`, and `resumeAt` when a key's gate opens only after this run's
 * deadline): delivery-health then starts the next run at once when that run can act, so a backlog of N at rate R
 * drains in about N / R with no pause between runs. The timer stays the backstop.
 */
import { sleep as defaultSleep } from '../async';
import { DeliveryStatus, EventAction, RESOLVE_RECHECK_MS } from '../constants';
import type { Logger } from '../logger';
import type { DeliveryRecord } from '../store/DeliveryRecord';
import { dueTimeOf } from '../store/storeRules';
import type { DeliverDeps } from './CallbackDelivery';
import type { DeliveryCounts } from './DeliveryCounts';
import { addFailures, markerAdvances, tallyOutcomes } from './deliveryRules';
import { keyIdOf, laneIdOf } from './keyIdOf';
import { mayBeStale, olderResolveKeyOf, orderVerdict, RESOLVED_BEFORE_DELIVERY } from './ordering';
import { judge, loadOrderingContext, type OrderingContext, readNewerTriggers } from './orderingContext';
import type { RouteChoice, Router } from './Router';
import { recordOutcomes } from './recordOutcomes';
import { relayBlockMax } from './relayBlock';
import { resolveWaitUntil } from './resolveWait';
import { sendLane } from './sendLane';
import type { SendOutcome } from './sendRecord';
import { markPending, markSending, markSuperseded } from './transitions';
import { recordUnmatchedResolve } from './unmatchedResolve';

/** Most due deliveries read per pass. */
const RELAY_BATCH = 1_000;

/** What one run did with the due rows. */
interface RelayResult extends DeliveryCounts {
  due: number;
  attempted: number;
  retrying: number;
  dead: number;
  /** Resolves waiting for their trigger's send to finish. */
  waiting: number;
  /** Taken by someone else between the read and the write. */
  lostRaces: number;
  /** Left for the next run: out of time, paced, circuit open, or drained by another relay. */
  deferred: number;
  /** Routing keys PagerDuty rate-limited during the run. */
  rateLimitedKeys: number;
  /** Passes over the due rows. */
  passes: number;
  /** Due work was left: the next run should follow (at once, or to wait for `resumeAt`). */
  more: boolean;
  /** The earliest time a key's gate opens again for the work left (epoch ms), when a lane stopped for it. */
  resumeAt?: number;
}

/** The webhook's dependencies (`DeliverDeps`, less its fail-open traces), plus a sleep: the relay waits for the gate. */
interface RelayDeps extends Omit<DeliverDeps, 'traces'> {
  sleep?: (ms: number) => Promise<void>;
}

/** The route a delivery is sent with: the one recorded with it while it exists, else the fallback route. */
function routeOf(record: DeliveryRecord, router: Router, logger: Logger): RouteChoice | undefined {
  const route = router.byName(record.routeName);
  if (route !== undefined) return route;
  logger.warn('recorded route no longer exists; using the default route', { route: record.routeName });
  return router.byName('default');
}

function emptyResult(): RelayResult {
  return {
    due: 0,
    attempted: 0,
    delivered: 0,
    retrying: 0,
    dead: 0,
    superseded: 0,
    waiting: 0,
    lostRaces: 0,
    deferred: 0,
    rateLimitedKeys: 0,
    failures: {},
    passes: 0,
    more: false,
  };
}

interface Lane {
  route: RouteChoice | undefined;
  keyId: string | undefined;
  records: DeliveryRecord[];
}

async function relayDue(deps: RelayDeps): Promise<RelayResult> {
  const { config, store, deadline } = deps;
  const now = deps.now ?? Date.now;
  const result = emptyResult();
  const seen = new Set<string>();
  /** Deliveries judged in this run (any version). */
  const judged = new Set<string>();
  /** Deliveries waited for once already (each is waited for at most once). */
  const waited = new Set<string>();
  // Keep passing while there is time for a send and the last pass found something it could act on.
  while (deadline.remainingMs() > config.pagerduty.timeoutMs) {
    const due = (await store.listDue(RELAY_BATCH)).filter(
      (record) => !seen.has(`${record.deliveryKey}@${record.version}`),
    );
    if (due.length === 0) {
      // Only a run that sent can have a resolve held behind its trigger: an idle run ends without the look-ahead read.
      if (result.attempted === 0) break;
      const soon = (await store.listDue(RELAY_BATCH, RESOLVE_RECHECK_MS)).filter(
        (record) => !judged.has(record.deliveryKey) && !waited.has(record.deliveryKey),
      );
      const waitMs = soonestWait(soon, now());
      if (waitMs === undefined || deadline.remainingMs() - waitMs <= config.pagerduty.timeoutMs) break;
      for (const record of soon) waited.add(record.deliveryKey);
      await (deps.sleep ?? defaultSleep)(waitMs);
      continue;
    }
    result.passes++;
    result.due += due.length;
    for (const record of due) {
      seen.add(`${record.deliveryKey}@${record.version}`);
      judged.add(record.deliveryKey);
    }
    const progressed = await relayPass(due, deps, result);
    if (!progressed) break;
  }
  if (!result.more && deadline.remainingMs() <= config.pagerduty.timeoutMs) {
    // Out of time between passes: is anything still due? One cheap read decides whether the next run starts at once.
    result.more = (await store.listDue(1)).length > 0;
  }
  return result;
}

/**
 * How long to wait for the first of `soon` (deliveries due within `RESOLVE_RECHECK_MS` that this run has not judged: a
 * resolve a webhook held behind a trigger this relay was sending, or a short retry), at most the recheck; undefined
 * when there is none. The relay records its triggers without reading their resolves (`recordOutcomes`), so this wait
 * is what sends such a resolve within its recheck; rows this run judged already are left to the next run.
 */
function soonestWait(soon: readonly DeliveryRecord[], now: number): number | undefined {
  if (soon.length === 0) return undefined;
  const first = Math.min(...soon.map((record) => dueTimeOf(record) ?? now));
  return Math.min(RESOLVE_RECHECK_MS, Math.max(1, first - now));
}

/** One pass over `due`; true when it sent or settled anything (another pass may find more). */
async function relayPass(due: DeliveryRecord[], deps: RelayDeps, result: RelayResult): Promise<boolean> {
  const { router, store, logger, gate, config, deadline } = deps;
  const now = deps.now ?? Date.now;
  const context = await loadOrderingContext(store, due);
  const lanes = new Map<string, Lane>();
  for (const record of due) {
    const route = routeOf(record, router, logger);
    const keyId = route?.routingKey === undefined ? undefined : keyIdOf(route.routingKey);
    const laneId = laneIdOf(route, record.routeName);
    const lane = lanes.get(laneId) ?? { route, keyId, records: [] };
    lane.records.push(record);
    lanes.set(laneId, lane);
  }
  const before = result.attempted + result.superseded + result.waiting + result.dead;
  const drainLeaseMs = deadline.remainingMs() + config.store.leaseSeconds * 1000;
  await Promise.all(
    [...lanes.values()].map(async (lane) => {
      if (lane.keyId !== undefined && !(await gate.leaseDrain(lane.keyId, drainLeaseMs))) {
        result.deferred += lane.records.length;
        return;
      }
      try {
        await drainLane(lane, context, deps, result, now);
      } finally {
        if (lane.keyId !== undefined) await gate.releaseDrain(lane.keyId);
      }
    }),
  );
  return result.attempted + result.superseded + result.waiting + result.dead > before;
}

async function drainLane(
  lane: Lane,
  context: OrderingContext,
  deps: RelayDeps,
  result: RelayResult,
  now: () => number,
): Promise<void> {
  const { config, store, logger, deadline, gate, router } = deps;
  // Judge every row first; what is not to be sent is settled in one batch write.
  const settle: DeliveryRecord[] = [];
  const stops: DeliveryRecord[] = [];
  const sendable: DeliveryRecord[] = [];
  const lone: DeliveryRecord[] = [];
  for (const record of lane.records) {
    const { verdict, counterpart } = judge(record, context, now());
    // Later rows of the lane are judged against what this pass is about to write (a trigger superseded just above).
    const stop = (trigger: DeliveryRecord) => {
      const stopped = markSuperseded(trigger, now(), 'its resolve arrived first');
      stops.push(stopped);
      context.related.set(trigger.deliveryKey, stopped);
    };
    if (verdict.kind === 'supersede') {
      const superseded = markSuperseded(record, now(), verdict.reason);
      settle.push(superseded);
      context.related.set(record.deliveryKey, superseded);
      if (verdict.reason === RESOLVED_BEFORE_DELIVERY) lone.push(record);
      if (verdict.supersedeTrigger && counterpart !== undefined) stop(counterpart);
    } else if (verdict.kind === 'defer') {
      settle.push(markPending(record, now(), resolveWaitUntil(verdict.until, now())));
    } else {
      if (verdict.stopTrigger && counterpart !== undefined) stop(counterpart);
      sendable.push(record);
    }
  }
  // A trigger settled above needs no stop from its resolve.
  const settling = new Set(settle.map((record) => record.deliveryKey));
  for (let index = stops.length - 1; index >= 0; index--) {
    if (settling.has((stops[index] as DeliveryRecord).deliveryKey)) stops.splice(index, 1);
  }
  // Stops first: a trigger another relay may be about to send. A stop that loses its race means the trigger is being
  // sent right now: its resolve then waits for it instead of going out.
  if (stops.length > 0) {
    const won = await store.replaceMany(stops);
    stops.forEach((stop, index) => {
      if (won[index]) {
        context.related.set(stop.deliveryKey, stop);
        return;
      }
      const resolveIndex = sendable.findIndex(
        (record) =>
          record.deliveryKey !== stop.deliveryKey &&
          record.dedupKey === stop.dedupKey &&
          record.occurrence === stop.occurrence,
      );
      const resolve = sendable[resolveIndex];
      if (resolve === undefined) return;
      sendable.splice(resolveIndex, 1);
      settle.push(markPending(resolve, now(), resolveWaitUntil(now() + config.store.leaseSeconds * 1000, now())));
    });
  }
  if (settle.length > 0) {
    countSettled(settle, await store.replaceMany(settle), result, context, logger);
  }
  for (const record of lone) {
    const timeoutMs = deadline.callTimeoutMs(config.pagerduty.timeoutMs);
    await recordUnmatchedResolve(record, routeOf(record, router, logger), { config, logger, timeoutMs, now: now() });
  }
  if (sendable.length === 0) return;

  const leaseMs = config.store.leaseSeconds * 1000;
  // This lane's own rows: `sendLane` sends an identity's events one at a time, the older occurrence first.
  const drained = new Set(lane.records.map((record) => record.deliveryKey));
  const blockMax = relayBlockMax(leaseMs, config.pagerduty.timeoutMs);
  const laneResult = await sendLane(sendable, {
    keyId: lane.keyId,
    routingKey: lane.route?.routingKey,
    route: lane.route?.name ?? sendable[0]?.routeName ?? 'default',
    // Blocks as large as one lease write and the lease allow: a block costs one gate write and one lease write.
    gate: gate.withBlockMax(blockMax),
    deadline,
    sendTimeoutMs: config.pagerduty.timeoutMs,
    reserveMs: 0,
    wait: true,
    send: (record, probe) => deps.send(record, lane.route?.routingKey, { config, logger, probe, now }),
    lease: async (block) => {
      const leased = block.map((record) =>
        record.status === DeliveryStatus.SENDING && (record.leaseUntil ?? 0) > now()
          ? record
          : markSending(record, now(), leaseMs),
      );
      const fresh = leased.filter((record, index) => record !== block[index]);
      const { won, failed } = await leaseRows(fresh, store);
      const lost = new Set(fresh.filter((_, index) => !won[index]).map((record) => record.deliveryKey));
      if (failed) {
        // Rows the store could not lease stay due as they were: the next run (at once) takes them.
        logger.warn('could not lease every row of a block; the rest follows in the next run', { count: lost.size });
        result.deferred += lost.size;
        result.more = true;
      } else result.lostRaces += lost.size;
      const ours = leased.filter((record) => !lost.has(record.deliveryKey));
      return recheckOccurrences(ours, drained, context, deps, result);
    },
    record: (outcomes) => recordSlice(outcomes, deps, result, context),
    // Slices of a whole block: one write per block; what a crash re-sends is in docs/delivery.md, "Crash cost".
    sliceSize: blockMax,
    sleep: deps.sleep ?? defaultSleep,
    now,
  });
  // Rows leased and then not sent (deadline, circuit): queued again at once, not left to their lease.
  const leasedUnsent = laneResult.unsent.filter((record) => record.status === DeliveryStatus.SENDING);
  if (leasedUnsent.length > 0) await store.replaceMany(leasedUnsent.map((record) => markPending(record, now())));
  result.deferred += laneResult.unsent.length;
  // Left for lack of time, budget or a closed circuit: the next run should go on at once.
  if (laneResult.unsent.length > 0) result.more = true;
  if (laneResult.resumeAt !== undefined)
    result.resumeAt = Math.min(result.resumeAt ?? laneResult.resumeAt, laneResult.resumeAt);
  if (laneResult.rateLimited) result.rateLimitedKeys++;
}

/**
 * After a block's lease write, the relay's half of the older-resolve/newer-trigger recheck (the webhook's is in
 * `recheckClaimed.ts`, `recheckOlderResolves`, with the interleavings). A trigger newer than its identity's marker (one
 * that waited behind the older occurrence's resolve: the webhook left the marker for it) advances the marker, then reads
 * that resolve again: on the wire under another sender's live lease, the trigger waits for that lease to end. A
 * per-alert resolve reads its identity's marker and the newer trigger it names: if that trigger may have landed, the
 * resolve is superseded. Rows of this lane's own are skipped (`drained`). Reads only for the blocks that hold such rows
 * (one read per block of resolves). Returns the rows still to send; when the recheck cannot be made, the rows that
 * needed it stay leased (the relay takes them over after the lease).
 */
async function recheckOccurrences(
  leased: DeliveryRecord[],
  drained: ReadonlySet<string>,
  context: OrderingContext,
  deps: RelayDeps,
  result: RelayResult,
): Promise<DeliveryRecord[]> {
  const { store, logger, config } = deps;
  const at = (deps.now ?? Date.now)();
  const triggers = leased.filter((record) => olderResolveKeyOf(record, context.markers.get(record.dedupKey)));
  const resolves = leased.filter(mayBeStale);
  if (triggers.length === 0 && resolves.length === 0) return leased;
  const olderKeys = new Map<string, string>();
  for (const record of triggers) {
    const key = olderResolveKeyOf(record, context.markers.get(record.dedupKey)) as string;
    if (!drained.has(key)) olderKeys.set(record.deliveryKey, key);
  }
  const olderResolves = async () => {
    // The marker first: the older resolve finds this trigger through it.
    const advances = markerAdvances(triggers, context.markers, config.store.ttlSeconds * 1000, at);
    const written = await store.putMarkers(advances);
    advances.forEach((marker, index) => {
      if (written[index]) context.markers.set(marker.dedupKey, marker);
    });
    return olderKeys.size === 0 ? new Map<string, DeliveryRecord>() : store.get([...new Set(olderKeys.values())]);
  };
  let older: Map<string, DeliveryRecord>;
  let newer: Awaited<ReturnType<typeof readNewerTriggers>>;
  try {
    [older, newer] = await Promise.all([olderResolves(), readNewerTriggers(store, resolves, drained)]);
  } catch (error) {
    const unsure = new Set([...triggers, ...resolves].map((record) => record.deliveryKey));
    logger.warn('could not check the other occurrence again; those rows follow after their lease', {
      error,
      count: unsure.size,
    });
    result.deferred += unsure.size;
    result.more = true;
    return leased.filter((record) => !unsure.has(record.deliveryKey));
  }
  const settle: DeliveryRecord[] = [];
  for (const record of leased) {
    const olderKey = olderKeys.get(record.deliveryKey);
    const marker = newer.markers.get(record.dedupKey);
    const newerKey = newer.keys.get(record.deliveryKey);
    // Only the other occurrence is judged again here; the counterpart was judged before the lease.
    const verdict = orderVerdict({
      ...record,
      marker: record.action === EventAction.RESOLVE ? marker : undefined,
      olderResolve: olderKey === undefined ? undefined : older.get(olderKey),
      newerTrigger: newerKey === undefined ? undefined : newer.rows.get(newerKey),
      now: at,
    });
    if (verdict.kind === 'supersede') settle.push(markSuperseded(record, at, verdict.reason, false));
    else if (verdict.kind === 'defer') settle.push(markPending(record, at, verdict.until));
  }
  if (settle.length === 0) return leased;
  const settled = new Set(settle.map((record) => record.deliveryKey));
  let won: boolean[];
  try {
    won = await store.replaceMany(settle);
  } catch (error) {
    // Not sent either way: they stay leased, and the relay judges them again after the lease.
    logger.warn('could not settle the rows the other occurrence holds back; they follow after their lease', { error });
    result.deferred += settle.length;
    result.more = true;
    return leased.filter((record) => !settled.has(record.deliveryKey));
  }
  countSettled(settle, won, result, context, logger);
  return leased.filter((record) => !settled.has(record.deliveryKey));
}

/** Counts the rows the ordering settled without a send (superseded, or queued behind the other half) as written. */
function countSettled(
  settle: readonly DeliveryRecord[],
  won: readonly boolean[],
  result: RelayResult,
  context: OrderingContext,
  logger: Logger,
): void {
  settle.forEach((record, index) => {
    if (!won[index]) result.lostRaces++;
    else if (record.status === DeliveryStatus.SUPERSEDED) result.superseded++;
    else result.waiting++;
    if (won[index]) context.related.set(record.deliveryKey, record);
  });
  for (const record of settle) {
    if (record.status === DeliveryStatus.SUPERSEDED)
      logger.info('not sent: out of order', { deliveryKey: record.deliveryKey, reason: record.lastError });
  }
}

/**
 * Leases a block in one write; per record, whether it is ours now. When the write fails for some rows (the store
 * throws without saying which), the rows are read back: those holding exactly this lease are ours and are sent now,
 * instead of waiting out a lease nobody uses. `failed` says some rows could not be leased.
 */
async function leaseRows(
  fresh: readonly DeliveryRecord[],
  store: RelayDeps['store'],
): Promise<{ won: boolean[]; failed: boolean }> {
  if (fresh.length === 0) return { won: [], failed: false };
  try {
    return { won: await store.replaceMany(fresh), failed: false };
  } catch {
    const current = await store.get(fresh.map((record) => record.deliveryKey));
    return { won: fresh.map((record) => holdsLease(current.get(record.deliveryKey), record)), failed: true };
  }
}

/** Whether the stored row is exactly the lease written (same version, same lease, same writer's time). */
function holdsLease(stored: DeliveryRecord | undefined, lease: DeliveryRecord): boolean {
  return (
    stored !== undefined &&
    stored.version === lease.version &&
    stored.status === DeliveryStatus.SENDING &&
    stored.leaseUntil === lease.leaseUntil &&
    stored.updatedAt === lease.updatedAt
  );
}

async function recordSlice(
  outcomes: SendOutcome[],
  deps: RelayDeps,
  result: RelayResult,
  context: OrderingContext,
): Promise<boolean> {
  const counted = tallyOutcomes(outcomes);
  result.attempted += outcomes.length;
  result.delivered += counted.delivered;
  result.dead += counted.dead;
  result.retrying += counted.queued;
  addFailures(result.failures, counted);
  // No freeing read: a resolve held behind one of these triggers is waited for at the end of the run (`relayDue`).
  const written = await recordOutcomes(outcomes, deps.store, deps.logger, deps.now ?? Date.now, {
    freeWaitingResolves: false,
  });
  if (written === undefined) return false;
  outcomes.forEach((outcome, index) => {
    if (written[index]) context.related.set(outcome.record.deliveryKey, outcome.record);
    else result.lostRaces++;
  });
  return true;
}

export type { RelayDeps, RelayResult };
export { emptyResult, relayDue };
