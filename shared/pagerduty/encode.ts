/**
 * The 512 KB guard: PagerDuty rejects events over `EVENT_MAX_BYTES` (reference §1.6), and a rejected event is a lost
 * page. Alertmanager drops `custom_details` once and never re-checks (reference §2.2); the bridge degrades in steps,
 * least useful data first, and measures again after each step, so an event always ends up small enough to send.
 */
import { EVENT_MAX_BYTES } from '../constants';
import { truncateCodePoints } from './truncateCodePoints';
import type { PagerDutyEventBody } from './types';

/** Length of a PagerDuty integration key ("32 character Integration Key", reference §1.2). */
const ROUTING_KEY_LENGTH = 32;
/** Stands in for the routing key when measuring: the stored body has none, the sent one does. */
const ROUTING_KEY_PLACEHOLDER = 'R'.repeat(ROUTING_KEY_LENGTH);
/** Longest string a degraded `custom_details` keeps, in code points (the summary's own limit). */
const LONG_VALUE_MAX_CODE_POINTS = 1024;
/** Longest `source`/`component`/`group`/`class` kept by the last step. */
const PAYLOAD_FIELD_MAX_CODE_POINTS = 1024;
/** `client_url` longer than this is dropped by the last step (a cut URL would point nowhere). */
const CLIENT_URL_MAX_LENGTH = 2048;
/** How many cut paths one cut line names before summarising the rest as a count. */
const MAX_PATHS_NAMED = 5;
/** Explanation left in `custom_details` when it had to go (Alertmanager's wording, with the byte limit). */
const DETAILS_REMOVED_MESSAGE = `Custom details have been removed because the original event exceeds the maximum size of ${EVENT_MAX_BYTES} bytes`;
/**
 * `custom_details` keys worth keeping when the rest must go: PagerDuty Event Orchestration rules usually route on
 * labels (reference §1.8), and the counts say how big the group was.
 */
const ESSENTIAL_DETAIL_KEYS = [
  'status',
  'labels',
  'route',
  'group_labels',
  'common_labels',
  'num_firing',
  'num_resolved',
  'severity_source',
] as const;

/**
 * UTF-8 size of the JSON PagerDuty will receive for `event`, counting a 32-character routing key.
 *
 * @example
 * eventByteLength({ event_action: 'trigger', dedup_key: 'k', payload: { summary: 's', source: 'h', severity: 'info' } });
 */
function eventByteLength(event: PagerDutyEventBody): number {
  return Buffer.byteLength(JSON.stringify({ routing_key: ROUTING_KEY_PLACEHOLDER, ...event }), 'utf8');
}

/** UTF-8 bytes one UTF-16 code unit can take in JSON: a `\uXXXX` escape (6); any other unit takes at most 3. */
const MAX_JSON_BYTES_PER_CODE_UNIT = 6;
/** Longest JSON number text, e.g. `-1.7976931348623157e+308` (24), with room to spare. */
const MAX_JSON_NUMBER_LENGTH = 26;

/** `scalarBound` of an object or array: walked on its own. */
const CONTAINER = -1;
/** `scalarBound` of what is not JSON data (a function, a symbol, a bigint): left to the exact measure. */
const NOT_PLAIN = -2;

/** The most UTF-8 bytes a scalar takes in the JSON, with its comma; or `CONTAINER` / `NOT_PLAIN`. */
function scalarBound(value: unknown): number {
  if (typeof value === 'string') return MAX_JSON_BYTES_PER_CODE_UNIT * value.length + 3; // quotes and a comma
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) {
    return MAX_JSON_NUMBER_LENGTH + 1;
  }
  return typeof value === 'object' ? CONTAINER : NOT_PLAIN;
}

/**
 * Whether `event` surely fits in `maxBytes` as sent (routing key included), by an upper bound of its UTF-8 JSON size
 * computed without building the JSON: every string counted at its worst case, every number at the longest. Almost every
 * event is a few KB, so this spares the exact measure (a full `JSON.stringify`) on each one. Any value that is not plain
 * JSON data (a `toJSON`, a class instance, a bigint) answers false, and the exact measure decides, as before.
 */
