/**
 * Drafting: the deliveries one callback asks for, before dedupe, ordering and claim (`deliverCallback.ts`). Each alert is
 * routed (`router.select(alert.labels)`), and its route's mode (the route's `mode`, else `DELIVERY_MODE`) decides what
 * it becomes:
 *
 * | Mode        | Deliveries                                          | `dedup_key`                     | Delivery key                       |
 * |-------------|-----------------------------------------------------|---------------------------------|------------------------------------|
 * | `per-alert` | one per alert (`buildEvent`)                        | the alert identity              | (dedup_key, action, `startsAt`)    |
 * | `per-group` | one per (callback, route) (`buildGroupEvent`)       | `groupDedupKey(group, route)`   | (dedup_key, action, occurrence, route) |
 *
 * A per-group delivery:
 * - triggers while any of its alerts fires, and resolves only when every one of them (in this callback) is resolved;
 * - has as occurrence the newest `startsAt` of its firing alerts (trigger) or of all its alerts (resolve), or
 *   `NO_OCCURRENCE` when none has one. So an identical repeat is a duplicate (same key), a newer alert joining the
 *   group re-triggers (a new key; PagerDuty updates the alert it already has), and the ordering code works on groups
 *   unchanged: the occurrence marker of the group key supersedes a stale resolve after a newer trigger;
 * - keeps the route it was split by (the route is part of its `dedup_key`, so a resolve can only ever match a trigger
 *   of the same route; the per-alert "a resolve follows its trigger's route" rule is implied).
 *
 * Alertmanager drops a resolved alert from its group once that resolve was notified, so a group's last resolve can
 * hold only alerts older than the occurrence the group triggered with; `ordering.ts` therefore never holds a group
 * resolve back as stale (`tests/integration/delivery/perGroup.test.ts` pins the case).
 *
 * Per-alert deliveries are drafted exactly as before per-group mode existed (their counterparts are now looked up
 * under the event's `dedup_key`, which differs from the identity only for identities over 255 characters).
 */
import type { Alert, AlertGroup } from '../alerts/types';
import type { BridgeConfig } from '../config/config';
import { AlertStatus, DeliveryMode, DeliveryStatus, EventAction } from '../constants';
import type { Logger } from '../logger';
import { buildEvent } from '../pagerduty/buildEvent';
import { buildGroupEvent } from '../pagerduty/buildGroupEvent';
import { alertDedupKey, groupDedupKey } from '../pagerduty/dedupKey';
import type { BuiltEvent } from '../pagerduty/types';
import type { DeliveryRecord } from '../store/DeliveryRecord';
import { counterpartKeyOf, deliveryKeyOf, NO_OCCURRENCE } from './deliveryKey';
import type { RouteChoice, Router } from './Router';

/** What drafting needs of the webhook's dependencies. */
interface DraftDeps {
  config: BridgeConfig;
  router: Router;
  logger: Logger;
}

/** One drafted delivery: its record (PENDING, version 1) and the route it will be sent to. */
interface Drafted {
  record: DeliveryRecord;
  route: RouteChoice;
}

/** One delivery a callback asks for, before drafting: the parts of its delivery key, plus its alerts and route. */
interface CallbackPart {
  mode: DeliveryMode;
  /** One alert in per-alert mode; the route's alerts of the callback, in callback order, in per-group mode. */
  alerts: Alert[];
  route: RouteChoice;
  dedupKey: string;
  action: EventAction;
  occurrence: number;
  /** Part of the delivery key in per-group mode only. */
  routeName?: string;
}

function actionOf(alert: Alert): EventAction {
  return alert.status === AlertStatus.RESOLVED ? EventAction.RESOLVE : EventAction.TRIGGER;
}

/**
 * The occurrence of a group delivery: the newest `startsAt` among its firing alerts for a trigger, among all its
 * alerts for a resolve; NO_OCCURRENCE when none has one.
 */
function groupOccurrence(alerts: readonly Alert[], action: EventAction): number {
  const deciding = action === EventAction.TRIGGER ? alerts.filter((alert) => actionOf(alert) === action) : alerts;
  return deciding.reduce((newest, alert) => Math.max(newest, alert.startsAt ?? NO_OCCURRENCE), NO_OCCURRENCE);
}

/**
 * Splits a callback into the deliveries it asks for: per-alert parts in callback order, each per-group route's part
 * where its first alert stands. Pure: no event is built yet.
 */
