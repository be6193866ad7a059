/**
 * The webhook's data path after intake, as its steps: draft the callback's deliveries (one per alert, or one per group
 * in per-group mode: `draftDeliveries.ts`), load what ordering needs (`orderingContext.ts`), decide each delivery's
 * first state (a trigger and its resolve in this same callback judged against each other), then claim them chunk by
 * chunk (the dedupe, `claimChunks.ts`): each chunk is checked again against counterparts claimed concurrently by
 * another instance, the triggers its resolves overtake are stopped, and its deliveries go to each key's lane
 * (`webhookLanes.ts`, `sendLane.ts`) while the next chunk is claimed. Outcomes are recorded in slices as they come.
 * Persist, then send, then answer: an alert is sent only once its row exists, and counts as accepted only once its row
 * exists (delivered, queued for the relay, or final). After a chunk's claim nothing of it fails open: its rows exist,
 * and whatever this invocation cannot finish, the relay does.
 */
import type { AlertGroup } from '../alerts/types';
import {
  DeliveryStatus,
  EventAction,
  FAIL_OPEN_SEND_MS,
  WEBHOOK_ANSWER_RESERVE_MS,
  WEBHOOK_INLINE_FLOOR_PER_KEY,
} from '../constants';
import type { DeliveryRecord } from '../store/DeliveryRecord';
import { type DeliverDeps, type DeliverySummary, emptySummary } from './CallbackDelivery';
import { deliverInChunks } from './claimChunks';
import { counterpartKeyOf } from './deliveryKey';
import { firstState, type Planned } from './deliveryRules';
import { type CallbackPart, counterpartKeysOf, draftDeliveries, splitCallback } from './draftDeliveries';
import { failOpen } from './failOpen';
import type { KeyGate } from './KeyGate';
import { keyIdOf } from './keyIdOf';
import { judge, loadOrderingContext, type OrderingContext } from './orderingContext';
import type { RouteChoice } from './Router';

/** Decides each record's first state (`firstState`) from its ordering verdict. */
function decide(
  drafted: { record: DeliveryRecord; route: RouteChoice },
  deps: DeliverDeps,
  context: OrderingContext,
  now: number,
  counterpartKey?: string,
): Planned {
  const { verdict, counterpart } = judge(drafted.record, context, now, counterpartKey);
  return firstState({
    record: drafted.record,
    route: drafted.route,
    dryRun: deps.config.pagerduty.dryRun,
    verdict,
    counterpart,
    leaseMs: deps.config.store.leaseSeconds * 1000,
    now,
  });
}

/**
 * A trigger and its resolve in this very callback, neither stored yet, are judged against each other before anything
 * is claimed, as a resolve that came first (neither is paged): they may fall in different chunks, and the trigger's
 * chunk would otherwise be sent before the resolve's is claimed. Triggers first, so a resolve is judged against what
 * became of its trigger. Updates `context.related` with the pairs' new states.
 */
function judgeOwnPairs(planned: Planned[], deps: DeliverDeps, context: OrderingContext, now: number): Planned[] {
  // A pair is a trigger and a resolve: a callback of one action has none (the usual case), and no key to hash for it.
  const first = planned[0]?.record.action;
  if (planned.every((item) => item.record.action === first)) return planned;
  const own = new Map(planned.map((item) => [item.record.deliveryKey, item]));
  const paired = (item: Planned) => {
    const other = counterpartKeyOf(item.record);
    return own.has(other) && !context.related.has(other) && !context.related.has(item.record.deliveryKey);
  };
  const pairs = planned.filter(paired);
  if (pairs.length === 0) return planned;
  for (const item of pairs) context.related.set(item.record.deliveryKey, item.record);
  const ordered = [...pairs].sort(
    (a, b) => Number(a.record.action === EventAction.RESOLVE) - Number(b.record.action === EventAction.RESOLVE),
  );
  const judged = new Map<Planned, Planned>();
  for (const item of ordered) {
    if (item.record.status !== DeliveryStatus.SENDING) continue;
    const { leaseUntil: _leaseUntil, ...drafted } = item.record;
    const again = decide(
      { record: { ...drafted, status: DeliveryStatus.PENDING }, route: item.route },
      deps,
      context,
      now,
    );
    judged.set(item, again);
    context.related.set(again.record.deliveryKey, again.record);
  }
  return planned.map((item) => judged.get(item) ?? item);
}
/** The routing keys' gate rows worth reading with the callback's first read (`KeyGate.wantsRow`). */
function gateRowsWanted(parts: readonly CallbackPart[], gate: KeyGate): string[] {
  const keyIds = new Set<string>();
  for (const { route } of parts) if (route.routingKey !== undefined) keyIds.add(keyIdOf(route.routingKey));
  return [...keyIds].filter((keyId) => gate.wantsRow(keyId));
}

