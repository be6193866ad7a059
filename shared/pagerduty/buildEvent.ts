/**
 * Per-alert mode (the default, `CONTRACT.md` §5.1): one PagerDuty alert per ARMS alert. Pure: the same alert, group and
 * options always give the same event, which is what makes stored events replayable.
 */
import type { Alert, AlertGroup } from '../alerts/types';
import { urlParserOf } from '../alerts/urlParser';
import { AlertStatus, EventAction, SUMMARY_MAX_CODE_POINTS } from '../constants';
import { alertDedupKey } from './dedupKey';
import {
  type BuildEventOptions,
  callbackParts,
  chooseSeverity,
  finishEvent,
  isoTimestamp,
  nonBlank,
  toImages,
  toLinks,
} from './eventParts';
import { truncateCodePoints } from './truncateCodePoints';
import type { BuiltEvent, PagerDutyPayload } from './types';

/**
 * The event's time: a trigger is stamped with `startsAt` (when the problem began, which Alertmanager never sends,
 * reference §2.1); a resolve with `endsAt`, else with the time the bridge received the resolved callback. Absent when
 * unknown, so PagerDuty uses its receive time. `startsAt` / `endsAt`: the alert's, as ISO text.
 */
function eventTimestamp(
  alert: Alert,
  startsAt: string | undefined,
  endsAt: string | undefined,
  receivedAt: number | undefined,
): string | undefined {
  if (alert.status === AlertStatus.FIRING) return startsAt;
  return endsAt ?? isoTimestamp(receivedAt);
}

/** The alert's title, never blank (PagerDuty rejects a blank summary). */
function alertSummary(alert: Alert): string {
  return nonBlank(alert.summary) ?? nonBlank(alert.labels.alertname) ?? `Alert ${alert.identity}`;
}

/**
 * Builds the Events v2 body (without routing key) for one alert.
 *
 * - `event_action`: `trigger` for firing, `resolve` for resolved (from `alert.status` only). A resolve carries the
 *   full payload, because PagerDuty event rules route on it (reference §5 ask 9).
 * - `dedup_key`: the alert identity, hashed if it were longer than 255 characters.
 * - `payload.summary`: cut to 1024 code points with `…`; `severity`: the alert's, else `defaultSeverity`, else
 *   `error`; `timestamp`: see {@link eventTimestamp}.
 * - `custom_details`: labels, annotations, occurrence times, which source gave the severity, and the callback context
 *   (receiver, external URL, group key, `truncatedAlerts`, notification reason).
 * - `links`/`images` at the top level (https images only); `client`/`client_url` name ARMS (or Alertmanager).
 * - Over 512 KB the event is degraded stepwise (`fitEventSize`).
 *
 * `cuts` lists every piece of data that was cut or dropped; the caller logs it as a warning with the identity.
 *
 * @example
 * const { event, cuts } = buildEvent(alert, group, { defaultSeverity: route.defaultSeverity });
 * if (cuts.length > 0) logger.warn('PagerDuty event degraded', { identity: alert.identity, cuts });
 */
function buildEvent(alert: Alert, group: AlertGroup, options: BuildEventOptions = {}): BuiltEvent {
  const cuts: string[] = [];

  const dedup = alertDedupKey(alert.identity);
  if (dedup.hashed) cuts.push(`dedup_key: identity of ${alert.identity.length} characters replaced by its SHA-256`);

  const summary = truncateCodePoints(alertSummary(alert), SUMMARY_MAX_CODE_POINTS);
  if (summary.cut) {
    cuts.push(`payload.summary cut from ${summary.length} to ${SUMMARY_MAX_CODE_POINTS} code points`);
  }

  const { severity, source: severitySource } = chooseSeverity(alert, options.defaultSeverity);
  const shared = callbackParts(group);
  const startsAt = isoTimestamp(alert.startsAt);
  const endsAt = isoTimestamp(alert.endsAt);

  // Written field by field, in the order of the JSON PagerDuty receives; absent fields are left out.
  const details: Record<string, unknown> = {
    status: alert.status,
    labels: alert.labels,
    annotations: alert.annotations,
  };
  if (startsAt !== undefined) details.starts_at = startsAt;
  if (endsAt !== undefined) details.ends_at = endsAt;
  details.severity_source = severitySource;
  details.identity = alert.identity;
  details.identity_source = alert.identitySource;
  if (alert.generatorURL !== undefined) details.generator_url = alert.generatorURL;
  details.notification = shared.notification;

  const payload: PagerDutyPayload = {
    summary: summary.text,
    source: nonBlank(alert.source) ?? shared.client,
    severity,
  };
  const timestamp = eventTimestamp(alert, startsAt, endsAt, options.receivedAt);
  if (timestamp !== undefined) payload.timestamp = timestamp;
  const component = nonBlank(alert.component);
  if (component !== undefined) payload.component = component;
  const alertGroup = nonBlank(alert.group);
  if (alertGroup !== undefined) payload.group = alertGroup;
  const alertClass = nonBlank(alert.class);
  if (alertClass !== undefined) payload.class = alertClass;
  payload.custom_details = details;

  const urls = urlParserOf(group);
  const links = toLinks(alert.links, cuts, urls);
  const images = toImages(alert.images, cuts, urls);
  return finishEvent(
    {
      event_action: alert.status === AlertStatus.FIRING ? EventAction.TRIGGER : EventAction.RESOLVE,
      dedup_key: dedup.key,
      payload,
    },
    { links, images, group, cuts },
  );
}

export { buildEvent };