function surelyFits(event: PagerDutyEventBody, maxBytes: number): boolean {
  // `{"routing_key":"<32 characters>",` and the event's own braces.
  let bound = 2 + MAX_JSON_BYTES_PER_CODE_UNIT * ('routing_key'.length + ROUTING_KEY_LENGTH) + 6;
  // Containers wait here; strings and other scalars are counted where they are found (one pass, no push per value).
  const pending: object[] = [event];
  for (let container = pending.pop(); container !== undefined; container = pending.pop()) {
    const isArray = Array.isArray(container);
    if (!isArray) {
      const prototype = Object.getPrototypeOf(container);
      if (prototype !== Object.prototype && prototype !== null) return false;
    }
    bound += 3;
    if (isArray) {
      for (const value of container as unknown[]) {
        const scalar = scalarBound(value);
        if (scalar === NOT_PLAIN) return false;
        if (scalar === CONTAINER) pending.push(value as object);
        else bound += scalar;
      }
    } else {
      for (const key in container) {
        if (!Object.hasOwn(container, key)) continue;
        bound += MAX_JSON_BYTES_PER_CODE_UNIT * key.length + 3; // quotes and a colon
        const value = (container as Record<string, unknown>)[key];
        const scalar = scalarBound(value);
        if (scalar === NOT_PLAIN) return false;
        if (scalar === CONTAINER) pending.push(value as object);
        else bound += scalar;
      }
    }
    if (bound > maxBytes) return false;
  }
  return true;
}

/** Copies `value`, cutting every string longer than the limit; `paths` collects what was cut. */
function shortenStrings(value: unknown, path: string, paths: string[]): unknown {
  if (typeof value === 'string') {
    const result = truncateCodePoints(value, LONG_VALUE_MAX_CODE_POINTS);
    if (result.cut) paths.push(`${path} (${result.length} code points)`);
    return result.text;
  }
  if (Array.isArray(value)) return value.map((item, index) => shortenStrings(item, `${path}[${index}]`, paths));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, shortenStrings(item, `${path}.${key}`, paths)]),
    );
  }
  return value;
}

function namePaths(paths: string[]): string {
  const named = paths.slice(0, MAX_PATHS_NAMED).join(', ');
  return paths.length > MAX_PATHS_NAMED ? `${named} and ${paths.length - MAX_PATHS_NAMED} more` : named;
}

type Step = (event: PagerDutyEventBody) => { event: PagerDutyEventBody; cut: string } | undefined;

/** Step 1: long annotation (and other) values inside `custom_details` are cut to 1024 code points. */
const shortenLongDetailValues: Step = (event) => {
  const details = event.payload.custom_details;
  if (!details) return undefined;
  const paths: string[] = [];
  const shortened = shortenStrings(details, 'custom_details', paths) as Record<string, unknown>;
  if (paths.length === 0) return undefined;
  return {
    event: { ...event, payload: { ...event.payload, custom_details: shortened } },
    cut: `cut to ${LONG_VALUE_MAX_CODE_POINTS} code points: ${namePaths(paths)}`,
  };
};

/** Step 2: `custom_details` keeps only the labels and counts, plus the explanation. */
const keepEssentialDetails: Step = (event) => {
  const details = event.payload.custom_details;
  if (!details) return undefined;
  const kept = ESSENTIAL_DETAIL_KEYS.filter((key) => key in details);
  const removed = Object.keys(details).filter((key) => !(ESSENTIAL_DETAIL_KEYS as readonly string[]).includes(key));
  if (kept.length === 0 || removed.length === 0) return undefined;
  const reduced: Record<string, unknown> = { error: DETAILS_REMOVED_MESSAGE };
  for (const key of kept) reduced[key] = details[key];
  return {
    event: { ...event, payload: { ...event.payload, custom_details: reduced } },
    cut: `custom_details reduced to ${kept.join(', ')}; removed ${namePaths(removed)}`,
  };
};