async function deliverCallback(group: AlertGroup, deps: DeliverDeps): Promise<DeliverySummary> {
  const { store, logger, config } = deps;
  const now = (deps.now ?? Date.now)();
  const summary = emptySummary(group.alerts.length + group.rejected.length, group.rejected);

  let planned: Planned[];
  let context: OrderingContext;
  // Until the claims, store calls leave time to fail open (a callback small enough to be sent in that time); after
  // them, only the answer's time (`useDeadline`). A large callback gives the claims all it can: stored is acknowledged.
  const failOpenMs = group.alerts.length <= WEBHOOK_INLINE_FLOOR_PER_KEY ? FAIL_OPEN_SEND_MS : 0;
  store.useDeadline(deps.deadline.reserving(WEBHOOK_ANSWER_RESERVE_MS + failOpenMs));
  try {
    // First what an earlier invocation sent while the store was down: the relay must see those resolves.
    await deps.traces?.flush(store, logger);
    // Counterparts first: a resolve's route is its trigger's.
    const parts = splitCallback(group, deps.router);
    const counterpartKeys = counterpartKeysOf(group, deps.router, parts);
    // Counterparts, the identities' markers and the keys' gate rows in one read (dry-run judges no order and sends
    // nothing: counterparts only).
    const dedupKeys = config.pagerduty.dryRun ? [] : parts.map((part) => part.dedupKey);
    const keyIds = config.pagerduty.dryRun ? [] : gateRowsWanted(parts, deps.gate);
    const read = await store.getWithMarkers(counterpartKeys, dedupKeys, keyIds);
    const { records: related, markers } = read;
    for (const keyId of keyIds) deps.gate.prime(keyId, read.keyStates.get(keyId));
    const drafted = draftDeliveries(group, deps, related, now, parts);
    // Drafting keeps the plan's order: each delivery's counterpart key, hashed once for the read, serves the judging.
    const counterpartOf = new Map(drafted.map((item, index) => [item.record.deliveryKey, counterpartKeys[index]]));
    // One delivery per key: the same alert twice in a callback is one delivery (and one batch row).
    const unique = [...new Map(drafted.map((item) => [item.record.deliveryKey, item])).values()];
    summary.duplicates += drafted.length - unique.length;
    context = config.pagerduty.dryRun
      ? { related, markers: new Map() }
      : await loadOrderingContext(
          store,
          unique.map((item) => item.record),
          related,
          markers,
        );
    planned = judgeOwnPairs(
      unique.map((item) => decide(item, deps, context, now, counterpartOf.get(item.record.deliveryKey))),
      deps,
      context,
      now,
    );
  } catch (error) {
    logger.error('delivery store unavailable: sending straight to PagerDuty (fail open)', { error });
    summary.degraded = 'store-unavailable';
    return failOpen(draftDeliveries(group, deps, new Map(), now), deps, summary);
  }
  await deliverInChunks(planned, deps, context, summary, now);
  return summary;
}

export { deliverCallback };
