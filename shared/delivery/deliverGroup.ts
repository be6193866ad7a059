/**
 * The webhook's data path after intake: plan one delivery per alert, claim them in the store (the dedupe), send the
 * claimed ones to PagerDuty inside the invocation's deadline, and record each outcome. Persist, then answer: an
 * alert counts as accepted only once its row exists (delivered, queued for the relay, or final in dry-run).
 *
 * Store round trips per callback do not grow with the number of alerts: one batch get (the triggers of resolves),
 * one batch claim, one batch of final writes.
 */
import type { AlertGroup, RejectedAlert } from '../alerts/types';
import type { BridgeConfig } from '../config/config';
import { DeliveryStatus, EventAction, WEBHOOK_ANSWER_RESERVE_MS, WEBHOOK_SEND_CONCURRENCY } from '../constants';
import type { Deadline } from '../fc/deadline';
import type { Logger } from '../logger';
import { buildEvent } from '../pagerduty/buildEvent';
import type { DeliveryRecord } from '../store/DeliveryRecord';
import type { DeliveryStore } from '../store/DeliveryStore';
import { deliveryKeyOf, NO_OCCURRENCE } from './deliveryKey';
import type { RouteChoice, Router } from './Router';
import type { sendRecord } from './sendRecord';
import { markPending } from './transitions';

interface DeliverDeps {
  config: BridgeConfig;
  router: Router;
  store: DeliveryStore;
  logger: Logger;
  deadline: Deadline;
  send: typeof sendRecord;
  now?: () => number;
}

/** What happened to one callback's alerts; becomes the 2xx body. */
interface DeliverySummary {
  received: number;
  /** Sent to PagerDuty and accepted (202). */
  delivered: number;
  /** Stored for the relay (deadline reached, or PagerDuty asked to retry). */
  queued: number;
  /** Already known: a repeat notification of an occurrence. */
  duplicates: number;
  /** Stored and logged, never sent (dry-run). */
  dryRun: number;
  /** Refused for good (PagerDuty rejected the event, or no routing key): DEAD, visible in the health report. */
  failed: number;
  rejected: RejectedAlert[];
  /** Set when the store was unreachable and the bridge sent straight to PagerDuty (fail open). */
  degraded?: 'store-unavailable';
  /** Fail-open only: alerts neither delivered nor stored. Non-zero means the callback must be answered 503. */
  lost: number;
}

interface Planned {
  record: DeliveryRecord;
  route: RouteChoice;
}

/** Builds one record per alert. A resolve goes to the route recorded with its trigger when that route still exists. */
function planDeliveries(group: AlertGroup, deps: DeliverDeps, triggers: Map<string, DeliveryRecord>, now: number) {
  const { config, router, logger } = deps;
  const planned: Planned[] = [];
  for (const alert of group.alerts) {
    const occurrence = alert.startsAt ?? NO_OCCURRENCE;
    const action = alert.status === 'resolved' ? EventAction.RESOLVE : EventAction.TRIGGER;
    let route = router.select(alert.labels);
    if (action === EventAction.RESOLVE) {
      const trigger = triggers.get(
        deliveryKeyOf({ dedupKey: alert.identity, action: EventAction.TRIGGER, occurrence }),
      );
      const recorded = trigger === undefined ? undefined : router.byName(trigger.routeName);
      if (recorded !== undefined) route = recorded;
    }
    const { event, cuts } = buildEvent(alert, group, { defaultSeverity: route.defaultSeverity, receivedAt: now });
    if (cuts.length > 0) logger.warn('event cut to fit PagerDuty limits', { dedupKey: event.dedup_key, cuts });
    const base = {
      deliveryKey: deliveryKeyOf({ dedupKey: event.dedup_key, action, occurrence }),
      dedupKey: event.dedup_key,
      occurrence,
      action,
      routeName: route.name,
      version: 1,
      event,
      attempts: 0,
      createdAt: now,
      updatedAt: now,
      expiresAt: now + config.store.ttlSeconds * 1000,
    };
    let record: DeliveryRecord;
    if (config.pagerduty.dryRun) {
      record = { ...base, status: DeliveryStatus.DRY_RUN };
    } else if (route.routingKey === undefined) {
      record = { ...base, status: DeliveryStatus.DEAD, lastError: `no routing key for route "${route.name}"` };
    } else {
      // Claimed already leased to this invocation: it sends at once, and if it dies the lease lets the relay take over.
      record = { ...base, status: DeliveryStatus.SENDING, leaseUntil: now + config.store.leaseSeconds * 1000 };
    }
    planned.push({ record, route });
  }
  return planned;
}