/** Step 3: `custom_details` is replaced by the explanation alone. */
const removeDetails: Step = (event) => {
  const details = event.payload.custom_details;
  if (!details || (Object.keys(details).length === 1 && details.error === DETAILS_REMOVED_MESSAGE)) return undefined;
  return {
    event: { ...event, payload: { ...event.payload, custom_details: { error: DETAILS_REMOVED_MESSAGE } } },
    cut: 'custom_details replaced by an explanation',
  };
};

/** Step 4: links and images go. */
const removeLinksAndImages: Step = (event) => {
  if (!event.links?.length && !event.images?.length) return undefined;
  const { links, images, ...rest } = event;
  return { event: rest, cut: `removed ${links?.length ?? 0} links and ${images?.length ?? 0} images` };
};

/** Step 5: the remaining free-text payload fields are cut; after this an event is always far below the limit. */
const shortenPayloadFields: Step = (event) => {
  const payload = { ...event.payload };
  const cut: string[] = [];
  for (const field of ['source', 'component', 'group', 'class'] as const) {
    const value = payload[field];
    if (value === undefined) continue;
    const result = truncateCodePoints(value, PAYLOAD_FIELD_MAX_CODE_POINTS);
    if (result.cut) {
      payload[field] = result.text;
      cut.push(`payload.${field} (${result.length} code points)`);
    }
  }
  const next: PagerDutyEventBody = { ...event, payload };
  if (next.client_url !== undefined && next.client_url.length > CLIENT_URL_MAX_LENGTH) {
    delete next.client_url;
    cut.push('client_url removed');
  }
  if (cut.length === 0) return undefined;
  return { event: next, cut: `cut to ${PAYLOAD_FIELD_MAX_CODE_POINTS} code points: ${cut.join(', ')}` };
};

const STEPS: readonly Step[] = [
  shortenLongDetailValues,
  keepEssentialDetails,
  removeDetails,
  removeLinksAndImages,
  shortenPayloadFields,
];

/**
 * Makes `event` fit PagerDuty's size limit, degrading in steps (long detail values, then `custom_details` down to the
 * labels, then to an explanation, then links and images, then long payload fields) and re-measuring after each step.
 * An event that already fits is returned unchanged. Each applied step adds one line to `cuts`.
 *
 * @param maxBytes - the limit in UTF-8 bytes of the sent JSON, routing key included
 * @default maxBytes EVENT_MAX_BYTES (512,000, as Alertmanager and Grafana)
 *
 * @example
 * const { event: fitted, cuts } = fitEventSize(event);
 * if (cuts.length > 0) logger.warn('PagerDuty event over 512 KB was degraded', { cuts });
 */
function fitEventSize(
  event: PagerDutyEventBody,
  maxBytes: number = EVENT_MAX_BYTES,
): { event: PagerDutyEventBody; bytes: number; cuts: string[] } {
  let current = event;
  let bytes = eventByteLength(current);
  const cuts: string[] = [];
  for (const step of STEPS) {
    if (bytes <= maxBytes) break;
    const applied = step(current);
    if (!applied) continue;
    const before = bytes;
    current = applied.event;
    bytes = eventByteLength(current);
    cuts.push(`event over ${maxBytes} bytes: ${applied.cut} (${before} → ${bytes} bytes)`);
  }
  return { event: current, bytes, cuts };
}

/**
 * `fitEventSize` for callers that do not need the byte count (the event builders): an event that surely fits is
 * returned as is without the exact measure; any other goes through `fitEventSize`, so event and cuts are the same.
 *
 * @example
 * const { event: fitted, cuts } = fitEvent(event);
 */
function fitEvent(
  event: PagerDutyEventBody,
  maxBytes: number = EVENT_MAX_BYTES,
): { event: PagerDutyEventBody; cuts: string[] } {
  if (surelyFits(event, maxBytes)) return { event, cuts: [] };
  const fitted = fitEventSize(event, maxBytes);
  return { event: fitted.event, cuts: fitted.cuts };
}

export { DETAILS_REMOVED_MESSAGE, eventByteLength, fitEvent, fitEventSize, ROUTING_KEY_LENGTH, surelyFits };
