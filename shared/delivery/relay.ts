/**
 * The relay: takes due deliveries from the store (PENDING/RETRY whose time has come, SENDING whose lease expired),
 * claims each by compare-and-set, sends it and records the outcome. Bounded by the run's deadline: what is left waits
 * for the next run. Deliveries are taken oldest first.
 */
import type { BridgeConfig } from '../config/config';
import { DeliveryStatus } from '../constants';
import type { Deadline } from '../fc/deadline';
import type { Logger } from '../logger';
import type { DeliveryStore } from '../store/DeliveryStore';
import { counterpartKeyOf } from './deliveryKey';
import { orderVerdict } from './ordering';
import type { Router } from './Router';
import type { sendRecord } from './sendRecord';
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
  /** Left for the next run because the time budget ran out. */
  deferred: number;
}

interface RelayDeps {
  config: BridgeConfig;
  router: Router;
  store: DeliveryStore;
  logger: Logger;
  deadline: Deadline;
  send: typeof sendRecord;
  now?: () => number;
}

async function relayDue(deps: RelayDeps): Promise<RelayResult> {
  const { config, router, store, logger, deadline } = deps;
  const now = deps.now ?? Date.now;
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
  };
  const due = await store.listDue(RELAY_BATCH);
  result.due = due.length;
  // What ordering needs, for the whole batch in two reads.
  const related = await store.get(due.map((record) => counterpartKeyOf(record)));
  const markers = await store.getMarkers(due.map((record) => record.dedupKey));
  for (const [index, record] of due.entries()) {
    if (deadline.remainingMs() < config.pagerduty.timeoutMs) {
      result.deferred = due.length - index;
      break;
    }
    const counterpartKey = counterpartKeyOf(record);
    const counterpart = related.get(counterpartKey);
    const verdict = orderVerdict({ ...record, marker: markers.get(record.dedupKey), counterpart, now: now() });
    if (verdict.kind !== 'send' || verdict.stopTrigger) {
      const stop =
        verdict.kind === 'supersede' ? verdict.supersedeTrigger : verdict.kind === 'send' && verdict.stopTrigger;
      if (stop && counterpart !== undefined) {
        const stopped = markSuperseded(counterpart, now(), 'its resolve arrived first');
        if (await store.replace(stopped)) related.set(counterpartKey, stopped);
      }
    }
    if (verdict.kind === 'supersede') {
      const superseded = markSuperseded(record, now(), verdict.reason);
      if (await store.replace(superseded)) {
        result.superseded++;
        related.set(record.deliveryKey, superseded);
        logger.info('not sent: out of order', { deliveryKey: record.deliveryKey, reason: verdict.reason });
      } else result.lostRaces++;
      continue;
    }
    if (verdict.kind === 'defer') {
      if (await store.replace(markPending(record, now(), verdict.until))) result.waiting++;
      else result.lostRaces++;
      continue;
    }
    const leased = markSending(record, now(), config.store.leaseSeconds * 1000);
    if (!(await store.replace(leased))) {
      result.lostRaces++;
      continue;
    }
    // The route recorded with the delivery wins while it exists (a resolve must reach its trigger's key).
    const route = router.byName(record.routeName);
    if (route === undefined) logger.warn('recorded route no longer exists', { route: record.routeName });
    result.attempted++;
    const outcome = await deps.send(leased, route?.routingKey, { config, logger, deadline });
    if (outcome.status === DeliveryStatus.DELIVERED) result.delivered++;
    else if (outcome.status === DeliveryStatus.DEAD) result.dead++;
    else result.retrying++;
    if (await store.replace(outcome)) related.set(record.deliveryKey, outcome);
    else result.lostRaces++;
  }
  return result;
}

export type { RelayDeps, RelayResult };
export { RELAY_BATCH, relayDue };
