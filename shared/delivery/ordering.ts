/**
 * Order per PagerDuty `dedup_key`, decided before every send (CONTRACT.md §5.8). Pure: the caller loads the delivery's
 * counterpart (the resolve of a trigger, the trigger of a resolve: same identity and occurrence) and the identity's
 * occurrence marker, and applies the verdict.
 *
 * | Delivery | Situation                                                        | Verdict                                     |
 * |----------|------------------------------------------------------------------|---------------------------------------------|
 * | any      | a newer occurrence of the identity has been seen                  | supersede (a stale trigger would reopen, a stale resolve would close the live incident) |
 * | trigger  | its own resolve is already known                                  | supersede (never a trigger after its resolve) |
 * | resolve  | its trigger is delivered, or unknown to the bridge                | send (PagerDuty drops a resolve it cannot match) |
 * | resolve  | its trigger is being sent right now (live lease)                  | defer until the lease ends                   |
 * | resolve  | its trigger was attempted but not confirmed (timeout, crash, …)   | send, and stop the trigger: the trigger may have landed, and a resolve is harmless if not |
 * | resolve  | its trigger was never sent (queued, dry-run, dead before sending) | supersede both: no alert event for an alert already over |
 * | group resolve (per-group mode) | no newer-occurrence check; its trigger finished or superseded | send |
 *
 * A group's resolve is judged only against a trigger still waiting: Alertmanager and ARMS drop an alert from its
 * group once its resolve went out, so the group's last resolve can carry only older alerts than the trigger that
 * opened the PagerDuty alert; holding it back as stale would leave that alert open for good. The cost (a late
 * resolve closing a group alert that fires again) is repaired by the group's next repeat notification.
 */
import { DeliveryStatus, EventAction } from '../constants';
import { GROUP_KEY_PREFIX } from '../pagerduty/dedupKey';
import type { DeliveryRecord } from '../store/DeliveryRecord';
import type { OccurrenceMarker } from '../store/OccurrenceMarker';
import { NO_OCCURRENCE } from './deliveryKey';

type OrderVerdict =
  | { kind: 'send'; stopTrigger?: boolean }
  | { kind: 'supersede'; reason: string; supersedeTrigger?: boolean }
  | { kind: 'defer'; until: number };

/** Reason recorded on an occurrence resolved before its trigger was delivered (the health report counts these). */
const RESOLVED_BEFORE_DELIVERY = 'resolved before its trigger was delivered';

const UNFINISHED: ReadonlySet<string> = new Set([DeliveryStatus.PENDING, DeliveryStatus.RETRY, DeliveryStatus.SENDING]);

function orderVerdict(input: {
  action: EventAction;
  occurrence: number;
  /** The delivery's PagerDuty dedup_key (per-group keys start with `group:`). */
  dedupKey?: string;
  marker?: OccurrenceMarker;
  counterpart?: DeliveryRecord;
  now: number;
}): OrderVerdict {
  const { action, occurrence, marker, counterpart, now } = input;
  const groupResolve = action === EventAction.RESOLVE && input.dedupKey?.startsWith(GROUP_KEY_PREFIX) === true;
  if (groupResolve && (counterpart === undefined || !UNFINISHED.has(counterpart.status))) return { kind: 'send' };
  if (!groupResolve && occurrence !== NO_OCCURRENCE && marker !== undefined && marker.latestOccurrence > occurrence) {
    return {
      kind: 'supersede',
      reason:
        action === EventAction.TRIGGER
          ? 'a newer occurrence of this alert exists: an older trigger would reopen it'
          : 'a newer occurrence of this alert has fired since: this resolve would close it',
    };
  }
  if (action === EventAction.TRIGGER) {
    return counterpart === undefined ? { kind: 'send' } : { kind: 'supersede', reason: 'its resolve arrived first' };
  }
  if (counterpart === undefined || counterpart.status === DeliveryStatus.DELIVERED) return { kind: 'send' };
  if (counterpart.status === DeliveryStatus.SENDING && (counterpart.leaseUntil ?? 0) > now) {
    return { kind: 'defer', until: counterpart.leaseUntil ?? now };
  }
  const attempted = counterpart.attempts > 0 || counterpart.status === DeliveryStatus.SENDING;
  if (attempted) return { kind: 'send', stopTrigger: UNFINISHED.has(counterpart.status) };
  return { kind: 'supersede', reason: RESOLVED_BEFORE_DELIVERY, supersedeTrigger: UNFINISHED.has(counterpart.status) };
}

export type { OrderVerdict };
export { orderVerdict, RESOLVED_BEFORE_DELIVERY };
