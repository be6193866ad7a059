/**
 * The bridge's own JSON Schema of a PagerDuty Events v2 alert event. PagerDuty's published OpenAPI schema has no
 * `maxLength` at all (reference §1.7), so this one adds the documented limits: summary ≤ 1024 code points (ajv counts
 * code points, like Alertmanager's runes), dedup_key ≤ 255, the severity enum, https images, links and images at the
 * top level, and a 32-character routing key when present. It is stricter than PagerDuty where the bridge is: every
 * event it builds has a `dedup_key` and a full `payload` (a resolve carries the payload too).
 *
 * Compiled at build time (`scripts/compile-schemas.mjs`) as `validatePagerDutyEvent`; this file holds only data, so the
 * compiler can load it before any validator exists.
 */
import { DEDUP_KEY_MAX, Severity, SUMMARY_MAX_CODE_POINTS } from '../constants';

/** A string with at least one non-space character. */
const NON_BLANK_PATTERN = '\\S';
const HTTP_URL_PATTERN = '^https?://\\S+$';
const HTTPS_URL_PATTERN = '^https://\\S+$';
/** ISO 8601 date-time with a zone (ajv-formats is not a dependency, so `format: date-time` is spelled out). */
const TIMESTAMP_PATTERN = '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,9})?(Z|[+-]\\d{2}:?\\d{2})$';

const optionalText = { type: 'string', minLength: 1, pattern: NON_BLANK_PATTERN } as const;

const pagerDutyEventSchema = {
  $id: 'pagerdutyEvent',
  type: 'object',
  additionalProperties: false,
  required: ['event_action', 'dedup_key', 'payload'],
  properties: {
    routing_key: { type: 'string', minLength: 32, maxLength: 32, pattern: '^\\S+$' },
    event_action: { type: 'string', enum: ['trigger', 'acknowledge', 'resolve'] },
    dedup_key: { type: 'string', minLength: 1, maxLength: DEDUP_KEY_MAX },
    payload: {
      type: 'object',
      additionalProperties: false,
      required: ['summary', 'source', 'severity'],
      properties: {
        summary: { type: 'string', minLength: 1, maxLength: SUMMARY_MAX_CODE_POINTS, pattern: NON_BLANK_PATTERN },
        source: { type: 'string', minLength: 1, pattern: NON_BLANK_PATTERN },
        severity: { type: 'string', enum: Object.values(Severity) },
        timestamp: { type: 'string', pattern: TIMESTAMP_PATTERN },
        component: optionalText,
        group: optionalText,
        class: optionalText,
        custom_details: { type: 'object' },
      },
    },
    links: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['href'],
        properties: {
          href: { type: 'string', pattern: HTTP_URL_PATTERN },
          text: { type: 'string' },
        },
      },
    },
    images: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['src'],
        properties: {
          src: { type: 'string', pattern: HTTPS_URL_PATTERN },
          href: { type: 'string', pattern: HTTP_URL_PATTERN },
          alt: { type: 'string' },
        },
      },
    },
    client: optionalText,
    client_url: { type: 'string', pattern: HTTP_URL_PATTERN },
  },
} as const;

export { pagerDutyEventSchema };
