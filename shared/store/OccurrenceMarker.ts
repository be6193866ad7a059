/**
 * The small per-identity record that keeps PagerDuty events in order across occurrences: the latest occurrence
 * (`startsAt`) seen for a `dedup_key`. Before any send, the bridge compares the delivery's occurrence with it:
 *
 * - a resolve of an older occurrence, arriving after a newer occurrence's trigger, would close the live incident;
 * - a trigger of an older occurrence (a late repeat notification) would reopen what is already resolved.
 *
 * Both are superseded instead of sent. Markers live beside the deliveries (same store, same TTL) and change only
 * forward, by compare-and-set on `version`.
 */
import { sha256Hex } from '../sha256';

interface OccurrenceMarker {
  dedupKey: string;
  /** The latest `startsAt` (epoch ms) seen for this dedup_key. */
  latestOccurrence: number;
  version: number;
  updatedAt: number;
  expiresAt: number;
}

/** Store key of a dedup_key's marker (a prefix apart from delivery keys, which start with `d1-`). */
function markerKeyOf(dedupKey: string): string {
  return `m1-${sha256Hex(dedupKey)}`;
}

export type { OccurrenceMarker };
export { markerKeyOf };
