/**
 * Order per PagerDuty `dedup_key`, decided before every send (CONTRACT.md §5.8). Pure: the caller loads the delivery's
 * counterpart (the resolve of a trigger, the trigger of a resolve: same identity and occurrence) and the identity's
 * occurrence marker, and applies the verdict.
 *
 * | Delivery | Situation                                                        | Verdict                                     |
 * |----------|------------------------------------------------------------------|---------------------------------------------|
 * | trigger  | a newer occurrence of the identity has been seen                  | supersede (a stale trigger would reopen what is over) |
 * | resolve  | a newer occurrence's trigger may have reached PagerDuty           | supersede (it would close the live incident) |
 * | trigger  | its own resolve is already known                                  | supersede (never a trigger after its resolve) |
 * | trigger  | the older occurrence's resolve is being sent right now (live lease) | defer until the lease ends (landing after this trigger, it would close the incident) |
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
 *
 * A trigger's older occurrence is the one its marker names while older than the trigger (`olderResolveKeyOf`): the only
 * one whose resolve may still be on the wire (a resolve of an even older occurrence is stale against that occurrence's
 * trigger, row 2). Judged on both sides again after their claims (`recheckClaimed.ts` `recheckOlderResolves`, with the
 * interleavings; `relay.ts` `recheckOccurrences`), so two instances judging at once cannot both send.
 */
import { DeliveryStatus, EventAction } from '../constants';
import { GROUP_KEY_PREFIX } from '../pagerduty/dedupKey';
import type { DeliveryRecord } from '../store/DeliveryRecord';
import type { OccurrenceMarker } from '../store/OccurrenceMarker';
import { deliveryKeyOf, NO_OCCURRENCE } from './deliveryKey';

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
  /** The trigger of the marker's (newer) occurrence, when there is one: a resolve is stale only if it may have landed. */
  newerTrigger?: DeliveryRecord;
  /** For a trigger newer than its marker: the resolve of the marker's (older) occurrence, when there is one. */
  olderResolve?: DeliveryRecord;
  now: number;
}): OrderVerdict {
  const { action, occurrence, marker, counterpart, now } = input;
  const groupResolve = action === EventAction.RESOLVE && input.dedupKey?.startsWith(GROUP_KEY_PREFIX) === true;
  if (groupResolve && (counterpart === undefined || !UNFINISHED.has(counterpart.status))) return { kind: 'send' };
  const newer =
    !groupResolve && occurrence !== NO_OCCURRENCE && marker !== undefined && marker.latestOccurrence > occurrence;
  if (newer && action === EventAction.TRIGGER) {
    return { kind: 'supersede', reason: 'a newer occurrence of this alert exists: an older trigger would reopen it' };
  }
  // An older resolve would close the newer occurrence's incident, if that incident may exist. When the newer trigger
  // never went out (queued, or itself resolved before delivery), the older resolve is still needed to close its own.
  if (newer && mayHaveLanded(input.newerTrigger)) {
    return {
      kind: 'supersede',
      reason: 'a newer occurrence of this alert has fired since: this resolve would close it',
    };
  }
  if (action === EventAction.TRIGGER) {
    if (counterpart !== undefined) return { kind: 'supersede', reason: 'its resolve arrived first' };
    const older = input.olderResolve;
    if (older !== undefined && isOnTheWire(older, now)) return { kind: 'defer', until: older.leaseUntil ?? now };
    return { kind: 'send' };
  }
  if (counterpart === undefined || counterpart.status === DeliveryStatus.DELIVERED) return { kind: 'send' };
  if (isOnTheWire(counterpart, now)) {
    return { kind: 'defer', until: counterpart.leaseUntil ?? now };
  }
  const attempted = counterpart.attempts > 0 || counterpart.status === DeliveryStatus.SENDING;
  if (attempted) return { kind: 'send', stopTrigger: UNFINISHED.has(counterpart.status) };
  return { kind: 'supersede', reason: RESOLVED_BEFORE_DELIVERY, supersedeTrigger: UNFINISHED.has(counterpart.status) };
}

/** A per-alert resolve of a known occurrence: the kind a newer occurrence's trigger can make stale. */
function mayBeStale(record: Pick<DeliveryRecord, 'action' | 'dedupKey' | 'occurrence'>): boolean {
  return (
    record.action === EventAction.RESOLVE &&
    record.occurrence !== NO_OCCURRENCE &&
    !record.dedupKey.startsWith(GROUP_KEY_PREFIX)
  );
}

/**
 * The key of the trigger of the identity's newest occurrence, for a per-alert resolve of an older one (the only case
 * `orderVerdict` needs it); undefined otherwise.
 */
function newerTriggerKeyOf(
  record: Pick<DeliveryRecord, 'action' | 'dedupKey' | 'occurrence'>,
  marker: OccurrenceMarker | undefined,
): string | undefined {
  if (!mayBeStale(record) || marker === undefined || marker.latestOccurrence <= record.occurrence) return undefined;
  return deliveryKeyOf({ dedupKey: record.dedupKey, action: EventAction.TRIGGER, occurrence: marker.latestOccurrence });
}

/**
 * The key of the resolve of the identity's older occurrence, for a per-alert trigger newer than its marker (the only
 * case `orderVerdict` needs it); undefined otherwise.
 */
function olderResolveKeyOf(
  record: Pick<DeliveryRecord, 'action' | 'dedupKey' | 'occurrence'>,
  marker: OccurrenceMarker | undefined,
): string | undefined {
  if (record.action !== EventAction.TRIGGER || record.dedupKey.startsWith(GROUP_KEY_PREFIX)) return undefined;
  if (record.occurrence === NO_OCCURRENCE || marker === undefined || marker.latestOccurrence >= record.occurrence) {
    return undefined;
  }
  if (marker.latestOccurrence === NO_OCCURRENCE) return undefined;
  return deliveryKeyOf({ dedupKey: record.dedupKey, action: EventAction.RESOLVE, occurrence: marker.latestOccurrence });
}

/** Whether a delivery is being sent right now: SENDING under a lease that has not ended. */
function isOnTheWire(record: DeliveryRecord, now: number): boolean {
  return record.status === DeliveryStatus.SENDING && (record.leaseUntil ?? 0) > now;
}

/** Whether a trigger may have reached PagerDuty: delivered, attempted, or being sent. */
function mayHaveLanded(trigger: DeliveryRecord | undefined): boolean {
  if (trigger === undefined) return false;
  return (
    trigger.status === DeliveryStatus.DELIVERED || trigger.status === DeliveryStatus.SENDING || trigger.attempts > 0
  );
}

export type { OrderVerdict };
export { isOnTheWire, mayBeStale, newerTriggerKeyOf, olderResolveKeyOf, orderVerdict, RESOLVED_BEFORE_DELIVERY };
