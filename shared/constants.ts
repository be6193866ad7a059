/**
 * Every named limit and enum-like value the bridge uses, each with the source that fixes it.
 * Limits that operators may tune are *defaults* for settings in `shared/config/config.ts`; the hard
 * limits of ARMS, Function Compute, PagerDuty and Tablestore are not settings.
 */

// ---------------------------------------------------------------------------------------------
// Enum-like values
// ---------------------------------------------------------------------------------------------

/** PagerDuty Events API v2 `payload.severity` values. https://developer.pagerduty.com/docs/send-alert-event */
const Severity = {
  CRITICAL: 'critical',
  ERROR: 'error',
  WARNING: 'warning',
  INFO: 'info',
} as const;
type Severity = (typeof Severity)[keyof typeof Severity];

/** PagerDuty `event_action` values the bridge sends (it never acknowledges on ARMS's behalf). */
const EventAction = {
  TRIGGER: 'trigger',
  RESOLVE: 'resolve',
} as const;
type EventAction = (typeof EventAction)[keyof typeof EventAction];

/** Alertmanager / ARMS `alerts[].status`. The only source of firing vs resolved (never `endsAt`). */
const AlertStatus = {
  FIRING: 'firing',
  RESOLVED: 'resolved',
} as const;
type AlertStatus = (typeof AlertStatus)[keyof typeof AlertStatus];

/** Which sender produced a callback. */
const CallbackFormat = {
  ARMS: 'arms',
  ALERTMANAGER: 'alertmanager',
} as const;
type CallbackFormat = (typeof CallbackFormat)[keyof typeof CallbackFormat];

/** States of one delivery row (dedup record and outbox entry in one). */
const DeliveryStatus = {
  PENDING: 'PENDING',
  SENDING: 'SENDING',
  DELIVERED: 'DELIVERED',
  RETRY: 'RETRY',
  DEAD: 'DEAD',
  SUPERSEDED: 'SUPERSEDED',
  DRY_RUN: 'DRY_RUN',
} as const;
type DeliveryStatus = (typeof DeliveryStatus)[keyof typeof DeliveryStatus];

/** Store backends (`STORE`). */
const StoreKind = {
  TABLESTORE: 'tablestore',
  FILE: 'file',
  MEMORY: 'memory',
} as const;
type StoreKind = (typeof StoreKind)[keyof typeof StoreKind];

/** Delivery modes of a route. */
const DeliveryMode = {
  PER_ALERT: 'per-alert',
  PER_GROUP: 'per-group',
} as const;
type DeliveryMode = (typeof DeliveryMode)[keyof typeof DeliveryMode];

// ---------------------------------------------------------------------------------------------
// Function Compute
// ---------------------------------------------------------------------------------------------

/** FC caps the total size of a function's environment variables at 4 KB. https://www.alibabacloud.com/help/en/functioncompute/fc/environment-variables */
const FC_ENV_MAX_BYTES = 4_096;

// ---------------------------------------------------------------------------------------------
// Callback intake (defaults of the intake settings; see config.ts)
// ---------------------------------------------------------------------------------------------

/** Default body limit: an ARMS alert is about 1.6 KB, so 8 MB holds ~5,000 alerts with room to spare. */
const DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024;
/** Default alert-count limit per callback. */
const DEFAULT_MAX_ALERTS = 5_000;
/** Default maximum JSON nesting depth of a callback (Alertmanager's body is 4 levels deep). */
const DEFAULT_MAX_JSON_DEPTH = 32;
/** Longest label name or value accepted, in UTF-16 units (Prometheus has no limit; this stops abuse). */
const MAX_LABEL_VALUE_LENGTH = 16_384;
/** Longest annotation value accepted, in UTF-16 units. */
const MAX_ANNOTATION_VALUE_LENGTH = 131_072;
/** Most labels or annotations on one alert. */
const MAX_LABELS_PER_ALERT = 256;

/** Version tag of the label-set identity; changing the canonical form must bump it (it orphans open incidents). */
const IDENTITY_VERSION = 'v1';

// ---------------------------------------------------------------------------------------------
// PagerDuty Events API v2
// ---------------------------------------------------------------------------------------------

