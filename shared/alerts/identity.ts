/**
 * Alert identity (PagerDuty's `dedup_key`) and occurrence key (CONTRACT §4). Changing either orphans every open
 * PagerDuty incident (its resolve would carry another key), so the canonical form is versioned and pinned by a test.
 */
import { DEDUP_KEY_MAX, IDENTITY_VERSION } from '../constants';
import { sha256Hex } from '../sha256';
import { parseTimestamp } from './parseTimestamp';

/** Where an identity came from (`Alert.identitySource`). */
type IdentitySource = 'fingerprint' | 'labels';

/**
 * The canonical form of a label set, **identity `v1`**:
 *
 * 1. take the alert's labels (every name/value pair, empty values included), minus the configured excluded names;
 * 2. sort the pairs by name, comparing names as sequences of UTF-16 code units (JavaScript's default string order;
 *    names are unique, so the order is total);
 * 3. write them as a JSON array of two-element arrays `[name, value]` with ECMAScript `JSON.stringify`: no whitespace;
 *    `"` `\` and U+0000–U+001F escaped (`\b \f \n \r \t`, others `\u00XX` lower-case hex), lone surrogates as
 *    `\uDXXX` (lower-case hex), every other character written as itself;
 * 4. encode that text as UTF-8.
 *
 * The identity is `v1:` followed by the lower-case hex SHA-256 of those bytes (67 characters).
 *
 * @example canonicalLabelSet({ severity: 'critical', alertname: 'HighCPU' }) // '[["alertname","HighCPU"],["severity","critical"]]'
 */
function canonicalLabelSet(labels: Readonly<Record<string, string>>, excludedLabels: readonly string[] = []): string {
  const pairs = Object.keys(labels)
    .filter((name) => !excludedLabels.includes(name))
    .sort()
    .map((name) => [name, labels[name]]);
  return JSON.stringify(pairs);
}

/**
 * `v1:` + SHA-256 (hex) of the canonical label set (see `canonicalLabelSet`).
 *
 * @example labelSetIdentity({ alertname: 'HighCPU', instance: '10.0.0.1:9100', severity: 'critical' })
 *   // 'v1:' + sha256('[["alertname","HighCPU"],["instance","10.0.0.1:9100"],["severity","critical"]]')
 */
function labelSetIdentity(labels: Readonly<Record<string, string>>, excludedLabels: readonly string[] = []): string {
  const digest = sha256Hex(canonicalLabelSet(labels, excludedLabels));
  return `${IDENTITY_VERSION}:${digest}`;
}

/**
 * The identity of one alert: its `fingerprint` when usable, else the label-set identity.
 *
 * A fingerprint is usable when it is a string that is not blank and fits PagerDuty's `dedup_key`
 * (`DEDUP_KEY_MAX` characters): Alertmanager's are 16 hex digits, ARMS's 32. It is used exactly as sent (not trimmed),
 * so the trigger and the resolve carrying the same fingerprint get the same key.
 */
function alertIdentity(
  alert: { fingerprint?: unknown; labels: Readonly<Record<string, string>> },
  excludedLabels: readonly string[] = [],
): { identity: string; identitySource: IdentitySource } {
  const { fingerprint } = alert;
  if (typeof fingerprint === 'string' && fingerprint.trim() !== '' && fingerprint.length <= DEDUP_KEY_MAX) {
    return { identity: fingerprint, identitySource: 'fingerprint' };
  }
  return { identity: labelSetIdentity(alert.labels, excludedLabels), identitySource: 'labels' };
}

/** Occurrence key of an alert whose `startsAt` is missing or invalid: all such callbacks are one occurrence. */
const UNKNOWN_OCCURRENCE = 'unknown-start';

/**
 * The occurrence key of an alert: its `startsAt` as an instant, written as ISO 8601 UTC with milliseconds
 * (`2021-02-22T07:18:15.578Z`), so `…15.578Z`, `…15.578000000Z` and `…23:18:15.578+08:00`-style equivalents are one
 * occurrence (CONTRACT §4).
 *
 * @param startsAt - epoch ms (`Alert.startsAt`) or the raw RFC 3339 string.
 * @returns the key, or `UNKNOWN_OCCURRENCE` when there is no valid start time.
 * @example occurrenceKey('2021-02-22T07:18:15.578000000Z') === occurrenceKey('2021-02-22T07:18:15.578Z') // true
 */
function occurrenceKey(startsAt: number | string | undefined): string {
  const epochMs = typeof startsAt === 'string' ? parseTimestamp(startsAt) : startsAt;
  if (epochMs === undefined || !Number.isFinite(epochMs) || epochMs <= 0) return UNKNOWN_OCCURRENCE;
  const date = new Date(Math.trunc(epochMs));
  return Number.isNaN(date.getTime()) ? UNKNOWN_OCCURRENCE : date.toISOString();
}

export { alertIdentity, canonicalLabelSet, type IdentitySource, labelSetIdentity, occurrenceKey, UNKNOWN_OCCURRENCE };
