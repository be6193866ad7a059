/**
 * Per-group mode: one PagerDuty alert per notification group, as Alertmanager's notifier does (reference §2.1), for
 * routes configured with `"mode": "per-group"`. A group whose alerts match different routes is split by route by the
 * caller, and each part is built here with its route's name.
 */
import type { Alert, AlertGroup } from '../alerts/types';
import { urlParserOf } from '../alerts/urlParser';
import { AlertStatus, EventAction, SUMMARY_MAX_CODE_POINTS } from '../constants';
import { BridgeError } from '../errors';
import { groupDedupKey } from './dedupKey';
import {
  type BuildEventOptions,
  callbackParts,
  chooseSeverity,
  finishEvent,
  isoTimestamp,
  nonBlank,
  SEVERITY_RANK,
  toImages,
  toLinks,
  withoutUndefined,
} from './eventParts';
import { truncateCodePoints } from './truncateCodePoints';
import type { BuiltEvent } from './types';

/** Most links and images one group event carries: a large group would otherwise repeat a runbook link per alert. */
const MAX_GROUP_LINKS = 20;

/** Options of {@link buildGroupEvent}. */
interface BuildGroupEventOptions extends BuildEventOptions {
  /** The route the alerts matched; part of the `dedup_key`, so two routes never share an incident. */
  routeName: string;
}

