/**
 * The webhook's data path after intake: draft the callback's deliveries (one per alert, or one per group in per-group
 * mode: `draftDeliveries.ts`), order each against what the store knows of its identity, claim the deliveries (the dedupe), send the claimed ones to PagerDuty inside the invocation's deadline,
 * and record each outcome. Persist, then answer: an alert counts as accepted only once its row exists (delivered,
 * queued for the relay, or final).
 *
 * Store round trips per callback do not grow with the number of alerts: a batch get of counterparts, a batch get of
 * occurrence markers (and of newer triggers, for older resolves), one batch claim, one batch of marker writes, one
 * batch of trigger stops, one batch of final writes, one counter write.
 */
import type { AlertGroup, RejectedAlert } from '../alerts/types';
import { mapLimited } from '../async';
import type { BridgeConfig } from '../config/config';
import { DeliveryStatus, WEBHOOK_ANSWER_RESERVE_MS, WEBHOOK_SEND_CONCURRENCY } from '../constants';
import { DeliveryFailureReason } from '../errors';
import type { Deadline } from '../fc/deadline';
import type { Logger } from '../logger';
import type { DeliveryRecord } from '../store/DeliveryRecord';
import type { DeliveryStore } from '../store/DeliveryStore';
import type { OccurrenceMarker } from '../store/OccurrenceMarker';
import { counterpartKeyOf, NO_OCCURRENCE } from './deliveryKey';
import { counterpartKeysOf, draftDeliveries, planDeliveries } from './draftDeliveries';
import { KeyPacer } from './KeyPacer';
import { recordLoneResolve } from './loneResolve';
import { newerTriggerKeyOf, orderVerdict, RESOLVED_BEFORE_DELIVERY } from './ordering';
import type { RouteChoice, Router } from './Router';
import type { sendRecord } from './sendRecord';
import { markPending, markSuperseded } from './transitions';

interface DeliverDeps {
  config: BridgeConfig;
  router: Router;
  store: DeliveryStore;
  logger: Logger;
  deadline: Deadline;
  pacer: KeyPacer;
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
}

/** Final states: a row in one of them is a duplicate only within the dedup window. */
const FINISHED: ReadonlySet<string> = new Set([
  DeliveryStatus.DELIVERED,
  DeliveryStatus.DEAD,
  DeliveryStatus.SUPERSEDED,
  DeliveryStatus.DRY_RUN,
]);

interface Planned {
  record: DeliveryRecord;
  route: RouteChoice;
  /** A trigger this delivery stops from being sent (its resolve came first). */
  stopTrigger?: DeliveryRecord;
}

/** Decides each record's first state: final (dry-run, dead, superseded), deferred, or leased to this invocation. */
function decide(
  drafted: { record: DeliveryRecord; route: RouteChoice },
  deps: DeliverDeps,
  related: Map<string, DeliveryRecord>,
  markers: Map<string, OccurrenceMarker>,
  now: number,
): Planned {
  const { config } = deps;
  const { record, route } = drafted;
  if (config.pagerduty.dryRun) return { record: { ...record, status: DeliveryStatus.DRY_RUN }, route };
  const counterpart = related.get(counterpartKeyOf(record));
  const marker = markers.get(record.dedupKey);
  const newerKey = newerTriggerKeyOf(record, marker);
  const newerTrigger = newerKey === undefined ? undefined : related.get(newerKey);
  const verdict = orderVerdict({ ...record, marker, counterpart, newerTrigger, now });
  if (verdict.kind === 'supersede') {
    const stopTrigger = verdict.supersedeTrigger ? counterpart : undefined;
    return { record: { ...record, status: DeliveryStatus.SUPERSEDED, lastError: verdict.reason }, route, stopTrigger };
  }
  if (verdict.kind === 'defer') {
    return { record: { ...record, status: DeliveryStatus.PENDING, nextAttemptAt: verdict.until }, route };
  }
  if (route.routingKey === undefined) {
    return {
      record: { ...record, status: DeliveryStatus.DEAD, lastError: `no routing key for route "${route.name}"` },
      route,
    };
  }
  // Claimed already leased to this invocation: it sends at once, and if it dies the lease lets the relay take over.
  const leased = { ...record, status: DeliveryStatus.SENDING, leaseUntil: now + config.store.leaseSeconds * 1000 };
  return { record: leased, route, stopTrigger: verdict.stopTrigger ? counterpart : undefined };
}

