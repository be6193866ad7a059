/**
 * What the webhook would make of a callback, with no store and no PagerDuty: the same split (`splitCallback`) and the
 * same drafts (`draftDeliveries`, so the same routing, event building and delivery keys), mapped back to each alert
 * of the callback. `npm run routes` prints it.
 *
 * What it cannot know without the store, and so leaves out: dedupe against earlier callbacks, ordering against the
 * identity's other deliveries, and a resolve's recorded route (a resolve goes where its stored trigger went; with no
 * trigger known, the route its own labels select, which is what this shows). `npm run trace` reads what happened.
 */
import type { Alert, AlertGroup } from '../alerts/types';
import type { DeliveryMode } from '../constants';
import type { DeliveryRecord } from '../store/DeliveryRecord';
import { type DraftDeps, draftDeliveries, splitCallback } from './draftDeliveries';
import type { RouteChoice } from './Router';

/** One valid alert of the callback and the delivery it becomes. */
interface AlertPreview {
  /** The alert's index in the callback's `alerts[]` (rejected alerts keep theirs in `group.rejected`). */
  index: number;
  alert: Alert;
  mode: DeliveryMode;
  route: RouteChoice;
  /** The drafted delivery: its key, dedup_key, and the exact event (PENDING, never written anywhere). */
  record: DeliveryRecord;
  /** `alerts[]` index of the first alert whose delivery this alert's delivery is (per-group, or a repeat in the callback). */
  sameDeliveryAs?: number;
}

/** The `alerts[]` index of each valid alert: the indices the rejected ones leave, in order. */
function callbackIndices(group: AlertGroup): number[] {
  const rejected = new Set(group.rejected.map((entry) => entry.index));
  const indices: number[] = [];
  for (let index = 0; indices.length < group.alerts.length; index += 1) if (!rejected.has(index)) indices.push(index);
  return indices;
}

/**
 * @param now the clock (epoch ms) drafting uses: `createdAt` and a resolve's fallback timestamp
 * @example
 * const reading = readCallback(body, 'application/json', config.webhook);
 * if (reading.kind === 'callback') previewDeliveries(reading.group, { config, router, logger }, Date.now());
 */
function previewDeliveries(group: AlertGroup, deps: DraftDeps, now: number): AlertPreview[] {
  const parts = splitCallback(group, deps.router);
  const drafted = draftDeliveries(group, deps, new Map(), now, parts);
  const indices = callbackIndices(group);
  const partOf = new Map<Alert, number>();
  parts.forEach((part, at) => {
    for (const alert of part.alerts) partOf.set(alert, at);
  });
  const firstByKey = new Map<string, number>();
  return group.alerts.map((alert, position) => {
    const at = partOf.get(alert) as number;
    const part = parts[at];
    const { record, route } = drafted[at] as (typeof drafted)[number];
    const index = indices[position] as number;
    const first = firstByKey.get(record.deliveryKey);
    if (first === undefined) firstByKey.set(record.deliveryKey, index);
    const preview: AlertPreview = { index, alert, mode: part?.mode as DeliveryMode, route, record };
    if (first !== undefined) preview.sameDeliveryAs = first;
    return preview;
  });
}

export type { AlertPreview };
export { previewDeliveries };
