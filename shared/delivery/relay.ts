/**
 * The relay: takes due deliveries from the store (PENDING/RETRY whose time has come, SENDING whose lease expired),
 * orders each against its identity (`ordering.ts`), claims it by compare-and-set, sends it and records the outcome.
 *
 * Deliveries are taken oldest first, in one lane per routing key: lanes run side by side, each paced by the
 * instance's `KeyPacer` and stopped for the run when PagerDuty answers 429. Bounded by the run's deadline: what is
 * left (paced, stopped or out of time) stays due for the next run.
 */
import { sleep as defaultSleep } from '../async';
import { DeliveryStatus } from '../constants';
import { DeliveryFailureReason } from '../errors';
import type { Logger } from '../logger';
import type { DeliveryRecord } from '../store/DeliveryRecord';
import type { DeliverDeps } from './deliverGroup';
import { counterpartKeyOf } from './deliveryKey';
import { KeyPacer } from './KeyPacer';
import { recordLoneResolve } from './loneResolve';
import { newerTriggerKeyOf, orderVerdict, RESOLVED_BEFORE_DELIVERY } from './ordering';
import type { RouteChoice, Router } from './Router';
import { markPending, markSending, markSuperseded } from './transitions';

/** Most due deliveries read per run; the rest wait for the next run (the timer runs every minute). */
const RELAY_BATCH = 500;

interface RelayResult {
  due: number;
  attempted: number;
  delivered: number;
  retrying: number;
  dead: number;
  /** Not sent because of ordering (a stale occurrence, or resolved before its trigger was delivered). */
  superseded: number;
  /** Resolves waiting for their trigger's send to finish. */
  waiting: number;
  /** Taken by someone else between the read and the claim. */
  lostRaces: number;
  /** Left for the next run: out of time, paced, or the key answered 429. */
  deferred: number;
  /** Routing keys PagerDuty rate-limited during the run. */
  rateLimitedKeys: number;
  /** Failed attempts by reason (auth, rate-limited, client, server, network). */
  failures: Record<string, number>;
}

/** The webhook's dependencies (`DeliverDeps`), plus a sleep for pacing (the relay waits for tokens; the webhook never). */
interface RelayDeps extends DeliverDeps {
  sleep?: (ms: number) => Promise<void>;
}

/** The route a delivery is sent with: the one recorded with it while it exists, else the fallback route. */
function routeOf(record: DeliveryRecord, router: Router, logger: Logger): RouteChoice | undefined {
  const route = router.byName(record.routeName);
  if (route !== undefined) return route;
  logger.warn('recorded route no longer exists; using the default route', { route: record.routeName });
  return router.byName('default');
}

