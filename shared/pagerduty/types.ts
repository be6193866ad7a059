/**
 * PagerDuty Events API v2 bodies as the bridge builds, stores and sends them.
 *
 * The stored body never holds the routing key: rows in the delivery store, logs and dry-run records carry a
 * {@link PagerDutyEventBody}, and `client.ts` adds `routing_key` only inside the request it sends
 * (`../shared/reference/pagerduty.md` §1.2).
 */

import type { EventAction, Severity } from '../constants';
import type { DeliveryFailureReason } from '../errors';

/** A link shown on the PagerDuty alert. Top level of the event, never inside `payload` (reference §1.2). */
interface PagerDutyLink {
  href: string;
  text?: string;
}

/** An image shown on the PagerDuty alert; PagerDuty requires an `https:` `src` (reference §1.2). */
interface PagerDutyImage {
  src: string;
  href?: string;
  alt?: string;
}

/** `payload` of an alert event. `summary`, `source` and `severity` are required by PagerDuty for triggers. */
interface PagerDutyPayload {
  /** At most 1024 code points (`SUMMARY_MAX_CODE_POINTS`). */
  summary: string;
  /** Never blank. */
  source: string;
  severity: Severity;
  /** ISO 8601 UTC with milliseconds (`2021-02-22T07:18:15.578Z`); absent when unknown, so PagerDuty fills it in. */
  timestamp?: string;
  component?: string;
  group?: string;
  class?: string;
  custom_details?: Record<string, unknown>;
}

/** An alert event (`/v2/enqueue`) without `routing_key`: what the bridge stores and logs. */
interface PagerDutyEventBody {
  event_action: EventAction;
  /** At most 255 characters (`DEDUP_KEY_MAX`); always set, so a resolve finds its trigger. */
  dedup_key: string;
  payload: PagerDutyPayload;
  links?: PagerDutyLink[];
  images?: PagerDutyImage[];
  client?: string;
  client_url?: string;
}

/** A change event (`/v2/change/enqueue`) without `routing_key`. Only links are supported there (reference §1.3). */
interface PagerDutyChangeEventBody {
  payload: {
    summary: string;
    source?: string;
    timestamp?: string;
    custom_details?: Record<string, unknown>;
  };
  links?: PagerDutyLink[];
}

/** The verdict on one PagerDuty answer (or on the absence of one): see `classifyResponse.ts`. */
type ResponseVerdict =
  | {
      ok: true;
      /** PagerDuty's echoed `dedup_key`, a check that the event landed where the bridge meant it to. */
      dedupKey?: string;
    }
  | {
      ok: false;
      /** Whether sending the same event again may succeed (429, 5xx, network); false for 4xx. */
      retryable: boolean;
      reason: DeliveryFailureReason;
      /** One line for logs and the health report. Never contains a routing key. */
      message: string;
    };

/** The result of one request to PagerDuty: the verdict plus what the health report and the pacing need. */
type SendResult = ResponseVerdict & {
  /** PagerDuty's HTTP status; absent when no response arrived (network error, timeout, abort). */
  statusCode?: number;
  /** Wall time of the request, including reading the response body. */
  latencyMs: number;
  /** The `Retry-After` header in milliseconds, when PagerDuty sent one (undocumented for the Events API). */
  retryAfterMs?: number;
  /**
   * Whether the request may have reached PagerDuty: true once its connection was established (so with every answer,
   * and with a timeout, reset or abort after connecting: the event may have been accepted); false when it was never
   * sent (schema, routing key) or failed before connecting (refused, DNS, TLS, aborted while connecting), so sending
   * it again cannot duplicate it.
   */
  onWire: boolean;
};

/** What a builder returns: the event, and one line per piece of data it had to cut (for a warning log). */
interface BuiltEvent {
  event: PagerDutyEventBody;
  cuts: string[];
}

export type {
  BuiltEvent,
  PagerDutyChangeEventBody,
  PagerDutyEventBody,
  PagerDutyImage,
  PagerDutyLink,
  PagerDutyPayload,
  ResponseVerdict,
  SendResult,
};
