/**
 * What ordering (`ordering.ts`) needs to judge a set of deliveries, loaded in a fixed number of store reads whatever
 * their number: each delivery's counterpart (the resolve of a trigger, the trigger of a resolve), its identity's
 * occurrence marker, for a resolve older than its marker, the newer occurrence's trigger, and for a trigger newer than
 * its marker, the older occurrence's resolve (one batch read for both). Used by the webhook and the relay alike, so
 * both judge a delivery against the same facts.
 */
import type { DeliveryRecord } from '../store/DeliveryRecord';
import type { DeliveryStore } from '../store/DeliveryStore';
import type { OccurrenceMarker } from '../store/OccurrenceMarker';
import { counterpartKeyOf } from './deliveryKey';
import { mayBeStale, newerTriggerKeyOf, type OrderVerdict, olderResolveKeyOf, orderVerdict } from './ordering';

type OrderedRecord = Pick<DeliveryRecord, 'deliveryKey' | 'dedupKey' | 'action' | 'occurrence' | 'routeName'>;

interface OrderingContext {
  /** Rows by delivery key: counterparts, newer triggers and older resolves (updated by callers as they write). */
  related: Map<string, DeliveryRecord>;
  markers: Map<string, OccurrenceMarker>;
}

/**
 * Loads the context of `records`. `known` and `knownMarkers` may hold what was read already (a resolve's route is its
 * trigger's, so the webhook reads counterparts, and the markers with them, before drafting); only what is missing is
 * read. `knownMarkers`, when given, covers every record's dedup key.
 */
async function loadOrderingContext(
  store: DeliveryStore,
  records: readonly OrderedRecord[],
  known?: Map<string, DeliveryRecord>,
  knownMarkers?: Map<string, OccurrenceMarker>,
): Promise<OrderingContext> {
  let related = known;
  let markers = knownMarkers;
  if (related === undefined || markers === undefined) {
    const counterpartKeys = related === undefined ? records.map((record) => counterpartKeyOf(record)) : [];
    const dedupKeys = markers === undefined ? records.map((record) => record.dedupKey) : [];
    const read = await store.getWithMarkers(counterpartKeys, dedupKeys);
    related ??= read.records;
    markers ??= read.markers;
  }
  // A resolve older than its identity's marker is stale only if the newer trigger may have landed, and a trigger newer
  // than its marker waits while the older occurrence's resolve is on the wire: read those, in one batch.
  const newerKeys = records.flatMap((record) => {
    const marker = markers.get(record.dedupKey);
    const key = newerTriggerKeyOf(record, marker) ?? olderResolveKeyOf(record, marker);
    return key === undefined || related.has(key) ? [] : [key];
  });
  if (newerKeys.length > 0) for (const [key, row] of await store.get([...new Set(newerKeys)])) related.set(key, row);
  return { related, markers };
}

/**
 * The verdict of one delivery in a loaded context, and the counterpart it was judged against.
 * `counterpartKey`: the record's `counterpartKeyOf`, when the caller has it already (two SHA-256 fewer).
 */
function judge(
  record: OrderedRecord,
  context: OrderingContext,
  now: number,
  counterpartKey: string = counterpartKeyOf(record),
): { verdict: OrderVerdict; counterpart?: DeliveryRecord } {
  const counterpart = context.related.get(counterpartKey);
  const marker = context.markers.get(record.dedupKey);
  const newerKey = newerTriggerKeyOf(record, marker);
  const newerTrigger = newerKey === undefined ? undefined : context.related.get(newerKey);
  const olderKey = olderResolveKeyOf(record, marker);
  const olderResolve = olderKey === undefined ? undefined : context.related.get(olderKey);
  // Named fields, not a spread of the record: a spread that adds keys takes V8's slow path (~1 KB, microseconds).
  const { action, occurrence, dedupKey } = record;
  const input = { action, occurrence, dedupKey, marker, counterpart, newerTrigger, olderResolve, now };
  return { verdict: orderVerdict(input), counterpart };
}

/**
 * For the per-alert resolves among `records` (their rows written: SENDING), the identity's marker as it is now and,
 * where it names a newer occurrence, that occurrence's trigger, except the triggers in `skip` (the sender's own: its
 * lane sends the older occurrence first). `keys` maps each such resolve to its trigger's key. The resolve's half of the
 * older-resolve/newer-trigger recheck, for the webhook (`deliverCallback.ts`) and the relay (`relay.ts`) alike.
 */
async function readNewerTriggers(
  store: DeliveryStore,
  records: readonly DeliveryRecord[],
  skip: ReadonlySet<string>,
): Promise<{ markers: Map<string, OccurrenceMarker>; keys: Map<string, string>; rows: Map<string, DeliveryRecord> }> {
  const resolves = records.filter(mayBeStale);
  const keys = new Map<string, string>();
  if (resolves.length === 0) return { markers: new Map(), keys, rows: new Map() };
  const markers = await store.getMarkers([...new Set(resolves.map((record) => record.dedupKey))]);
  for (const record of resolves) {
    const key = newerTriggerKeyOf(record, markers.get(record.dedupKey));
    if (key !== undefined && !skip.has(key)) keys.set(record.deliveryKey, key);
  }
  const rows = keys.size === 0 ? new Map<string, DeliveryRecord>() : await store.get([...new Set(keys.values())]);
  return { markers, keys, rows };
}

export type { OrderingContext };
export { judge, loadOrderingContext, readNewerTriggers };