/** Runs `work` over `items` with at most `limit` in flight. */
async function inPool<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let cursor = 0;
  const worker = async () => {
    while (cursor < items.length) {
      const index = cursor++;
      results[index] = await work(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

async function deliverGroup(group: AlertGroup, deps: DeliverDeps): Promise<DeliverySummary> {
  const { store, logger, deadline, config } = deps;
  const now = (deps.now ?? Date.now)();
  const summary: DeliverySummary = {
    received: group.alerts.length + group.rejected.length,
    delivered: 0,
    queued: 0,
    duplicates: 0,
    dryRun: 0,
    failed: 0,
    rejected: group.rejected,
    lost: 0,
  };

  let planned: Planned[];
  let claimed: Planned[];
  try {
    const resolveTriggerKeys = group.alerts
      .filter((alert) => alert.status === 'resolved')
      .map((alert) =>
        deliveryKeyOf({
          dedupKey: alert.identity,
          action: EventAction.TRIGGER,
          occurrence: alert.startsAt ?? NO_OCCURRENCE,
        }),
      );
    const triggers = resolveTriggerKeys.length > 0 ? await store.get(resolveTriggerKeys) : new Map();
    planned = planDeliveries(group, deps, triggers, now);
    const outcomes = await store.claim(planned.map((item) => item.record));
    claimed = planned.filter((_, index) => outcomes[index]?.claimed === true);
    summary.duplicates = planned.length - claimed.length;
  } catch (error) {
    logger.error('delivery store unavailable: sending straight to PagerDuty (fail open)', { error });
    return failOpen(group, deps, summary, now);
  }

  const toSend: DeliveryRecord[] = [];
  for (const { record } of claimed) {
    if (record.status === DeliveryStatus.DRY_RUN) {
      summary.dryRun++;
      logger.info('dry-run: event stored, not sent', {
        deliveryKey: record.deliveryKey,
        route: record.routeName,
        event: record.event,
      });
    } else if (record.status === DeliveryStatus.DEAD) {
      summary.failed++;
      logger.error('delivery cannot be sent', { deliveryKey: record.deliveryKey, reason: record.lastError });
    } else {
      toSend.push(record);
    }
  }

  const finals = await inPool(toSend, WEBHOOK_SEND_CONCURRENCY, async (record) => {
    if (deadline.remainingMs() <= WEBHOOK_ANSWER_RESERVE_MS) return markPending(record, Date.now());
    const routingKey = planned.find((item) => item.record === record)?.route.routingKey;
    return deps.send(record, routingKey, { config, logger, deadline, reserveMs: WEBHOOK_ANSWER_RESERVE_MS });
  });
  for (const record of finals) {
    if (record.status === DeliveryStatus.DELIVERED) summary.delivered++;
    else if (record.status === DeliveryStatus.DEAD) summary.failed++;
    else summary.queued++;
  }
  if (finals.length > 0) {
    try {
      const written = await store.replaceMany(finals);
      const lost = written.filter((ok) => !ok).length;
      if (lost > 0) logger.warn('a delivery changed under the webhook (taken over by the relay)', { count: lost });
    } catch (error) {
      // The rows stay SENDING with a lease: the relay re-sends them after it, and PagerDuty dedupes by dedup_key.
      logger.error('could not record delivery outcomes; the relay will retry them after their lease', { error });
    }
  }
  return summary;
}

/** Store down: send every alert directly, so a store outage alone never costs a page. Nothing is recorded. */
async function failOpen(
  group: AlertGroup,
  deps: DeliverDeps,
  summary: DeliverySummary,
  now: number,
): Promise<DeliverySummary> {
  const { config, logger, deadline } = deps;
  summary.degraded = 'store-unavailable';
  const planned = planDeliveries(group, deps, new Map(), now);
  await inPool(planned, WEBHOOK_SEND_CONCURRENCY, async ({ record, route }) => {
    if (record.status === DeliveryStatus.DRY_RUN) {
      summary.dryRun++;
      logger.info('dry-run: event not sent (store unavailable, not stored)', { event: record.event });
      return;
    }
    const result = await deps.send(record, route.routingKey, {
      config,
      logger,
      deadline,
      reserveMs: WEBHOOK_ANSWER_RESERVE_MS,
    });
    if (result.status === DeliveryStatus.DELIVERED) summary.delivered++;
    else summary.lost++;
  });
  return summary;
}

export type { DeliverDeps, DeliverySummary };
export { deliverGroup, inPool, planDeliveries };
