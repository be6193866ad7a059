/**
 * The delivery key: one per (alert identity, status, occurrence). A repeat notification of a firing alert maps to the
 * key it already has (a duplicate); its resolve is a new key; a re-fire with a new `startsAt` is a new key. In
 * per-group mode the route joins the key, since one group can be split across routes.
 */
import type { EventAction } from '../constants';
import { sha256Hex } from '../sha256';

/** Bump when the canonical form below changes: old rows would no longer dedupe new notifications. */
const DELIVERY_KEY_VERSION = 'd1';

/** `occurrence` value of an alert without a usable `startsAt`. */
const NO_OCCURRENCE = -1;

/**
 * @param dedupKey the PagerDuty dedup_key (alert identity or group key)
 * @param occurrence `startsAt` as epoch ms (so 3 and 9 fractional digits give one key), or NO_OCCURRENCE
 * @example
 * deliveryKeyOf({ dedupKey: 'bec7…', action: 'trigger', occurrence: 1613978295578 }); // 'd1-<64 hex digits>'
 */
function deliveryKeyOf(parts: {
  dedupKey: string;
  action: EventAction;
  occurrence: number;
  routeName?: string;
}): string {
  const canonical = JSON.stringify([
    DELIVERY_KEY_VERSION,
    parts.dedupKey,
    parts.action,
    parts.occurrence,
    parts.routeName ?? null,
  ]);
  return `${DELIVERY_KEY_VERSION}-${sha256Hex(canonical)}`;
}

/**
 * The key of the other half of an occurrence: the resolve of a trigger, the trigger of a resolve. Same scheme as the
 * delivery's own key: the other action, the same `dedupKey` and occurrence, and the route only when the delivery's
 * key has it (per-group mode).
 *
 * Every record carries `routeName`, but only per-group keys include it (a per-alert resolve may follow its trigger to
 * another route, so the route cannot be part of a per-alert key). So when `deliveryKey` is given (a whole record is
 * passed, as the ordering code does), the route joins the counterpart key only if the record's own key was made with
 * it; without `deliveryKey`, a given `routeName` is taken as a per-group key's route.
 *
 * @example
 * counterpartKeyOf(perAlertRecord); // its per-alert counterpart, whatever route the record names
 * counterpartKeyOf({ dedupKey: 'group:v1:…', action: 'trigger', occurrence, routeName: 'db' }); // the group's resolve
 */
function counterpartKeyOf(parts: {
  dedupKey: string;
  action: EventAction;
  occurrence: number;
  routeName?: string;
  deliveryKey?: string;
}): string {
  const { dedupKey, occurrence, routeName } = parts;
  const action = parts.action === 'trigger' ? 'resolve' : 'trigger';
  const routed =
    routeName !== undefined &&
    (parts.deliveryKey === undefined ||
      parts.deliveryKey === deliveryKeyOf({ dedupKey, action: parts.action, occurrence, routeName }));
  return deliveryKeyOf({ dedupKey, action, occurrence, routeName: routed ? routeName : undefined });
}

export { counterpartKeyOf, DELIVERY_KEY_VERSION, deliveryKeyOf, NO_OCCURRENCE };
