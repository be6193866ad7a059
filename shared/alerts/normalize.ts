/**
 * A validated callback (ARMS `$alertmanager_content` or Alertmanager webhook v4) → one `AlertGroup` of `Alert`s, the
 * only alert model the rest of the bridge sees. Pure: no clock, no I/O, no configuration beyond its arguments.
 *
 * Field rules (each a first-non-blank chain; docs/routing.md "Alert identity" repeats the event fields):
 *
 * | Field | From |
 * |---|---|
 * | `identity` | `fingerprint`, else `v1:` + SHA-256 of the canonical label set (`identity.ts`) |
 * | `status` | `alerts[].status` only, never `endsAt` (CONTRACT §5.1) |
 * | `startsAt` / `endsAt` | RFC 3339 → epoch ms; zero/invalid → absent; `endsAt` before `startsAt` → absent |
 * | `severity` | `labels.severity`, `labels._aliyun_arms_alert_level` (`severity.ts`); else absent (route default) |
 * | `summary` | annotations `summary`, `description`, `message` (placeholders rendered), else alertname + key labels |
 * | `source` | labels `instance`, `pod`, `pod_name`, `node`, `host`, `hostname`, `_aliyun_arms_involvedObject_name`, `clustername`, `cluster`, `service`, `job`; host of `externalURL`, of `generatorURL`; `ARMS` / `Alertmanager` |
 * | `component` | labels `component`, `service`, `app`, `app_kubernetes_io_name`, `container`, `job` |
 * | `group` | labels `group`, `team`, `namespace`, `clustername`, `cluster` |
 * | `class` | labels `class`, `alertname`, `_aliyun_arms_alert_name` |
 * | `links` | runbook, dashboard, ARMS Insights annotations/labels, `generatorURL`, group `externalURL` (http(s) only) |
 * | `images` | annotations `image_url`, `image`, `snapshot_url` (https only: PagerDuty shows no other) |
 * | `clientUrl` | group `externalURL`, else `generatorURL` (http(s) only) |
 */
import { CallbackFormat, PD_CLIENT_ALERTMANAGER, PD_CLIENT_ARMS } from '../constants';
import { alertIdentity } from './identity';
import { parseTimestamp } from './parseTimestamp';
import { alertValue, renderPlaceholders } from './placeholder';
import type { RawAlert, RawCallbackEnvelope } from './schema';
import { severityFromLabels } from './severity';
import type { Alert, AlertGroup, AlertImage, AlertLink, RejectedAlert } from './types';
import { adoptUrlParser, UrlParser } from './urlParser';

/** Options of normalization (from the bridge's configuration). */
interface NormalizeOptions {
  /**
   * Label names left out of the label-set identity (labels that change between notifications of one alert).
   * Only used for alerts without a fingerprint.
   * @default []
   */
  identityExcludedLabels?: readonly string[];
}

/** What an alert needs to know about its group. */
interface GroupContext {
  format: CallbackFormat;
  externalURL?: string;
  /** The callback's URL parser (each URL of the callback parsed once). @default a parser of its own */
  urls?: UrlParser;
}

const SUMMARY_ANNOTATIONS = ['summary', 'description', 'message'] as const;
const TITLE_LABELS = ['alertname', '_aliyun_arms_alert_name'] as const;
/** Labels that tell one alert of a rule from another, listed after the alert name in a fallback summary. */
const SUMMARY_KEY_LABELS = ['instance', 'pod', 'pod_name', 'namespace', 'service', 'job', 'clustername', 'cluster'];
const MAX_SUMMARY_KEY_LABELS = 4;
const SOURCE_LABELS = [
  'instance',
  'pod',
  'pod_name',
  'node',
  'host',
  'hostname',
  '_aliyun_arms_involvedObject_name',
  'clustername',
  'cluster',
  'service',
  'job',
];
const COMPONENT_LABELS = ['component', 'service', 'app', 'app_kubernetes_io_name', 'container', 'job'];
const GROUP_LABELS = ['group', 'team', 'namespace', 'clustername', 'cluster'];
const CLASS_LABELS = ['class', 'alertname', '_aliyun_arms_alert_name'];
const RUNBOOK_ANNOTATIONS = ['runbook_url', 'runbook', 'runbookUrl', 'runbook_link'];
const DASHBOARD_ANNOTATIONS = ['dashboard_url', 'dashboard', 'grafana_url', 'grafana_dashboard'];
const INSIGHTS_KEYS = ['_aliyun_arms_insights_analyze_link'];
const IMAGE_ANNOTATIONS = ['image_url', 'image', 'snapshot_url'];

