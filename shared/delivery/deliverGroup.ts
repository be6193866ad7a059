/**
 * The webhook's data path after intake, as its steps: draft the callback's deliveries (one per alert, or one per group
 * in per-group mode: `draftDeliveries.ts`), load what ordering needs (`orderingContext.ts`), decide each delivery's
 * first state, claim them (the dedupe), check the claimed ones again against counterparts claimed concurrently by
 * another instance, stop the triggers their resolves overtake, send through each key's gate (`sendLane.ts`), and
 * record the outcomes in slices as they come. Persist, then answer: an alert counts as accepted only once its row
 * exists (delivered, queued for the relay, or final). After a successful claim nothing fails open: the rows exist,
 * and whatever this invocation cannot finish, the relay does.
 */
import type { AlertGroup, RejectedAlert } from '../alerts/types';
import { mapLimited, sleep } from '../async';
import type { BridgeConfig } from '../config/config';
import {
  DeliveryStatus,
  EventAction,
  FAIL_OPEN_SEND_MS,
  SENDS_IN_FLIGHT,
  STORE_ANSWER_RESERVE_MS,
  WEBHOOK_ANSWER_RESERVE_MS,
  WEBHOOK_INLINE_MAX_PER_KEY,
} from '../constants';
import type { Deadline } from '../fc/deadline';
import type { Logger } from '../logger';
import type { DeliveryRecord } from '../store/DeliveryRecord';
import type { ClaimOutcome, DeliveryStore } from '../store/DeliveryStore';
import type { OccurrenceMarker } from '../store/OccurrenceMarker';
import { counterpartKeyOf } from './deliveryKey';
import { addFailures, firstState, isTakeover, markerAdvances, type Planned, tallyOutcomes } from './deliveryRules';
import { counterpartKeysOf, draftDeliveries, planDeliveries } from './draftDeliveries';
import type { FailOpenTraces } from './FailOpenTraces';
import type { KeyGate } from './KeyGate';
import { keyIdOf, laneIdOf } from './keyIdOf';
import { recordLoneResolve } from './loneResolve';
import { RESOLVED_BEFORE_DELIVERY } from './ordering';
import { judge, loadOrderingContext, type OrderingContext } from './orderingContext';
import type { RouteChoice, Router } from './Router';
import { recordOutcomes } from './recordOutcomes';
import { resolveWaitUntil } from './resolveWait';
import { sendLane } from './sendLane';
import type { SendOutcome, sendRecord } from './sendRecord';
import { markPending, markSuperseded } from './transitions';

interface DeliverDeps {
  config: BridgeConfig;
  router: Router;
  store: DeliveryStore;
  logger: Logger;
  deadline: Deadline;
  gate: KeyGate;
  /** Resolves sent while the store was down, written once it is back (`FailOpenTraces.ts`). */
  traces?: FailOpenTraces;
  send: typeof sendRecord;
  now?: () => number;
}

/** What happened to one callback's alerts; becomes the 2xx body. */
interface DeliverySummary {
  received: number;
  /** Sent to PagerDuty and accepted (202). */
  delivered: number;
  /** Stored for the relay (deadline reached, PagerDuty asked to retry, or waiting for its trigger). */
  queued: number;
  /** Already known: a repeat notification of an occurrence. */
  duplicates: number;
  /** Stored and logged, never sent (dry-run). */
  dryRun: number;
  /** Stored, never sent: out of order (a stale occurrence, or resolved before its trigger was delivered). */
  superseded: number;
  /** Refused for good (PagerDuty rejected the event, or no routing key): DEAD, visible in the health report. */
  failed: number;
  /** Failed attempts by reason (auth, rate-limited, client, server, network), queued or dead. */
  failures: Record<string, number>;
  rejected: RejectedAlert[];
  /** Set when the store was unreachable and the bridge sent straight to PagerDuty (fail open). */
  degraded?: 'store-unavailable';
  /** Fail-open only: alerts neither delivered nor stored. Non-zero means the callback must be answered 503. */
  lost: number;
  /** Fail-open only: resolves sent unrecorded; the callback's replay line is then logged (the durable trace). */
  unrecordedResolves?: number;
}

/** Deliveries claimed per store call: bounds the memory a large callback's claim takes at once. */
const CLAIM_SLICE = 1_000;

/** Decides each record's first state (`firstState`) from its ordering verdict. */
function decide(
  drafted: { record: DeliveryRecord; route: RouteChoice },
  deps: DeliverDeps,
  context: OrderingContext,
  now: number,
): Planned {
  const { verdict, counterpart } = judge(drafted.record, context, now);
  return firstState({
    ...drafted,
    dryRun: deps.config.pagerduty.dryRun,
    verdict,
    counterpart,
    leaseMs: deps.config.store.leaseSeconds * 1000,
    now,
  });
}