/** https://developer.pagerduty.com/docs/send-alert-event — "1024 characters"; counted in code points like Alertmanager's runes. */
const SUMMARY_MAX_CODE_POINTS = 1024;
/** https://developer.pagerduty.com/docs/send-alert-event — `dedup_key` maximum length. */
const DEDUP_KEY_MAX = 255;
/** https://developer.pagerduty.com/docs/events-api-v2-overview#size-limits — 512 KB; Alertmanager uses 512000 bytes. */
const EVENT_MAX_BYTES = 512_000;
/** https://developer.pagerduty.com/docs/events-api-v2-rate-limits — about 120 calls per minute per integration key. */
const DEFAULT_PD_RATE_PER_MINUTE = 120;
/** https://developer.pagerduty.com/docs/send-alert-event — default enqueue URL (US service region). */
const DEFAULT_PAGERDUTY_EVENTS_URL = 'https://events.pagerduty.com/v2/enqueue';
/** Value of `client` in events built from ARMS callbacks. */
const PD_CLIENT_ARMS = 'ARMS';
/** Value of `client` in events built from native Alertmanager callbacks. */
const PD_CLIENT_ALERTMANAGER = 'Alertmanager';

/**
 * PagerDuty requests one sender keeps in flight at once, inside the key's pacing budget: with a keep-alive agent per
 * host this fills a 50 ms round trip at several hundred events per second, far above PagerDuty's per-key limit, so the
 * budget (not the window) sets the pace.
 */
const SENDS_IN_FLIGHT = 32;
/**
 * Deliveries per routing key the webhook leases to itself before it has measured how fast its sends go: what 32 sends
 * in flight finish at 50 ms in the time the deadline leaves to start sends (WEBHOOK_DEADLINE_MS − answer reserve −
 * PAGERDUTY_TIMEOUT_MS = 750 ms at the defaults), and twice PagerDuty's per-key limit per minute. Beyond it the window
 * decides: a chunk is leased only when the measured pace of the key's sends starts all of it before the window closes;
 * the rest is claimed queued (PENDING, due now) for the relay, never leased and then written back.
 */
const WEBHOOK_INLINE_FLOOR_PER_KEY = 256;
/** Time the webhook keeps for its last store write and the answer after the sends stop. */
const WEBHOOK_ANSWER_RESERVE_MS = 750;
/**
 * Time the webhook's store calls before the claim leave for sending straight to PagerDuty (fail open) when the store
 * fails or is too slow: a slow store must cost the dedupe, never the page.
 */
const FAIL_OPEN_SEND_MS = 1_000;
/** A callback neither delivered nor stored is logged whole for `npm run replay` up to this size, else by its alerts. */
const REPLAY_BODY_MAX_BYTES = 256 * 1024;
/** Time the webhook's store calls after the claim leave for the answer itself. */
const STORE_ANSWER_RESERVE_MS = 100;
/**
 * PagerDuty's limiter looks back 60 s (https://developer.pagerduty.com/docs/events-api-v2-rate-limits); the bridge
 * keeps a sent block in its window half a second longer, for the time between taking the block and PagerDuty seeing
 * the sends.
 */
const PACING_WINDOW_MS = 60_500;
/** Blocks taken this close together share one window entry (stamped with the later time): the entry list stays short. */
const PACING_COALESCE_MS = 1_000;
/** After a 429 the key's limit is halved, then grows back linearly to the configured rate over this time. */
const PACING_RECOVERY_MS = 60_000;
/** A 429 without `Retry-After` pauses the key this long. */
const RATE_LIMIT_PAUSE_MS = 1_000;
/** Most sends one sender takes from a key's budget in one compare-and-set of the key's row. */
const PACING_BLOCK_MAX = 64;
/** A resolve waiting for its trigger's send looks again this soon (its trigger's outcome usually frees it sooner). */
const RESOLVE_RECHECK_MS = 2_000;

// ---------------------------------------------------------------------------------------------
// delivery-health run and the kick
// ---------------------------------------------------------------------------------------------

/**
 * The FC context's credential sets the logger keeps scrubbing: the current one and the three before it. FC hands each
 * invocation the function role's current STS set (valid 36 h, rotated before that: `arms-and-fc.md` §2); only that one
 * is in use (the store rebuilds its client when it changes, the kick makes one per kick, and a request made with the
 * previous one ends within its timeout), so four sets cover every line that could quote one. Scanning every line for every set an
 * instance was ever handed would only make each line slower.
 */
const ROTATED_CREDENTIAL_SETS_KEPT = 4;

/** Time a health run keeps after the relay for reading the store, the self-alert and the heartbeat. */
const HEALTH_REPORT_RESERVE_MS = 10_000;
/**
 * A relay that met a store failure tries again within its run this many times, the first wait this long, doubling
 * (0.25 + 0.5 + 1 s): a blip is over by then, and a store that is down must not hold the report saying so for long.
 * Each store call has retried on its own already (`calls.ts`).
 */