function byName([a]: [string, string], [b]: [string, string]): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The name/value pairs every alert has in common (computed here: after a split by route, the callback's differ). */
function commonPairs(records: readonly Record<string, string>[]): Record<string, string> {
  const [first, ...rest] = records;
  if (!first) return {};
  return Object.fromEntries(Object.entries(first).filter(([name, value]) => rest.every((r) => r[name] === value)));
}

/** One value every alert shares, or undefined. */
function commonValue(values: readonly (string | undefined)[]): string | undefined {
  const first = nonBlank(values[0]);
  return first !== undefined && values.every((value) => value === first) ? first : undefined;
}

/**
 * Alertmanager's default title: `[FIRING:3] <group label values> (<other common label values>)`, or `[RESOLVED] …`.
 * Labels starting with `_` (ARMS's `_aliyun_arms_*` ids) stay out of it; they are in `custom_details`.
 */
function groupSummary(alerts: readonly Alert[], firing: readonly Alert[], group: AlertGroup): string {
  const prefix = firing.length > 0 ? `[FIRING:${firing.length}]` : '[RESOLVED]';
  const groupLabels = Object.entries(group.groupLabels).sort(byName);
  if (groupLabels.length === 0) {
    const first = firing[0] ?? alerts[0];
    return `${prefix} ${nonBlank(first?.summary) ?? nonBlank(first?.labels.alertname) ?? 'alerts'}`;
  }
  const title = groupLabels.map(([, value]) => value).join(' ');
  const others = Object.entries(commonPairs(alerts.map((alert) => alert.labels)))
    .filter(([name]) => !(name in group.groupLabels) && !name.startsWith('_'))
    .sort(byName)
    .map(([, value]) => value);
  return others.length > 0 ? `${prefix} ${title} (${others.join(' ')})` : `${prefix} ${title}`;
}

/** One alert as listed in a group event's `custom_details.firing` / `.resolved`. */
function alertEntry(alert: Alert, options: BuildEventOptions): Record<string, unknown> {
  return withoutUndefined({
    identity: alert.identity,
    summary: alert.summary,
    severity: chooseSeverity(alert, options.defaultSeverity).severity,
    starts_at: isoTimestamp(alert.startsAt),
    ends_at: isoTimestamp(alert.endsAt),
    labels: alert.labels,
    annotations: alert.annotations,
    generator_url: alert.generatorURL,
  });
}

/** The most urgent severity among `alerts`, and which alert and source gave it. */
function groupSeverity(alerts: readonly Alert[], options: BuildEventOptions) {
  let best = chooseSeverity(alerts[0] as Alert, options.defaultSeverity);
  let bestAlert = alerts[0] as Alert;
  for (const alert of alerts.slice(1)) {
    const candidate = chooseSeverity(alert, options.defaultSeverity);
    if (SEVERITY_RANK[candidate.severity] > SEVERITY_RANK[best.severity]) {
      best = candidate;
      bestAlert = alert;
    }
  }
  return { severity: best.severity, source: `most urgent alert (${bestAlert.identity}): ${best.source}` };
}

/**
 * Builds the Events v2 body for a notification group (or the part of it that matched one route).
 *
 * - `event_action`: `trigger` while any alert fires; `resolve` only when every alert is resolved.
 * - `dedup_key`: {@link groupDedupKey} of the route name, receiver and group labels.
 * - `summary`: `[FIRING:n] <group label values> (<other common label values>)`, cut to 1024 code points.
 * - `severity`: the most urgent of the alerts that decide the action (firing ones for a trigger).
 * - `timestamp`: the earliest `startsAt` of the firing alerts; for a resolve the latest `endsAt`, else `receivedAt`.
 * - `custom_details`: group/common labels, counts, the firing and resolved alerts, the callback context.
 *
 * @throws BridgeError when `alerts` is empty (a caller bug: an empty group has nothing to say).
 *
 * @example
 * const { event, cuts } = buildGroupEvent(alertsOfRoute, group, { routeName: route.name, defaultSeverity });
 */
function buildGroupEvent(alerts: readonly Alert[], group: AlertGroup, options: BuildGroupEventOptions): BuiltEvent {
  if (alerts.length === 0) throw new BridgeError('buildGroupEvent called without alerts');
  const cuts: string[] = [];
  const firing = alerts.filter((alert) => alert.status === AlertStatus.FIRING);
  const resolved = alerts.filter((alert) => alert.status !== AlertStatus.FIRING);
  const deciding = firing.length > 0 ? firing : alerts;

  const summary = truncateCodePoints(groupSummary(alerts, firing, group), SUMMARY_MAX_CODE_POINTS);
  if (summary.cut) {
    cuts.push(`payload.summary cut from ${summary.length} to ${SUMMARY_MAX_CODE_POINTS} code points`);
  }
  const { severity, source: severitySource } = groupSeverity(deciding, options);

  const startTimes = firing.map((alert) => alert.startsAt).filter((t): t is number => t !== undefined);
  const endTimes = alerts.map((alert) => alert.endsAt).filter((t): t is number => t !== undefined);
  const timestamp =
    firing.length > 0
      ? isoTimestamp(startTimes.length > 0 ? Math.min(...startTimes) : undefined)
      : (isoTimestamp(endTimes.length > 0 ? Math.max(...endTimes) : undefined) ?? isoTimestamp(options.receivedAt));

  const urls = urlParserOf(group);
  let links = toLinks(
    alerts.flatMap((alert) => alert.links),
    cuts,
    urls,
  );
  let images = toImages(
    alerts.flatMap((alert) => alert.images),
    cuts,
    urls,
  );
  if (links.length > MAX_GROUP_LINKS || images.length > MAX_GROUP_LINKS) {
    cuts.push(`kept the first ${MAX_GROUP_LINKS} of ${links.length} links and ${images.length} images`);
    links = links.slice(0, MAX_GROUP_LINKS);
    images = images.slice(0, MAX_GROUP_LINKS);
  }

  const core = {
    event_action: firing.length > 0 ? EventAction.TRIGGER : EventAction.RESOLVE,
    dedup_key: groupDedupKey(group, options.routeName),
    payload: withoutUndefined({
      summary: summary.text,
      source:
        commonValue(alerts.map((alert) => alert.source)) ?? nonBlank(group.receiver) ?? callbackParts(group).client,
      severity,
      timestamp,
      component: commonValue(alerts.map((alert) => alert.component)),
      group: commonValue(alerts.map((alert) => alert.group)),
      class: commonValue(alerts.map((alert) => alert.class)),
      custom_details: withoutUndefined({
        status: firing.length > 0 ? AlertStatus.FIRING : AlertStatus.RESOLVED,
        route: options.routeName,
        group_labels: group.groupLabels,
        common_labels: commonPairs(alerts.map((alert) => alert.labels)),
        common_annotations: commonPairs(alerts.map((alert) => alert.annotations)),
        num_firing: firing.length,
        num_resolved: resolved.length,
        firing: firing.map((alert) => alertEntry(alert, options)),
        resolved: resolved.map((alert) => alertEntry(alert, options)),
        severity_source: severitySource,
        notification: callbackParts(group).notification,
      }),
    }),
  };
  return finishEvent(core, { links, images, group, cuts });
}

export type { BuildGroupEventOptions };
export { buildGroupEvent, MAX_GROUP_LINKS };