/**
 * Of a large callback, only what the webhook could send before its deadline is claimed leased to it (SENDING); the
 * rest is claimed queued (PENDING, due now) for the relay, which the webhook kicks. So a 5,000-alert storm costs one
 * claim write per alert, not a claim and then a second write to queue what was never going to be sent inline.
 */
function leaseInlineShare(planned: Planned[], now: number): Planned[] {
  const leased = new Map<string, number>();
  return planned.map((item) => {
    if (item.record.status !== DeliveryStatus.SENDING) return item;
    const lane = laneIdOf(item.route);
    const count = (leased.get(lane) ?? 0) + 1;
    leased.set(lane, count);
    if (count <= WEBHOOK_INLINE_MAX_PER_KEY) return item;
    const { leaseUntil: _leaseUntil, ...rest } = item.record;
    return { ...item, record: { ...rest, status: DeliveryStatus.PENDING, nextAttemptAt: now } };
  });
}

/**
 * A trigger and its resolve claimed at the same moment by two instances both read "no counterpart" before claiming.
 * After its own claim each reads its counterpart again (single-row reads are strongly consistent, and each side's row
 * exists before its second read, so at least one side sees the other) and is judged again: a trigger whose resolve
 * now exists is not sent; a resolve whose trigger is being sent waits for it. Returns the records whose state changed
 * (written by the caller), and updates `claimed` in place.
 */
async function recheckCounterparts(
  claimed: Planned[],
  deps: DeliverDeps,
  context: OrderingContext,
  now: number,
): Promise<DeliveryRecord[]> {
  const sending = claimed.filter((item) => item.record.status === DeliveryStatus.SENDING);
  if (sending.length === 0) return [];
  const keys = sending.map((item) => counterpartKeyOf(item.record));
  const fresh = await deps.store.get(keys.filter((key) => !context.related.has(key)));
  // A counterpart in this very callback is judged as this invocation decided it, not as a concurrent claim: the
  // trigger and the resolve of one occurrence arriving together are a resolve that came first (neither is paged).
  const own = new Map(claimed.map((item) => [item.record.deliveryKey, item.record]));
  for (const key of fresh.keys()) {
    const mine = own.get(key);
    if (mine !== undefined) fresh.set(key, mine);
  }
  if (fresh.size === 0) return [];
  for (const [key, row] of fresh) context.related.set(key, row);
  const changed: DeliveryRecord[] = [];
  // Triggers first, so a resolve is judged against what became of its trigger.
  const ordered = [...sending].sort(
    (a, b) => Number(a.record.action === 'resolve') - Number(b.record.action === 'resolve'),
  );
  for (const item of ordered) {
    if (!fresh.has(counterpartKeyOf(item.record))) continue;
    const { verdict } = judge(item.record, context, now);
    if (verdict.kind === 'supersede') {
      item.record = markSuperseded(item.record, now, verdict.reason, false);
      changed.push(item.record);
    } else if (verdict.kind === 'defer') {
      item.record = markPending(item.record, now, resolveWaitUntil(verdict.until, now));
      changed.push(item.record);
    } else continue;
    context.related.set(item.record.deliveryKey, item.record);
  }
  return changed;
}

