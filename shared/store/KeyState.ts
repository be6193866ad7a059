/**
 * Shared state of one PagerDuty routing key (its pacing window, circuit, drain lease), seen by every instance of both
 * functions: one row per key, changed only by compare-and-set on `version`, exactly like occurrence markers
 * (`OccurrenceMarker.ts`). Version 1 is written only where no live row is (none, or an expired one); version N only
 * over a live N - 1. Rows live beside the deliveries (same store, their own TTL in `expiresAt`).
 *
 * The row is keyed by `keyId`, the 16-hex-digit hash of the routing key (`keyIdOf` in `shared/delivery/keyIdOf.ts`), never by the key itself:
 * row keys and file names are printed, and a routing key is a secret.
 */

interface KeyState {
  /** `keyIdOf(routingKey)`: 16 lowercase hex digits. */
  keyId: string;
  version: number;
  /** Epoch ms. */
  updatedAt: number;
  /** Epoch ms after which the row counts as absent (and version 1 may be written over it). */
  expiresAt: number;
  /** The state itself: plain JSON data (stored as one JSON document). */
  data: Record<string, unknown>;
}

const KEY_ID = /^[0-9a-f]{16}$/;

/** Throws on an id that is not a key hash, so a routing key can never become a row key or a file name. */
function assertKeyId(keyId: string): void {
  if (!KEY_ID.test(keyId)) throw new TypeError('a key state id must be 16 lowercase hex digits (keyIdOf)');
}

export type { KeyState };
export { assertKeyId };
