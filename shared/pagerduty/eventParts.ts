/**
 * Pieces both event builders (per alert and per group) share: severity choice, timestamps, links, images and the
 * `client` fields. All pure.
 */
import type { Alert, AlertGroup, AlertImage, AlertLink } from '../alerts/types';
import { type UrlParser, urlParserOf } from '../alerts/urlParser';
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

function isUrl(value: string | undefined, protocols: readonly string[], urls: UrlParser): value is string {
  return urls.withProtocol(value, protocols) !== undefined;
}

const HTTP_PROTOCOLS = ['http:', 'https:'] as const;
const HTTPS_PROTOCOL = ['https:'] as const;

/**
 * Links with an http(s) `href`, without duplicates; each dropped link adds a cut line. `urls`: the callback's parser
 * (`urlParserOf(group)`), which normalization already asked about the same links.
 */
function toLinks(links: readonly AlertLink[], cuts: string[], urls: UrlParser): PagerDutyLink[] {
  const seen = new Set<string>();
  const result: PagerDutyLink[] = [];
  for (const link of links) {
    if (!isUrl(link.href, HTTP_PROTOCOLS, urls)) {
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
function toImages(images: readonly AlertImage[], cuts: string[], urls: UrlParser): PagerDutyImage[] {
  const seen = new Set<string>();
  const result: PagerDutyImage[] = [];
  for (const image of images) {
    if (!isUrl(image.src, HTTPS_PROTOCOL, urls)) {
      cuts.push(`image ${JSON.stringify(image.alt ?? image.src)} dropped: src is not an https URL`);
      continue;
    }
    if (seen.has(image.src)) continue;
    seen.add(image.src);
    const kept: PagerDutyImage = { src: image.src };
    if (isUrl(image.href, HTTP_PROTOCOLS, urls)) kept.href = image.href;
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
  if (!isUrl(group.externalURL, HTTP_PROTOCOLS, urlParserOf(group))) return undefined;
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

/** What every event of one callback shares: computed once per callback (`callbackParts`). */
interface CallbackParts {
  /** `client`. */
  client: string;
  /** `client_url`, when the callback has a web `externalURL`. */
  clientUrl: string | undefined;
  /** `custom_details.notification`: one frozen object, shared by the callback's events as its `group_labels` are. */
  notification: Readonly<Record<string, unknown>>;
}

const partsOfCallbacks = new WeakMap<AlertGroup, CallbackParts>();

/**
 * The values every event of a callback shares, computed on the callback's first event and kept with its `AlertGroup`
 * (a value normalization makes and nothing changes), so a 1,000-alert callback parses its `externalURL` once.
 */
function callbackParts(group: AlertGroup): CallbackParts {
  let parts = partsOfCallbacks.get(group);
  if (parts === undefined) {
    parts = {
      client: clientName(group),
      clientUrl: clientUrl(group),
      notification: Object.freeze(notificationContext(group)),
    };
    partsOfCallbacks.set(group, parts);
  }
  return parts;
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
  const shared = callbackParts(group);
  // Written field by field, in the order of the JSON PagerDuty receives; absent fields are left out.
  const event: PagerDutyEventBody = {
    event_action: core.event_action,
    dedup_key: core.dedup_key,
    payload: core.payload,
  };
  if (links.length > 0) event.links = links;
  if (images.length > 0) event.images = images;
  event.client = shared.client;
  if (shared.clientUrl !== undefined) event.client_url = shared.clientUrl;
  const fitted = fitEvent(event);
  return { event: fitted.event, cuts: fitted.cuts.length === 0 ? cuts : [...cuts, ...fitted.cuts] };
}

export type { BuildEventOptions };
export {
  callbackParts,
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
