/**
 * Pieces both event builders (per alert and per group) share: severity choice, timestamps, links, images and the
 * `client` fields. All pure.
 */
import type { Alert, AlertGroup, AlertImage, AlertLink } from '../alerts/types';
import { CallbackFormat, PD_CLIENT_ALERTMANAGER, PD_CLIENT_ARMS, Severity } from '../constants';
import { fitEvent } from './encode';
import type { BuiltEvent, PagerDutyEventBody, PagerDutyImage, PagerDutyLink } from './types';

/** The severity used when neither the alert nor its route names one (Alertmanager's default too, reference §2.1). */
const FALLBACK_SEVERITY: Severity = Severity.ERROR;

/** Severities from least to most urgent; a group event takes the most urgent of its alerts. */
const SEVERITY_RANK: Readonly<Record<Severity, number>> = {
  [Severity.INFO]: 0,
  [Severity.WARNING]: 1,
  [Severity.ERROR]: 2,
  [Severity.CRITICAL]: 3,
};

/** Options of both builders. */
interface BuildEventOptions {
  /**
   * The matching route's `defaultSeverity`, used only when the alert has no valid severity of its own
   * (`CONTRACT.md` §5.4).
   * @default 'error'
   */
  defaultSeverity?: Severity;
  /**
   * When the bridge received the callback (epoch ms). A resolve without a usable `endsAt` is stamped with it: the
   * alert had resolved by then, and PagerDuty's own fallback (its receive time) can be hours later when the outbox
   * retries. Triggers never use it.
   */
  receivedAt?: number;
}

function isSeverity(value: unknown): value is Severity {
  return typeof value === 'string' && Object.hasOwn(SEVERITY_RANK, value);
}

/**
 * `alert.severity`, else the route's default, else `error`; with a label for `custom_details.severity_source` that
 * says which one applied (users ask why an alert paged at a given urgency).
 */
function chooseSeverity(alert: Alert, defaultSeverity: Severity | undefined): { severity: Severity; source: string } {
  if (isSeverity(alert.severity)) {
    return { severity: alert.severity, source: `labels.${alert.severitySource ?? 'severity'}` };
  }
  if (isSeverity(defaultSeverity)) return { severity: defaultSeverity, source: 'route defaultSeverity' };
  return { severity: FALLBACK_SEVERITY, source: `bridge default (${FALLBACK_SEVERITY})` };
}