async function deliverGroup(group: AlertGroup, deps: DeliverDeps): Promise<DeliverySummary> {
  const { store, logger, config } = deps;
  const now = (deps.now ?? Date.now)();
  const summary: DeliverySummary = {
    received: group.alerts.length + group.rejected.length,
    delivered: 0,
    queued: 0,
    duplicates: 0,
    dryRun: 0,
    superseded: 0,
    failed: 0,
    failures: {},
    rejected: group.rejected,
    lost: 0,
  };

  let claimed: Planned[];
  let failed: Planned[] = [];
  let context: OrderingContext;
  let markers: Map<string, OccurrenceMarker>;
  // Until the claim, store calls leave time to fail open (a callback small enough to be sent in that time); after it,
  // only the answer's time (`useDeadline`). A large callback gives the claim all it can: stored is acknowledged.
  const failOpenMs = group.alerts.length <= WEBHOOK_INLINE_MAX_PER_KEY ? FAIL_OPEN_SEND_MS : 0;
  store.useDeadline(deps.deadline.reserving(WEBHOOK_ANSWER_RESERVE_MS + failOpenMs));
  try {
    // First what an earlier invocation sent while the store was down: the relay must see those resolves.
    await deps.traces?.flush(store, logger);
    // Counterparts first: a resolve's route is its trigger's.
    const parts = planDeliveries(group, deps.router);
    const related = await store.get(counterpartKeysOf(group, deps.router, parts));
    const drafted = draftDeliveries(group, deps, related, now, parts);
    // One delivery per key: the same alert twice in a callback is one delivery (and one batch row).
    const unique = [...new Map(drafted.map((item) => [item.record.deliveryKey, item])).values()];
    summary.duplicates += drafted.length - unique.length;
    context = config.pagerduty.dryRun
      ? { related, markers: new Map() }
      : await loadOrderingContext(
          store,
          unique.map((item) => item.record),
          related,
        );
    markers = context.markers;
    const planned = leaseInlineShare(
      unique.map((item) => decide(item, deps, context, now)),
      now,
    );
    ({ claimed, failed } = await claimPlanned(planned, deps, now));
    summary.duplicates += planned.length - claimed.length - failed.length;
  } catch (error) {
    logger.error('delivery store unavailable: sending straight to PagerDuty (fail open)', { error });
    summary.degraded = 'store-unavailable';
    return failOpen(draftDeliveries(group, deps, new Map(), now), deps, summary);
  }
  if (failed.length > 0) {
    // Only the rows whose write failed go out fail open: the claimed ones are the relay's if this invocation stops.
    logger.error('some claims failed: sending those deliveries straight to PagerDuty (fail open)', {
      count: failed.length,
    });
    summary.degraded = 'store-unavailable';
  }
  const failingOpen = failed.length > 0 ? failOpen(failed, deps, summary) : undefined;

  // From here on every claimed row exists: a store failure only leaves rows to the relay (after their lease).
  store.useDeadline(deps.deadline.reserving(STORE_ANSWER_RESERVE_MS));
  const advances = markerAdvances(
    claimed.map((item) => item.record),
    markers,
    config.store.ttlSeconds * 1000,
    now,
  );
  if (advances.length > 0) {
    try {
      await store.putMarkers(advances);
    } catch (error) {
      // Ordering stays safe: each delivery is judged again against its counterpart before any send.
      logger.warn('could not advance occurrence markers', { error });
    }
  }
  const waiting: DeliveryRecord[] = [];
  try {
    waiting.push(...(await recheckCounterparts(claimed, deps, context, now)));
  } catch (error) {
    // Unsure whether a counterpart appeared: send nothing now; the relay judges these rows again (queued now if the
    // store takes the write, else after their lease).
    logger.warn('could not check counterparts again; the claimed deliveries wait for the relay', { error });
    tallyFinal(claimed, summary, logger);
    const held = claimed.filter((item) => item.record.status === DeliveryStatus.SENDING);
    summary.queued += held.length;
    await store.replaceMany(held.map((item) => markPending(item.record, now))).catch(() => undefined);
    return summary;
  }
  waiting.push(...(await stopOvertakenTriggers(claimed, deps, now)));

  const { toSend, loneResolves } = tallyFinal(claimed, summary, logger);
  await Promise.all([sendClaimed(toSend, deps, summary, waiting, now), failingOpen]);
  for (const { record, route } of loneResolves) {
    const timeoutMs = deps.deadline.callTimeoutMs(config.pagerduty.timeoutMs);
    await recordLoneResolve(record, route, { config, logger, timeoutMs, now });
  }
  return summary;
}

/**
 * Claims the planned rows; a finished delivery older than the dedup window is taken over (by CAS) instead. Returns the
 * rows claimed and the rows whose own write failed (each row stands alone: those go out fail open, the rest not).
 */
async function claimPlanned(
  planned: Planned[],
  deps: DeliverDeps,
  now: number,
): Promise<{ claimed: Planned[]; failed: Planned[] }> {
  const { store, config } = deps;
  // In slices: one claim of 5,000 rows builds every request at once (on Tablestore, 10,000 rows with their events).
  const outcomes: ClaimOutcome[] = [];
  for (let start = 0; start < planned.length; start += CLAIM_SLICE) {
    outcomes.push(...(await store.claim(planned.slice(start, start + CLAIM_SLICE).map((item) => item.record))));
  }
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

/** Counts the claimed rows that are final or queued (one log line per kind), and returns those to send now. */
function tallyFinal(claimed: Planned[], summary: DeliverySummary, logger: Logger) {
  const toSend: Planned[] = [];
  const loneResolves: Planned[] = [];
  const dryRun: DeliveryRecord[] = [];
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
        if (record.lastError === RESOLVED_BEFORE_DELIVERY) loneResolves.push(item);
        break;
      case DeliveryStatus.PENDING:
        summary.queued++;
        break;
      default:
        toSend.push(item);
    }
  }
  if (dryRun.length > 0) {
    logger.info('dry-run: events stored, not sent', {
      events: dryRun.map((record) => ({
        deliveryKey: record.deliveryKey,
        route: record.routeName,
        event: record.event,
      })),
    });
  }
  if (superseded.length > 0) {
    logger.info('not sent: out of order', {
      deliveries: superseded.map((record) => ({ deliveryKey: record.deliveryKey, reason: record.lastError })),
    });
  }
  return { toSend, loneResolves };
}

