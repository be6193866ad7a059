/**
 * JSON Schemas of what the webhook accepts, compiled at build time by `scripts/compile-schemas.mjs` into the standalone
 * validators `validateCallbackEnvelope` and `validateAlert` (registered in `shared/validation/schemas.ts`).
 *
 * The envelope and the alert are validated separately on purpose: a wrong envelope refuses the whole callback (422),
 * while a wrong alert only rejects that alert and the valid ones beside it are still forwarded.
 *
 * Both shapes are lenient where the senders differ: ARMS `$alertmanager_content` omits `version`, `groupKey`,
 * `truncatedAlerts`, `notification_reason` and `generatorURL` (`reference/arms-and-fc.md` §1.3), Alertmanager v4 sends
 * them (`reference/pagerduty.md` §2.5); unknown keys are allowed everywhere, so a sender adding a field never breaks
 * the intake.
 */
import { MAX_ANNOTATION_VALUE_LENGTH, MAX_LABEL_VALUE_LENGTH, MAX_LABELS_PER_ALERT } from '../constants';

/**
 * Group-level `groupLabels` / `commonLabels` / `commonAnnotations`: only informational (each alert carries its own
 * labels), so any values are tolerated here and normalization keeps the string ones.
 */
const informationalMapSchema = { type: 'object' } as const;

/**
 * The callback envelope: an object with an `alerts` array. The items are checked one by one with `alertSchema`.
 */
const callbackEnvelopeSchema = {
  $id: 'callbackEnvelope',
  type: 'object',
  required: ['alerts'],
  properties: {
    alerts: { type: 'array' },
    // Group status: informational only; each alert's own status decides trigger vs resolve.
    status: { type: 'string' },
    receiver: { type: 'string' },
    externalURL: { type: 'string' },
    groupLabels: informationalMapSchema,
    commonLabels: informationalMapSchema,
    commonAnnotations: informationalMapSchema,
    // Alertmanager v4 only (optional: ARMS omits them).
    version: { type: 'string' },
    groupKey: { type: 'string' },
    truncatedAlerts: { type: 'integer', minimum: 0 },
    notification_reason: { type: 'string' },
  },
  additionalProperties: true,
} as const;

/** Label map: Alertmanager's `map[string]string`, bounded so one alert cannot carry an unbounded label set. */
const labelsSchema = {
  type: 'object',
  minProperties: 1,
  maxProperties: MAX_LABELS_PER_ALERT,
  propertyNames: { minLength: 1, maxLength: MAX_LABEL_VALUE_LENGTH },
  additionalProperties: { type: 'string', maxLength: MAX_LABEL_VALUE_LENGTH },
} as const;

/** Annotation map: strings too, with a larger bound since `message` / `description` hold prose. */
const annotationsSchema = {
  type: 'object',
  maxProperties: MAX_LABELS_PER_ALERT,
  propertyNames: { minLength: 1, maxLength: MAX_LABEL_VALUE_LENGTH },
  additionalProperties: { type: 'string', maxLength: MAX_ANNOTATION_VALUE_LENGTH },
} as const;

/**
 * One alert of `alerts[]` (Alertmanager v4 and ARMS). `status` and a non-empty `labels` map are required: without
 * them the bridge can neither decide trigger vs resolve nor derive an identity. Times are only typed here: an
 * unparsable time is treated as absent by normalization, not rejected (`reference/arms-and-fc.md` §1.3).
 */
const alertSchema = {
  $id: 'alert',
  type: 'object',
  required: ['status', 'labels'],
  properties: {
    status: { type: 'string', enum: ['firing', 'resolved'] },
    labels: labelsSchema,
    annotations: annotationsSchema,
    startsAt: { type: 'string' },
    endsAt: { type: 'string' },
    generatorURL: { type: 'string' },
    fingerprint: { type: 'string', maxLength: MAX_LABEL_VALUE_LENGTH },
  },
  additionalProperties: true,
} as const;

/** The envelope after `validateCallbackEnvelope` passed. Unknown keys may be present. */
interface RawCallbackEnvelope {
  alerts: unknown[];
  status?: string;
  receiver?: string;
  externalURL?: string;
  groupLabels?: Record<string, unknown>;
  commonLabels?: Record<string, unknown>;
  commonAnnotations?: Record<string, unknown>;
  version?: string;
  groupKey?: string;
  truncatedAlerts?: number;
  notification_reason?: string;
  [key: string]: unknown;
}

/** One alert after `validateAlert` passed. Unknown keys may be present. */
interface RawAlert {
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  startsAt?: string;
  endsAt?: string;
  generatorURL?: string;
  fingerprint?: string;
  [key: string]: unknown;
}

export { alertSchema, callbackEnvelopeSchema, type RawAlert, type RawCallbackEnvelope };