/** Epoch ms → `2021-02-22T07:18:15.578Z`; undefined for absent or unrepresentable times (PagerDuty fills them in). */
function isoTimestamp(epochMs: number | undefined): string | undefined {
  if (epochMs === undefined || !Number.isFinite(epochMs) || epochMs <= 0) return undefined;
  const date = new Date(epochMs);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

function isUrl(value: string | undefined, protocols: readonly string[]): value is string {
  if (!value) return false;
  try {
    return protocols.includes(new URL(value).protocol);
  } catch {
    return false;
  }
}

const HTTP_PROTOCOLS = ['http:', 'https:'] as const;

/** Links with an http(s) `href`, without duplicates; each dropped link adds a cut line. */
function toLinks(links: readonly AlertLink[], cuts: string[]): PagerDutyLink[] {
  const seen = new Set<string>();
  const result: PagerDutyLink[] = [];
  for (const link of links) {
    if (!isUrl(link.href, HTTP_PROTOCOLS)) {
      cuts.push(`link "${link.text}" dropped: href is not an http(s) URL`);
      continue;
    }
    if (seen.has(link.href)) continue;
    seen.add(link.href);
    result.push(link.text ? { href: link.href, text: link.text } : { href: link.href });
  }
  return result;
}

/** Images with an `https:` `src` only (PagerDuty's rule, reference §1.2); each dropped image adds a cut line. */
function toImages(images: readonly AlertImage[], cuts: string[]): PagerDutyImage[] {
  const seen = new Set<string>();
  const result: PagerDutyImage[] = [];
  for (const image of images) {
    if (!isUrl(image.src, ['https:'])) {
      cuts.push(`image ${JSON.stringify(image.alt ?? image.src)} dropped: src is not an https URL`);
      continue;
    }
    if (seen.has(image.src)) continue;
    seen.add(image.src);
    const kept: PagerDutyImage = { src: image.src };
    if (isUrl(image.href, HTTP_PROTOCOLS)) kept.href = image.href;
    if (image.alt) kept.alt = image.alt;
    result.push(kept);
  }
  return result;
}

/** `client`: the monitoring tool shown in PagerDuty. */
function clientName(group: AlertGroup): string {
  return group.format === CallbackFormat.ALERTMANAGER ? PD_CLIENT_ALERTMANAGER : PD_CLIENT_ARMS;
}

/**
 * `client_url`: ARMS sends its alert detail page as `externalURL`; Alertmanager sends its own base URL, so link to its
 * alert list for the receiver as Alertmanager's notifier does (reference §2.1).
 */
function clientUrl(group: AlertGroup): string | undefined {
  if (!isUrl(group.externalURL, HTTP_PROTOCOLS)) return undefined;
  if (group.format !== CallbackFormat.ALERTMANAGER) return group.externalURL;
  const base = group.externalURL.replace(/\/+$/, '');
  return group.receiver ? `${base}/#/alerts?receiver=${encodeURIComponent(group.receiver)}` : base;
}

/** The callback's context for `custom_details.notification`, without absent fields. */
function notificationContext(group: AlertGroup): Record<string, unknown> {
  return withoutUndefined({
    format: group.format,
    receiver: group.receiver,
    external_url: group.externalURL,
    group_key: group.groupKey,
    group_labels: Object.keys(group.groupLabels).length > 0 ? group.groupLabels : undefined,
    truncated_alerts: group.truncatedAlerts,
    notification_reason: group.notificationReason,
  });
}

/** A copy without `undefined` values, so stored bodies and test expectations hold only what is known. */
function withoutUndefined<T extends Record<string, unknown>>(record: T): T {
  // A plain loop: this runs several times per alert, and entries/filter/fromEntries allocate a pair per key.
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(record)) {
    const value = record[key];
    if (value === undefined) continue;
    // As Object.fromEntries: a `__proto__` key stays an own property (assignment would set the copy's prototype).
    if (key === '__proto__')
      Object.defineProperty(copy, key, { value, enumerable: true, writable: true, configurable: true });
    else copy[key] = value;
  }
  return copy as T;
}

/** A non-blank string, or undefined. */
function nonBlank(value: string | undefined): string | undefined {
  return value !== undefined && value.trim() !== '' ? value : undefined;
}

/**
 * The envelope both builders share around their payload: links and images at the top level (only when there are any),
 * `client` and `client_url` from the callback, then the 512 KB guard. `cuts` are what the builder had to cut already.
 */
function finishEvent(
  core: Pick<PagerDutyEventBody, 'event_action' | 'dedup_key' | 'payload'>,
  parts: { links: PagerDutyLink[]; images: PagerDutyImage[]; group: AlertGroup; cuts: string[] },
): BuiltEvent {
  const { links, images, group, cuts } = parts;
  const event: PagerDutyEventBody = withoutUndefined({
    ...core,
    links: links.length > 0 ? links : undefined,
    images: images.length > 0 ? images : undefined,
    client: clientName(group),
    client_url: clientUrl(group),
  });
  const fitted = fitEvent(event);
  return { event: fitted.event, cuts: [...cuts, ...fitted.cuts] };
}

export type { BuildEventOptions };
export {
  chooseSeverity,
  clientName,
  clientUrl,
  FALLBACK_SEVERITY,
  finishEvent,
  isoTimestamp,
  isSeverity,
  nonBlank,
  notificationContext,
  SEVERITY_RANK,
  toImages,
  toLinks,
  withoutUndefined,
};