const RELAY_STORE_RETRIES = 3;
const RELAY_STORE_RETRY_BASE_MS = 250;
/** Budget of one canary request: twice what the webhook takes at most by default (WEBHOOK_DEADLINE_MS, 4 s). */
const CANARY_TIMEOUT_MS = 8_000;
/** Budget of the heartbeat ping: a dead man's switch answers a GET at once; a slow one must not hold the run. */
const HEARTBEAT_TIMEOUT_MS = 5_000;
/**
 * Bound of one kick (an asynchronous FC invocation), for both callers: the webhook kicks after its deadline
 * (WEBHOOK_DEADLINE_MS, 4 s by default), so this is what is left of ARMS's 5 s (`ARMS_TIMEOUT_MS`); FC's async invoke
 * only enqueues (202), typically well under 100 ms, so the health run's chain needs no more. A kick that times out is
 * harmless: the timer runs the function anyway.
 */
const KICK_TIMEOUT_MS = 500;
/** One kick per instance per this long: the kicked run drains every due row anyway. */
const KICK_MIN_INTERVAL_MS = 15_000;

// ---------------------------------------------------------------------------------------------
// Tablestore
// ---------------------------------------------------------------------------------------------

/** BatchWriteRow takes at most 200 rows and 4 MB per call ("Limits on the Wide Column model"). */
const BATCH_WRITE_MAX_ROWS = 200;
const BATCH_WRITE_MAX_BYTES = 4 * 1024 * 1024;
/**
 * Deliveries the webhook claims per store call: a claim writes each row and its due-index entry, so 100 deliveries fill
 * one BatchWriteRow; each chunk's sends start as soon as it is claimed, while the next one is.
 */
const WEBHOOK_CLAIM_CHUNK = BATCH_WRITE_MAX_ROWS / 2;
/**
 * Chunks the webhook claims at once: each chunk is three round trips in a row (claim; markers and the counterparts'
 * second reading; the stops of overtaken triggers), so a few in flight keep the sends fed. Half the store's 8 calls
 * per operation (`tablestore/calls.ts`), so the outcome writes of the chunks already sending still get through.
 */
const WEBHOOK_CLAIMS_IN_FLIGHT = 4;
/** BatchGetRow takes at most 100 rows per call. */
const BATCH_GET_MAX_ROWS = 100;
/** Tablestore rejects a TTL below one day ("TableOptions"). */
const TABLESTORE_MIN_TTL_SECONDS = 86_400;

export {
  AlertStatus,
  BATCH_GET_MAX_ROWS,
  BATCH_WRITE_MAX_BYTES,
  BATCH_WRITE_MAX_ROWS,
  CANARY_TIMEOUT_MS,
  CallbackFormat,
  DEDUP_KEY_MAX,
  DEFAULT_MAX_ALERTS,
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_MAX_JSON_DEPTH,
  DEFAULT_PAGERDUTY_EVENTS_URL,
  DEFAULT_PD_RATE_PER_MINUTE,
  DeliveryMode,
  DeliveryStatus,
  EVENT_MAX_BYTES,
  EventAction,
  FAIL_OPEN_SEND_MS,
  FC_ENV_MAX_BYTES,
  HEALTH_REPORT_RESERVE_MS,
  HEARTBEAT_TIMEOUT_MS,
  IDENTITY_VERSION,
  KICK_MIN_INTERVAL_MS,
  KICK_TIMEOUT_MS,
  MAX_ANNOTATION_VALUE_LENGTH,
  MAX_LABEL_VALUE_LENGTH,
  MAX_LABELS_PER_ALERT,
  PACING_BLOCK_MAX,
  PACING_COALESCE_MS,
  PACING_RECOVERY_MS,
  PACING_WINDOW_MS,
  PD_CLIENT_ALERTMANAGER,
  PD_CLIENT_ARMS,
  RATE_LIMIT_PAUSE_MS,
  RELAY_STORE_RETRIES,
  RELAY_STORE_RETRY_BASE_MS,
  REPLAY_BODY_MAX_BYTES,
  RESOLVE_RECHECK_MS,
  ROTATED_CREDENTIAL_SETS_KEPT,
  SENDS_IN_FLIGHT,
  Severity,
  STORE_ANSWER_RESERVE_MS,
  StoreKind,
  SUMMARY_MAX_CODE_POINTS,
  TABLESTORE_MIN_TTL_SECONDS,
  WEBHOOK_ANSWER_RESERVE_MS,
  WEBHOOK_CLAIM_CHUNK,
  WEBHOOK_CLAIMS_IN_FLIGHT,
  WEBHOOK_INLINE_FLOOR_PER_KEY,
};