function splitCallback(group: AlertGroup, router: Router): CallbackPart[] {
  const parts: CallbackPart[] = [];
  const byRoute = new Map<string, CallbackPart>();
  for (const alert of group.alerts) {
    const route = router.select(alert.labels);
    if (route.mode !== DeliveryMode.PER_GROUP) {
      parts.push({
        mode: DeliveryMode.PER_ALERT,
        alerts: [alert],
        route,
        dedupKey: alertDedupKey(alert.identity).key,
        action: actionOf(alert),
        occurrence: alert.startsAt ?? NO_OCCURRENCE,
      });
      continue;
    }
    const part = byRoute.get(route.name);
    if (part !== undefined) {
      part.alerts.push(alert);
      continue;
    }
    const created: CallbackPart = {
      mode: DeliveryMode.PER_GROUP,
      alerts: [alert],
      route,
      dedupKey: groupDedupKey(group, route.name),
      action: EventAction.RESOLVE,
      occurrence: NO_OCCURRENCE,
      routeName: route.name,
    };
    byRoute.set(route.name, created);
    parts.push(created);
  }
  for (const part of byRoute.values()) {
    part.action = part.alerts.some((alert) => actionOf(alert) === EventAction.TRIGGER)
      ? EventAction.TRIGGER
      : EventAction.RESOLVE;
    part.occurrence = groupOccurrence(part.alerts, part.action);
  }
  return parts;
}

/**
 * The delivery keys whose rows drafting and ordering need: the counterpart of every delivery the callback will draft
 * (a per-alert resolve takes its trigger's route; ordering compares each delivery with its other half).
 */
function counterpartKeysOf(group: AlertGroup, router: Router, parts = splitCallback(group, router)): string[] {
  return parts.map((part) => counterpartKeyOf(part));
}

function recordOf(part: CallbackPart, built: BuiltEvent, route: RouteChoice, config: BridgeConfig, now: number) {
  const { event } = built;
  const { action, occurrence, routeName } = part;
  const record: DeliveryRecord = {
    deliveryKey: deliveryKeyOf({ dedupKey: event.dedup_key, action, occurrence, routeName }),
    dedupKey: event.dedup_key,
    occurrence,
    action,
    routeName: route.name,
    status: DeliveryStatus.PENDING,
    version: 1,
    event,
    attempts: 0,
    createdAt: now,
    updatedAt: now,
    expiresAt: now + config.store.ttlSeconds * 1000,
  };
  return record;
}

/** A per-alert delivery: the event built; a resolve goes to its trigger's recorded route while that route exists. */
function draftAlert(
  part: CallbackPart,
  group: AlertGroup,
  deps: DraftDeps,
  related: ReadonlyMap<string, DeliveryRecord>,
  now: number,
): Drafted {
  const { router, logger, config } = deps;
  const alert = part.alerts[0] as Alert;
  const { action, occurrence } = part;
  let route = part.route;
  const built = buildEvent(alert, group, { defaultSeverity: route.defaultSeverity, receivedAt: now });
  const dedupKey = built.event.dedup_key;
  if (action === EventAction.RESOLVE) {
    const trigger = related.get(counterpartKeyOf({ dedupKey, action, occurrence }));
    const recorded = trigger === undefined ? undefined : router.byName(trigger.routeName);
    if (recorded !== undefined) route = recorded;
  }
  if (built.cuts.length > 0) logger.warn('event cut to fit PagerDuty limits', { dedupKey, cuts: built.cuts });
  return { record: recordOf(part, built, route, config, now), route };
}

/** A per-group delivery: one event for the route's alerts of the callback. */
function draftGroup(part: CallbackPart, group: AlertGroup, deps: DraftDeps, now: number): Drafted {
  const { logger, config } = deps;
  const { route } = part;
  const built = buildGroupEvent(part.alerts, group, {
    routeName: route.name,
    defaultSeverity: route.defaultSeverity,
    receivedAt: now,
  });
  if (built.cuts.length > 0) {
    logger.warn('event cut to fit PagerDuty limits', { dedupKey: built.event.dedup_key, cuts: built.cuts });
  }
  return { record: recordOf(part, built, route, config, now), route };
}

/**
 * Drafts every delivery of a callback: one per alert of a per-alert route, one per per-group route (see the file
 * comment), in callback order. Records are PENDING; ordering, dedupe and claim come after.
 *
 * @param related the rows of {@link counterpartKeysOf} that exist (empty when the store is down: fail open)
 * @param now the invocation's clock (epoch ms): `createdAt`, `expiresAt`, a resolve's fallback timestamp
 * @param parts the callback's plan, when the caller made it already for {@link counterpartKeysOf}
 * @example
 * const related = await store.get(counterpartKeysOf(group, router));
 * const drafted = draftDeliveries(group, { config, router, logger }, related, Date.now());
 */
function draftDeliveries(
  group: AlertGroup,
  deps: DraftDeps,
  related: ReadonlyMap<string, DeliveryRecord>,
  now: number,
  parts = splitCallback(group, deps.router),
): Drafted[] {
  return parts.map((part) =>
    part.mode === DeliveryMode.PER_GROUP
      ? draftGroup(part, group, deps, now)
      : draftAlert(part, group, deps, related, now),
  );
}

export type { CallbackPart, DraftDeps, Drafted };
export { counterpartKeysOf, draftDeliveries, groupOccurrence, splitCallback };