/** The marker writes that move each identity forward to the newest occurrence claimed in this callback. */
function markerAdvances(
  records: readonly DeliveryRecord[],
  markers: Map<string, OccurrenceMarker>,
  deps: DeliverDeps,
  now: number,
) {
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
      expiresAt: now + deps.config.store.ttlSeconds * 1000,
    });
  }
  return writes;
}

async function deliverGroup(group: AlertGroup, deps: DeliverDeps): Promise<DeliverySummary> {
  const { store, logger, deadline, config } = deps;
  const now = (deps.now ?? Date.now)();
  deps.pacer.startInvocation();
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

  let planned: Planned[];
  let claimed: Planned[];
  try {
    // Counterparts first: a resolve's route is its trigger's.
    const parts = planDeliveries(group, deps.router);
    const related = await store.get(counterpartKeysOf(group, deps.router, parts));
    const drafted = draftDeliveries(group, deps, related, now, parts);
    // One delivery per key: the same alert twice in a callback is one delivery (and one batch row).
    const unique = [...new Map(drafted.map((item) => [item.record.deliveryKey, item])).values()];
    summary.duplicates += drafted.length - unique.length;
    const markers = config.pagerduty.dryRun
      ? new Map()
      : await store.getMarkers(unique.map((item) => item.record.dedupKey));
    // A resolve older than its identity's marker is stale only if the newer trigger may have landed: read those.
    const newerKeys = unique.flatMap((item) => {
      const key = newerTriggerKeyOf(item.record, markers.get(item.record.dedupKey));
      return key === undefined || related.has(key) ? [] : [key];
    });
    if (newerKeys.length > 0) for (const [key, row] of await store.get(newerKeys)) related.set(key, row);
    planned = unique.map((item) => decide(item, deps, related, markers, now));
    const outcomes = await store.claim(planned.map((item) => item.record));
    claimed = planned.filter((_, index) => outcomes[index]?.claimed === true);
    // A finished delivery older than the dedup window no longer suppresses its repeat: take the row over (by CAS).
    const windowMs = config.store.dedupWindowSeconds * 1000;
    const takeovers = planned.flatMap((item, index) => {
      const outcome = outcomes[index];
      if (outcome === undefined || outcome.claimed || !FINISHED.has(outcome.existing.status)) return [];
      if (outcome.existing.createdAt + windowMs > now) return [];
      return [{ ...item, record: { ...item.record, version: outcome.existing.version + 1 } }];
    });
    if (takeovers.length > 0) {
      const won = await store.replaceMany(takeovers.map((item) => item.record));
      claimed.push(...takeovers.filter((_, index) => won[index]));
    }
    summary.duplicates += planned.length - claimed.length;
    const advances = markerAdvances(
      claimed.map((item) => item.record),
      markers,
      deps,
      now,
    );
    if (advances.length > 0) await store.putMarkers(advances);
  } catch (error) {
    logger.error('delivery store unavailable: sending straight to PagerDuty (fail open)', { error });
    return failOpen(group, deps, summary, now);
  }

  // Stop the triggers these resolves overtake BEFORE sending anything: a relay run may be about to send one. When a
  // stop loses its compare-and-set, the trigger is being sent right now: the resolve then waits for it (queued).
  const stopping = claimed.filter((item) => item.stopTrigger !== undefined);
  const waiting: DeliveryRecord[] = [];
  if (stopping.length > 0) {
    const stops = stopping.map((item) =>
      markSuperseded(item.stopTrigger as DeliveryRecord, now, 'its resolve arrived first'),
    );
    let won: boolean[] = [];
    try {
      won = await store.replaceMany(stops);
    } catch (error) {
      logger.warn('could not stop the triggers overtaken by their resolves; the resolves wait for the relay', {
        error,
      });
    }
    stopping.forEach((item, index) => {
      if (won[index]) return;
      const leaseMs = config.store.leaseSeconds * 1000;
      waiting.push(markPending(item.record, now, now + leaseMs));
      item.record = { ...item.record, status: DeliveryStatus.PENDING };
    });
  }

  const toSend: Planned[] = [];
  const loneResolves: Planned[] = [];
  for (const item of claimed) {
    const { record } = item;
    switch (record.status) {
      case DeliveryStatus.DRY_RUN:
        summary.dryRun++;
        logger.info('dry-run: event stored, not sent', {
          deliveryKey: record.deliveryKey,
          route: record.routeName,
          event: record.event,
        });
        break;
      case DeliveryStatus.DEAD:
        summary.failed++;
        logger.error('delivery cannot be sent', { deliveryKey: record.deliveryKey, reason: record.lastError });
        break;
      case DeliveryStatus.SUPERSEDED:
        summary.superseded++;
        if (record.lastError === RESOLVED_BEFORE_DELIVERY) loneResolves.push(item);
        logger.info('not sent: out of order', {
          deliveryKey: record.deliveryKey,
          dedupKey: record.dedupKey,
          reason: record.lastError,
        });
        break;
      case DeliveryStatus.PENDING:
        summary.queued++;
        break;
      default:
        toSend.push(item);
    }
  }

  const finals = await mapLimited(toSend, WEBHOOK_SEND_CONCURRENCY, async ({ record, route }) => {
    // Only what the key's bucket allows at once goes out inline: the webhook never waits for tokens (ARMS waits 5 s
    // at most, and a storm would hold every callback to the deadline). The rest, and everything after a 429 or past
    // the deadline, is queued for the relay, which the webhook kicks.
    const keyId = route.routingKey === undefined ? undefined : KeyPacer.idOf(route.routingKey);
    const budget = deadline.remainingMs() - WEBHOOK_ANSWER_RESERVE_MS;
    const waitMs = keyId === undefined || budget <= 0 ? undefined : deps.pacer.reserve(keyId, 0);
    if (waitMs === undefined) return markPending(record, now);
    const outcome = await deps.send(record, route.routingKey, {
      now: deps.now,
      config,
      logger,
      deadline,
      reserveMs: WEBHOOK_ANSWER_RESERVE_MS,
    });
    if (outcome.reason !== undefined) summary.failures[outcome.reason] = (summary.failures[outcome.reason] ?? 0) + 1;
    if (outcome.reason === DeliveryFailureReason.RATE_LIMITED && keyId !== undefined) deps.pacer.block(keyId);
    return outcome.record;
  });
  for (const record of finals) {
    if (record.status === DeliveryStatus.DELIVERED) summary.delivered++;
    else if (record.status === DeliveryStatus.DEAD) summary.failed++;
    else summary.queued++;
  }
  for (const { record, route } of loneResolves) {
    const timeoutMs = deadline.callTimeoutMs(config.pagerduty.timeoutMs);
    await recordLoneResolve(record, route, { config, logger, timeoutMs, now });
  }
  const writes = [...waiting, ...finals];
  if (writes.length > 0) {
    try {
      const written = await store.replaceMany(writes);
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
  const drafted = draftDeliveries(group, deps, new Map(), now);
  await mapLimited(drafted, WEBHOOK_SEND_CONCURRENCY, async ({ record, route }) => {
    if (config.pagerduty.dryRun) {
      summary.dryRun++;
      logger.info('dry-run: event not sent (store unavailable, not stored)', { event: record.event });
      return;
    }
    const { record: result, reason } = await deps.send(record, route.routingKey, {
      now: deps.now,
      config,
      logger,
      deadline,
      reserveMs: WEBHOOK_ANSWER_RESERVE_MS,
    });
    if (reason !== undefined) summary.failures[reason] = (summary.failures[reason] ?? 0) + 1;
    if (result.status === DeliveryStatus.DELIVERED) summary.delivered++;
    else summary.lost++;
  });
  return summary;
}

export type { DeliverDeps, DeliverySummary };
export { deliverGroup };
