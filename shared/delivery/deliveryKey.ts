/**
 * The delivery key: one per (alert identity, status, occurrence). A repeat notification of a firing alert maps to the
 * key it already has (a duplicate); its resolve is a new key; a re-fire with a new `startsAt` is a new key. In
 * per-group mode the route joins the key, since one group can be split across routes.
 */
import { createHash } from 'node:crypto';
import type { EventAction } from '../constants';

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
  return `${DELIVERY_KEY_VERSION}-${createHash('sha256').update(canonical, 'utf8').digest('hex')}`;
}

/** The key of the other half of an occurrence: the resolve of a trigger, the trigger of a resolve (per-alert mode). */
function counterpartKeyOf(parts: { dedupKey: string; action: EventAction; occurrence: number }): string {
  const action = parts.action === 'trigger' ? 'resolve' : 'trigger';
  return deliveryKeyOf({ dedupKey: parts.dedupKey, action, occurrence: parts.occurrence });
}

export { counterpartKeyOf, DELIVERY_KEY_VERSION, deliveryKeyOf, NO_OCCURRENCE };