async function relayDue(deps: RelayDeps): Promise<RelayResult> {
  const { config, router, store, logger, deadline, pacer } = deps;
  const now = deps.now ?? Date.now;
  const sleep = deps.sleep ?? defaultSleep;
  const result: RelayResult = {
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
  };
  pacer.startInvocation();
  const due = await store.listDue(RELAY_BATCH);
  result.due = due.length;
  // What ordering needs, for the whole batch in two reads.
  const related = await store.get(due.map((record) => counterpartKeyOf(record)));
  const markers = await store.getMarkers(due.map((record) => record.dedupKey));
  const newerKeys = due.flatMap((record) => {
    const key = newerTriggerKeyOf(record, markers.get(record.dedupKey));
    return key === undefined || related.has(key) ? [] : [key];
  });
  if (newerKeys.length > 0) for (const [key, row] of await store.get(newerKeys)) related.set(key, row);

  /** Orders one delivery; true when it should be sent now. */
  const ordered = async (record: DeliveryRecord): Promise<boolean> => {
    const counterpartKey = counterpartKeyOf(record);
    const counterpart = related.get(counterpartKey);
    const marker = markers.get(record.dedupKey);
    const newerKey = newerTriggerKeyOf(record, marker);
    const newerTrigger = newerKey === undefined ? undefined : related.get(newerKey);
    const verdict = orderVerdict({ ...record, marker, counterpart, newerTrigger, now: now() });
    const stop =
      verdict.kind === 'supersede' ? verdict.supersedeTrigger : verdict.kind === 'send' && verdict.stopTrigger;
    if (stop && counterpart !== undefined) {
      const stopped = markSuperseded(counterpart, now(), 'its resolve arrived first');
      if (await store.replace(stopped)) related.set(counterpartKey, stopped);
      else {
        // The trigger changed under us (another invocation is sending it): this resolve waits for its lease.
        if (await store.replace(markPending(record, now(), now() + config.store.leaseSeconds * 1000))) result.waiting++;
        else result.lostRaces++;
        return false;
      }
    }
    if (verdict.kind === 'supersede') {
      const superseded = markSuperseded(record, now(), verdict.reason);
      if (await store.replace(superseded)) {
        result.superseded++;
        related.set(record.deliveryKey, superseded);
        logger.info('not sent: out of order', { deliveryKey: record.deliveryKey, reason: verdict.reason });
        if (verdict.reason === RESOLVED_BEFORE_DELIVERY) {
          const timeoutMs = deadline.callTimeoutMs(config.pagerduty.timeoutMs);
          await recordLoneResolve(record, routeOf(record, router, logger), { config, logger, timeoutMs, now: now() });
        }
      } else result.lostRaces++;
      return false;
    }
    if (verdict.kind === 'defer') {
      if (await store.replace(markPending(record, now(), verdict.until))) result.waiting++;
      else result.lostRaces++;
      return false;
    }
    return true;
  };

  /** One routing key's deliveries, oldest first, paced. */
  const lane = async (records: DeliveryRecord[], route: RouteChoice | undefined, keyId: string | undefined) => {
    for (const [index, record] of records.entries()) {
      const budget = deadline.remainingMs() - config.pagerduty.timeoutMs;
      const waitMs = keyId === undefined ? 0 : budget > 0 ? pacer.reserve(keyId, budget) : undefined;
      if (waitMs === undefined) {
        result.deferred += records.length - index;
        return;
      }
      if (waitMs > 0) await sleep(waitMs);
      if (!(await ordered(record))) continue;
      const leased = markSending(record, now(), config.store.leaseSeconds * 1000);
      if (!(await store.replace(leased))) {
        result.lostRaces++;
        continue;
      }
      result.attempted++;
      const outcome = await deps.send(leased, route?.routingKey, { config, logger, deadline, now });
      if (outcome.record.status === DeliveryStatus.DELIVERED) result.delivered++;
      else if (outcome.record.status === DeliveryStatus.DEAD) result.dead++;
      else result.retrying++;
      if (outcome.reason !== undefined) result.failures[outcome.reason] = (result.failures[outcome.reason] ?? 0) + 1;
      if (await store.replace(outcome.record)) related.set(record.deliveryKey, outcome.record);
      else result.lostRaces++;
      if (outcome.reason === DeliveryFailureReason.RATE_LIMITED && keyId !== undefined) {
        pacer.block(keyId);
        result.rateLimitedKeys++;
        logger.warn('PagerDuty rate-limited a routing key: the rest waits for the next run', {
          route: record.routeName,
        });
        result.deferred += records.length - index - 1;
        return;
      }
    }
  };

  const lanes = new Map<
    string,
    { route: RouteChoice | undefined; keyId: string | undefined; records: DeliveryRecord[] }
  >();
  for (const record of due) {
    const route = routeOf(record, router, logger);
    const keyId = route?.routingKey === undefined ? undefined : KeyPacer.idOf(route.routingKey);
    const laneId = keyId ?? `no-key:${record.routeName}`;
    const entry = lanes.get(laneId) ?? { route, keyId, records: [] };
    entry.records.push(record);
    lanes.set(laneId, entry);
  }
  await Promise.all([...lanes.values()].map((entry) => lane(entry.records, entry.route, entry.keyId)));
  return result;
}

export type { RelayDeps, RelayResult };
export { RELAY_BATCH, relayDue };
