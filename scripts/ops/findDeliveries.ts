/**
 * Which stored deliveries `npm run trace` shows, read through the store port only (`get`, `getMarkers`, `list`), so
 * the memory, file and Tablestore stores answer alike. What each query reads:
 *
 * | Query | Reads | Finds |
 * |---|---|---|
 * | a delivery key (`d1-…`) | the row, then its counterpart's row: 2 single-row reads | that delivery and the other half of its occurrence |
 * | a `dedup_key` | its occurrence marker (1 row), then one batch of the latest occurrence's candidate rows: trigger and resolve, with and without a `startsAt` (4 rows; a `group:` key × each route name) | every delivery of the latest occurrence |
 * | a `dedup_key` with `--scan` | every row (`list()`) | every delivery of every occurrence still stored |
 * | label matchers (`--scan` only) | every row (`list()`) | every delivery whose alert labels (a group's: any of its alerts') satisfy all matchers |
 *
 * Read-only: nothing is written (the file store drops rows past their TTL while it reads, as every read of it does).
 */
import { EventAction } from '../../shared/constants';
import { counterpartKeyOf, deliveryKeyOf, NO_OCCURRENCE } from '../../shared/delivery/deliveryKey';
import { GROUP_KEY_PREFIX } from '../../shared/pagerduty/dedupKey';
import { type Matcher, matches } from '../../shared/pagerduty/parseMatcher';
import type { DeliveryRecord } from '../../shared/store/DeliveryRecord';
import type { DeliveryStore } from '../../shared/store/DeliveryStore';

type TraceQuery =
  | { kind: 'delivery-key'; deliveryKey: string }
  | { kind: 'dedup-key'; dedupKey: string }
  | { kind: 'labels'; matchers: readonly Matcher[] };

interface FoundDeliveries {
  /** Newest first (by when the bridge received them). */
  records: DeliveryRecord[];
  /** What was read, in words (for the operator: cost and completeness). */
  read: string;
  /** Older occurrences may exist beyond what was read (a dedup_key without `--scan`). */
  partial: boolean;
}

/** Every label set a stored event carries: the alert's, or each alert's of a group event. */
function labelSetsOf(record: DeliveryRecord): Record<string, string>[] {
  const details = (record.event.payload.custom_details ?? {}) as {
    labels?: Record<string, string>;
    firing?: { labels?: Record<string, string> }[];
    resolved?: { labels?: Record<string, string> }[];
  };
  const sets = [
    details.labels,
    ...[...(details.firing ?? []), ...(details.resolved ?? [])].map((entry) => entry.labels),
  ];
  return sets.filter((labels): labels is Record<string, string> => labels !== null && typeof labels === 'object');
}

/** Whether any of the record's alerts satisfies every matcher. */
function matchesLabels(record: DeliveryRecord, matchers: readonly Matcher[]): boolean {
  return labelSetsOf(record).some((labels) => matchers.every((matcher) => matches(matcher, labels)));
}

const newestFirst = (a: DeliveryRecord, b: DeliveryRecord) => b.createdAt - a.createdAt || b.updatedAt - a.updatedAt;

/** The delivery keys the latest occurrence of `dedupKey` can have (per-group keys carry the route's name). */
function candidateKeys(
  dedupKey: string,
  latestOccurrence: number | undefined,
  routeNames: readonly string[],
): string[] {
  const occurrences = [...new Set([latestOccurrence ?? NO_OCCURRENCE, NO_OCCURRENCE])];
  const routes = dedupKey.startsWith(GROUP_KEY_PREFIX) ? routeNames : [undefined];
  const keys: string[] = [];
  for (const occurrence of occurrences) {
    for (const routeName of routes) {
      for (const action of [EventAction.TRIGGER, EventAction.RESOLVE]) {
        keys.push(deliveryKeyOf({ dedupKey, action, occurrence, routeName }));
      }
    }
  }
  return keys;
}

/**
 * @param options.routeNames every configured route name and `default` (for `group:` dedup keys)
 * @param options.scan read every row: the only way to answer label matchers, and a dedup_key's older occurrences
 * @example
 * const found = await findDeliveries(store, { kind: 'dedup-key', dedupKey: 'bec7…' }, { routeNames, scan: false });
 */
async function findDeliveries(
  store: DeliveryStore,
  query: TraceQuery,
  options: { routeNames: readonly string[]; scan: boolean },
): Promise<FoundDeliveries> {
  if (query.kind === 'delivery-key') {
    const record = (await store.get([query.deliveryKey])).get(query.deliveryKey);
    if (record === undefined) return { records: [], read: '1 row', partial: false };
    const counterpartKey = counterpartKeyOf(record);
    const counterpart = (await store.get([counterpartKey])).get(counterpartKey);
    const records = counterpart === undefined ? [record] : [record, counterpart];
    return { records: records.sort(newestFirst), read: '2 rows (the delivery and its counterpart)', partial: false };
  }
  if (query.kind === 'labels' || options.scan) {
    const all = await store.list();
    const wanted =
      query.kind === 'labels'
        ? all.filter((record) => matchesLabels(record, query.matchers))
        : all.filter((record) => record.dedupKey === query.dedupKey);
    return { records: wanted.sort(newestFirst), read: `every stored row (${all.length} deliveries)`, partial: false };
  }
  const marker = (await store.getMarkers([query.dedupKey])).get(query.dedupKey);
  const keys = candidateKeys(query.dedupKey, marker?.latestOccurrence, options.routeNames);
  const records = [...(await store.get(keys)).values()].sort(newestFirst);
  return {
    records,
    read: `the occurrence marker and ${keys.length} candidate rows of the latest occurrence`,
    partial: true,
  };
}

export type { FoundDeliveries, TraceQuery };
export { findDeliveries, labelSetsOf, matchesLabels };