/** Own, string, non-blank value of `key`, trimmed. */
function text(record: Readonly<Record<string, unknown>> | undefined, key: string): string | undefined {
  if (record === undefined || !Object.hasOwn(record, key)) return undefined;
  const value = record[key];
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

/** The first of `keys` with a non-blank value. */
function firstOf(record: Readonly<Record<string, unknown>> | undefined, keys: readonly string[]): string | undefined {
  for (const key of keys) {
    const value = text(record, key);
    if (value !== undefined) return value;
  }
  return undefined;
}

const WEB = ['http:', 'https:'] as const;
const HTTPS = ['https:'] as const;

/** The first of `keys` holding an http(s) URL (a `javascript:` runbook must not hide a valid dashboard after it). */
function firstWebUrlOf(
  record: Readonly<Record<string, unknown>>,
  keys: readonly string[],
  urls: UrlParser,
): string | undefined {
  for (const key of keys) {
    const value = text(record, key);
    if (urls.withProtocol(value, WEB) !== undefined) return value;
  }
  return undefined;
}

/**
 * A copy holding only the string entries. A `__proto__` label is defined as an own property, so it stays a label
 * instead of changing the copy's prototype (plain assignment would call the `__proto__` setter).
 */
function stringEntries(record: Readonly<Record<string, unknown>> | undefined): Record<string, string> {
  if (record === undefined) return {};
  // Validated labels and annotations hold strings only: then a spread is the same copy (it defines `__proto__` as an
  // own property too), made in one step instead of a property at a time.
  let allStrings = true;
  for (const key in record) {
    if (typeof record[key] !== 'string') {
      allStrings = false;
      break;
    }
  }
  if (allStrings) return { ...record } as Record<string, string>;
  const copy: Record<string, string> = {};
  for (const key of Object.keys(record)) {
    const value = record[key];
    if (typeof value !== 'string') continue;
    if (key === '__proto__')
      Object.defineProperty(copy, key, { value, enumerable: true, writable: true, configurable: true });
    else copy[key] = value;
  }
  return copy;
}

/** Alertmanager when the Alertmanager-only keys `version` / `groupKey` are present, else ARMS. */
function detectFormat(envelope: Readonly<RawCallbackEnvelope>): CallbackFormat {
  return envelope.version !== undefined || envelope.groupKey !== undefined
    ? CallbackFormat.ALERTMANAGER
    : CallbackFormat.ARMS;
}

/**
 * The summary: the first non-blank of annotations `summary`, `description`, `message` with placeholders rendered;
 * else the alert name followed by up to four key labels, e.g. `HighCPU (instance=10.0.0.1:9100, job=node)`.
 * Never blank. Not truncated here (the PagerDuty event builder cuts to 1024 code points).
 */
function buildSummary(labels: Readonly<Record<string, string>>, annotations: Readonly<Record<string, string>>): string {
  const context = { labels, value: alertValue(annotations) };
  for (const name of SUMMARY_ANNOTATIONS) {
    const raw = text(annotations, name);
    const rendered = raw === undefined ? '' : renderPlaceholders(raw, context).trim();
    if (rendered !== '') return rendered;
  }
  const title = firstOf(labels, TITLE_LABELS);
  let keys = SUMMARY_KEY_LABELS.filter((name) => text(labels, name) !== undefined);
  // Without a name or a key label, the first labels by name are all there is to tell the alert apart.
  if (title === undefined && keys.length === 0) keys = Object.keys(labels).sort();
  const shown = keys.slice(0, MAX_SUMMARY_KEY_LABELS).map((name) => `${name}=${labels[name]}`);
  if (title === undefined) return shown.length > 0 ? `Alert (${shown.join(', ')})` : 'Alert';
  return shown.length > 0 ? `${title} (${shown.join(', ')})` : title;
}

/** Never blank: a label, else the host of a URL, else the sender's name. */
function buildSource(
  labels: Readonly<Record<string, string>>,
  raw: RawAlert,
  group: GroupContext,
  urls: UrlParser,
): string {
  return (
    firstOf(labels, SOURCE_LABELS) ??
    urls.withProtocol(group.externalURL, WEB)?.host ??
    urls.withProtocol(typeof raw.generatorURL === 'string' ? raw.generatorURL : undefined, WEB)?.host ??
    (group.format === CallbackFormat.ALERTMANAGER ? PD_CLIENT_ALERTMANAGER : PD_CLIENT_ARMS)
  );
}

/** Adds `href` to `links` when it is an http(s) URL not listed yet. */
function addLink(links: AlertLink[], href: string | undefined, linkText: string, urls: UrlParser): void {
  if (href === undefined || urls.withProtocol(href, WEB) === undefined) return;
  for (const link of links) if (link.href === href) return;
  links.push({ href, text: linkText });
}

/** Links worth a click on the PagerDuty alert, http(s) only, without duplicates. */
function buildLinks(
  labels: Readonly<Record<string, string>>,
  annotations: Readonly<Record<string, string>>,
  generatorURL: string | undefined,
  group: GroupContext,
  urls: UrlParser,
): AlertLink[] {
  const links: AlertLink[] = [];
  addLink(links, firstWebUrlOf(annotations, RUNBOOK_ANNOTATIONS, urls), 'Runbook', urls);
  addLink(links, firstWebUrlOf(annotations, DASHBOARD_ANNOTATIONS, urls), 'Dashboard', urls);
  const insights = firstWebUrlOf(annotations, INSIGHTS_KEYS, urls) ?? firstWebUrlOf(labels, INSIGHTS_KEYS, urls);
  addLink(links, insights, 'ARMS Insights analysis', urls);
  addLink(links, generatorURL, 'Alert source (generatorURL)', urls);
  const externalText = group.format === CallbackFormat.ALERTMANAGER ? 'Alertmanager' : 'ARMS alert details';
  addLink(links, group.externalURL, externalText, urls);
  return links;
}

/** Images from annotations; only `https:` sources, since PagerDuty does not show others. */
function buildImages(
  annotations: Readonly<Record<string, string>>,
  alt: string | undefined,
  urls: UrlParser,
): AlertImage[] {
  const images: AlertImage[] = [];
  for (const name of IMAGE_ANNOTATIONS) {
    const src = text(annotations, name);
    if (
      src !== undefined &&
      urls.withProtocol(src, HTTPS) !== undefined &&
      !images.some((image) => image.src === src)
    ) {
      images.push(alt === undefined ? { src } : { src, alt });
    }
  }
  return images;
}

/**
 * One validated alert → `Alert`.
 *
 * @example normalizeAlert(sample.alerts[0], { format: 'arms', externalURL: sample.externalURL })
 */
function normalizeAlert(raw: RawAlert, group: GroupContext, options: NormalizeOptions = {}): Alert {
  const labels = stringEntries(raw.labels);
  const annotations = stringEntries(raw.annotations);
  const startsAt = parseTimestamp(raw.startsAt);
  const parsedEnd = parseTimestamp(raw.endsAt);
  // An end before the start is not an end (ARMS and Alertmanager never mean it); status alone says resolved.
  const endsAt = parsedEnd !== undefined && startsAt !== undefined && parsedEnd < startsAt ? undefined : parsedEnd;
  const generatorURL =
    typeof raw.generatorURL === 'string' && raw.generatorURL.trim() !== '' ? raw.generatorURL : undefined;
  const severity = severityFromLabels(labels);
  const alertClass = firstOf(labels, CLASS_LABELS);
  const urls = group.urls ?? new UrlParser();
  const clientUrl = [group.externalURL, generatorURL].find((url) => urls.withProtocol(url, WEB) !== undefined);

  const { identity, identitySource } = alertIdentity(
    { fingerprint: raw.fingerprint, labels },
    options.identityExcludedLabels,
  );
  // Named fields rather than a spread of the identity: one object shape from the literal on, and the same key order.
  const alert: Alert = {
    identity,
    identitySource,
    status: raw.status,
    summary: buildSummary(labels, annotations),
    source: buildSource(labels, raw, group, urls),
    links: buildLinks(labels, annotations, generatorURL, group, urls),
    images: buildImages(annotations, alertClass, urls),
    labels,
    annotations,
  };
  // Optional fields only when known, so `custom_details` and stored rows carry no `undefined` keys.
  if (startsAt !== undefined) alert.startsAt = startsAt;
  if (endsAt !== undefined) alert.endsAt = endsAt;
  if (severity !== undefined) {
    alert.severity = severity.severity;
    alert.severitySource = severity.source;
  }
  const component = firstOf(labels, COMPONENT_LABELS);
  if (component !== undefined) alert.component = component;
  const alertGroup = firstOf(labels, GROUP_LABELS);
  if (alertGroup !== undefined) alert.group = alertGroup;
  if (alertClass !== undefined) alert.class = alertClass;
  if (generatorURL !== undefined) alert.generatorURL = generatorURL;
  if (clientUrl !== undefined) alert.clientUrl = clientUrl;
  return alert;
}

/**
 * A validated envelope and its valid alerts → `AlertGroup`.
 *
 * @param envelope - the body after `validateCallbackEnvelope`.
 * @param accepted - the alerts that passed `validateAlert`, in callback order.
 * @param rejected - the per-alert problems, kept on the group for the response and the health report.
 */
function normalizeCallback(
  envelope: Readonly<RawCallbackEnvelope>,
  accepted: readonly RawAlert[],
  rejected: readonly RejectedAlert[],
  options: NormalizeOptions = {},
): AlertGroup {
  const format = detectFormat(envelope);
  const urls = new UrlParser();
  const context: GroupContext = { format, urls };
  if (typeof envelope.externalURL === 'string' && envelope.externalURL.trim() !== '') {
    context.externalURL = envelope.externalURL;
  }
  const group: AlertGroup = {
    format,
    groupLabels: stringEntries(envelope.groupLabels),
    commonLabels: stringEntries(envelope.commonLabels),
    commonAnnotations: stringEntries(envelope.commonAnnotations),
    alerts: accepted.map((raw) => normalizeAlert(raw, context, options)),
    rejected: [...rejected],
  };
  if (envelope.status !== undefined) group.status = envelope.status;
  if (envelope.receiver !== undefined) group.receiver = envelope.receiver;
  if (context.externalURL !== undefined) group.externalURL = context.externalURL;
  if (envelope.groupKey !== undefined) group.groupKey = envelope.groupKey;
  if (envelope.version !== undefined) group.version = envelope.version;
  if (envelope.truncatedAlerts !== undefined) group.truncatedAlerts = envelope.truncatedAlerts;
  if (envelope.notification_reason !== undefined) group.notificationReason = envelope.notification_reason;
  adoptUrlParser(group, urls);
  return group;
}

export { detectFormat, type GroupContext, type NormalizeOptions, normalizeAlert, normalizeCallback };