/**
 * Sends the claimed deliveries, one lane per routing key, through the key's gate without waiting for it (ARMS waits
 * 5 s at most, and a storm would hold every callback to the deadline): what the gate or the deadline refuses is
 * queued for the relay, which the webhook kicks.
 */
async function sendClaimed(
  toSend: Planned[],
  deps: DeliverDeps,
  summary: DeliverySummary,
  waiting: DeliveryRecord[],
  now: number,
): Promise<void> {
  const { config, logger, store, deadline, gate } = deps;
  const clock = deps.now ?? Date.now;
  const lanes = new Map<string, { route: RouteChoice; records: DeliveryRecord[] }>();
  for (const { record, route } of toSend) {
    const laneId = laneIdOf(route);
    const lane = lanes.get(laneId) ?? { route, records: [] };
    lane.records.push(record);
    lanes.set(laneId, lane);
  }
  const tally = (outcomes: SendOutcome[]) => {
    const counted = tallyOutcomes(outcomes);
    summary.delivered += counted.delivered;
    summary.failed += counted.dead;
    summary.queued += counted.queued;
    addFailures(summary.failures, counted);
  };
  const unsent: DeliveryRecord[] = [...waiting];
  await Promise.all(
    [...lanes.values()].map(async ({ route, records }) => {
      const lane = await sendLane(records, {
        keyId: route.routingKey === undefined ? undefined : keyIdOf(route.routingKey),
        routingKey: route.routingKey,
        route: route.name,
        gate,
        deadline,
        sendTimeoutMs: config.pagerduty.timeoutMs,
        reserveMs: WEBHOOK_ANSWER_RESERVE_MS,
        wait: false,
        send: (record, probe) => deps.send(record, route.routingKey, { config, logger, probe, now: deps.now }),
        record: async (outcomes) => {
          tally(outcomes);
          return (await recordOutcomes(outcomes, store, logger, clock)) !== undefined;
        },
        sleep,
        now: clock,
      });
      summary.queued += lane.unsent.length;
      unsent.push(...lane.unsent.map((record) => markPending(record, now)));
    }),
  );
  if (unsent.length === 0) return;
  try {
    await store.replaceMany(unsent);
  } catch (error) {
    // Still SENDING with a lease: the relay takes them over when it ends.
    logger.error('could not queue the deliveries left for the relay; it takes them over after their lease', { error });
  }
}

/**
 * Store down (or these rows' claims failed): send them directly, so a store outage alone never costs a page. Nothing
 * is recorded; a resolve sent this way is kept for the next invocation (`FailOpenTraces.ts`).
 */
async function failOpen(
  drafted: ReadonlyArray<{ record: DeliveryRecord; route: RouteChoice }>,
  deps: DeliverDeps,
  summary: DeliverySummary,
): Promise<DeliverySummary> {
  const { config, logger, deadline } = deps;
  await mapLimited(drafted, SENDS_IN_FLIGHT, async ({ record, route }) => {
    if (config.pagerduty.dryRun) {
      summary.dryRun++;
      logger.info('dry-run: event not sent (store unavailable, not stored)', { event: record.event });
      return;
    }
    const budget = deadline.remainingMs() - WEBHOOK_ANSWER_RESERVE_MS;
    if (budget <= 0) {
      summary.lost++;
      return;
    }
    const { record: result, reason } = await deps.send(record, route.routingKey, {
      now: deps.now,
      config,
      logger,
      timeoutMs: budget,
    });
    if (reason !== undefined) summary.failures[reason] = (summary.failures[reason] ?? 0) + 1;
    if (result.status === DeliveryStatus.DELIVERED) summary.delivered++;
    else summary.lost++;
    if (record.action === EventAction.RESOLVE && result.status === DeliveryStatus.DELIVERED) {
      summary.unrecordedResolves = (summary.unrecordedResolves ?? 0) + 1;
      deps.traces?.keep(result);
    }
  });
  return summary;
}

export type { DeliverDeps, DeliverySummary };
export { deliverGroup };
