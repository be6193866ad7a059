/**
 * Every environment variable the bridge reads, in one declaration: the config type (`BridgeConfig`, `config.ts`), the
 * config schema (`schema.ts`), docs/configuration.md (`npm run docs`) and the check of `s.yaml`
 * (`tests/integration/tooling/sYaml.test.ts`) are all derived from it.
 * Names follow `CONTRACT.md` §2; the rest are this project's own. Add a setting here before reading it anywhere.
 *
 * `default` is the value used when the variable is unset or empty (an empty string counts as unset).
 */
import {
  DEFAULT_MAX_ALERTS,
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_MAX_JSON_DEPTH,
  DEFAULT_PAGERDUTY_EVENTS_URL,
  DEFAULT_PD_RATE_PER_MINUTE,
  DeliveryMode,
  StoreKind,
  TABLESTORE_MIN_TTL_SECONDS,
} from '../constants';
import type { Secret } from './Secret';

type FunctionName = 'alert-webhook' | 'delivery-health';

/**
 * How a raw string becomes a value. `secret`, `secret-url` and `secret-list` values are wrapped in `Secret`; `list` and
 * `secret-list` are comma-separated (blank items dropped) and are empty lists when unset.
 */
type SettingType =
  | 'string'
  | 'list'
  | 'integer'
  | 'number'
  | 'boolean'
  | 'url'
  | 'enum'
  | 'secret'
  | 'secret-list'
  | 'secret-url';

interface Setting {
  env: string;
  /**
   * Where the value lands in `BridgeConfig`: `section.field`, or a top-level field. None for a setting read elsewhere
   * (the local runtime's, or one the loader reads into a derived field).
   */
  at?: string;
  type: SettingType;
  description: string;
  /** Which deployed functions read it; empty for settings of the local runtime only. */
  functions: readonly FunctionName[];
  default?: string | number | boolean;
  unit?: string;
  minimum?: number;
  maximum?: number;
  values?: readonly string[];
  /** Read by the local runtime (`scripts/local-runtime/`) only; never set on FC. */
  localOnly?: boolean;
}

const BOTH: readonly FunctionName[] = ['alert-webhook', 'delivery-health'];
const WEBHOOK: readonly FunctionName[] = ['alert-webhook'];
const HEALTH: readonly FunctionName[] = ['delivery-health'];

/** `as const`, so the config type can be derived from each entry's `env`, `at`, `type`, `values` and `default`. */
const DECLARED = [
  // --- Local runtime -------------------------------------------------------------------------------------------
  {
    env: 'PORT',
    type: 'integer',
    default: 9000,
    minimum: 0,
    maximum: 65535,
    functions: [],
    localOnly: true,
    description: 'Local only: port on 127.0.0.1 for the webhook function (0 picks a free port).',
  },
  {
    env: 'LOCAL_TIMER_SECONDS',
    type: 'integer',
    unit: 's',
    minimum: 1,
    functions: [],
    localOnly: true,
    description: 'Local only: run delivery-health every N seconds instead of the s.yaml cron.',
  },
  // --- Webhook intake ------------------------------------------------------------------------------------------
  {
    env: 'WEBHOOK_TOKENS',
    at: 'webhook.tokens',
    type: 'secret-list',
    functions: BOTH,
    description:
      'Comma-separated shared secrets accepted from ARMS (several at once for rotation). Required when deployed. The canary posts with the first.',
  },
  {
    env: 'ALLOW_UNAUTHENTICATED',
    at: 'webhook.allowUnauthenticated',
    type: 'boolean',
    default: false,
    functions: WEBHOOK,
    description: '`true` lets a deployed webhook run without WEBHOOK_TOKENS (not recommended: the URL is public).',
  },
  {
    env: 'MAX_BODY_BYTES',
    at: 'webhook.maxBodyBytes',
    type: 'integer',
    default: DEFAULT_MAX_BODY_BYTES,
    unit: 'bytes',
    minimum: 1024,
    maximum: 32 * 1024 * 1024,
    functions: WEBHOOK,
    description: 'Largest callback body accepted (413 above). An ARMS alert is about 1.6 KB.',
  },
  {
    env: 'MAX_ALERTS',
    at: 'webhook.maxAlerts',
    type: 'integer',
    default: DEFAULT_MAX_ALERTS,
    unit: 'alerts',
    minimum: 1,
    maximum: 100_000,
    functions: WEBHOOK,
    description: 'Most alerts accepted in one callback (413 above).',
  },
  {
    env: 'MAX_JSON_DEPTH',
    at: 'webhook.maxJsonDepth',
    type: 'integer',
    default: DEFAULT_MAX_JSON_DEPTH,
    unit: 'levels',
    minimum: 4,
    maximum: 256,
    functions: WEBHOOK,
    description: 'Deepest JSON nesting accepted in a callback.',
  },
  {
    env: 'IDENTITY_EXCLUDED_LABELS',
    at: 'webhook.identityExcludedLabels',
    type: 'list',
    functions: WEBHOOK,
    description:
      'Comma-separated label names left out of the label-set identity of alerts without a fingerprint (e.g. a label that changes on every notification).',
  },
  {
    env: 'WEBHOOK_DEADLINE_MS',
    at: 'webhook.deadlineMs',
    type: 'integer',
    default: 4_000,
    unit: 'ms',
    minimum: 500,
    maximum: 60_000,
    functions: WEBHOOK,
    description:
      'Time budget of one webhook invocation: it answers before this, queueing what it could not deliver (ARMS gives up after 5 s).',
  },
  // --- PagerDuty -----------------------------------------------------------------------------------------------
  {
    env: 'PAGERDUTY_ROUTING_KEY',
    at: 'pagerduty.routingKey',
    type: 'secret',
    functions: BOTH,
    description: 'Default Events API v2 integration key. Unset, and no route has a key: dry-run locally, 503 deployed.',
  },
  {
    env: 'PAGERDUTY_EVENTS_URL',
    at: 'pagerduty.eventsUrl',
    type: 'url',
    default: DEFAULT_PAGERDUTY_EVENTS_URL,
    functions: BOTH,
    description:
      'Events API v2 enqueue URL (EU accounts: https://events.eu.pagerduty.com/v2/enqueue). No other host is contacted.',
  },
  {
    env: 'PAGERDUTY_ROUTES',
    type: 'string',
    functions: BOTH,
    description: 'JSON array of named routing rules (label matchers → routing key, default severity, mode).',
  },
  {
    env: 'PAGERDUTY_ROUTES_FILE',
    type: 'string',
    functions: BOTH,
    description:
      'The same rules from a JSON file (FC caps all env vars at 4 KB together); a relative path is a file of the repository, which the build packages into each function.',
  },
  {
    env: 'DELIVERY_MODE',
    at: 'pagerduty.mode',
    type: 'enum',
    values: Object.values(DeliveryMode),
    default: DeliveryMode.PER_ALERT,
    functions: BOTH,
    description: 'One PagerDuty alert per ARMS alert, or one per notification group. A route may override it.',
  },
  {
    env: 'DRY_RUN',
    at: 'pagerduty.dryRun',
    type: 'boolean',
    default: false,
    functions: BOTH,
    description:
      '`true` never sends to PagerDuty even with a key: events are stored and logged as DRY_RUN (shadow mode).',
  },
  {
    env: 'PAGERDUTY_TIMEOUT_MS',
    at: 'pagerduty.timeoutMs',
    type: 'integer',
    default: 2_500,
    unit: 'ms',
    minimum: 100,
    maximum: 60_000,
    functions: BOTH,
    description: 'Timeout of one request to PagerDuty (the webhook also stays inside WEBHOOK_DEADLINE_MS).',
  },
  {
    env: 'PAGERDUTY_RATE_PER_MINUTE',
    at: 'pagerduty.ratePerMinute',
    type: 'integer',
    default: DEFAULT_PD_RATE_PER_MINUTE,
    unit: 'events/min per routing key',
    minimum: 1,
    maximum: 100_000,
    functions: BOTH,
    description: 'Pace of the relay per routing key (PagerDuty allows about 120 per minute per key).',
  },
  {
    env: 'LONE_RESOLVES_AS_CHANGE_EVENTS',
    at: 'pagerduty.loneResolvesAsChangeEvents',
    type: 'boolean',
    default: false,
    functions: BOTH,
    description:
      'When a resolve arrives before its trigger was delivered, record the occurrence as a PagerDuty Change Event instead of sending nothing.',
  },
  // --- Store ---------------------------------------------------------------------------------------------------
  {
    env: 'STORE',
    at: 'store.kind',
    type: 'enum',
    values: Object.values(StoreKind),
    functions: BOTH,
    description: 'Delivery store: `tablestore` (default when deployed), `file` (default locally) or `memory`.',
  },
  {
    env: 'STORE_PATH',
    at: 'store.path',
    type: 'string',
    default: '.data/',
    functions: BOTH,
    description: 'Directory of the file store (local runtime).',
  },
  {
    env: 'TABLESTORE_ENDPOINT',
    at: 'store.tablestoreEndpoint',
    type: 'url',
    functions: BOTH,
    description:
      'Tablestore endpoint, e.g. https://<instance>.cn-hangzhou.vpc.tablestore.aliyuncs.com (http:// allowed for a local server).',
  },
  {
    env: 'TABLESTORE_INSTANCE',
    at: 'store.tablestoreInstance',
    type: 'string',
    functions: BOTH,
    description: 'Tablestore instance name.',
  },
  {
    env: 'TABLESTORE_TABLE',
    at: 'store.tablestoreTable',
    type: 'string',
    default: 'alert_delivery',
    functions: BOTH,
    description: 'Tablestore table of deliveries (created by `npm run infra:tablestore`).',
  },
  {
    env: 'STORE_TIMEOUT_MS',
    at: 'store.timeoutMs',
    type: 'integer',
    default: 1_500,
    unit: 'ms',
    minimum: 100,
    maximum: 30_000,
    functions: BOTH,
    description: 'Timeout of one store call.',
  },
  {
    env: 'DEDUP_WINDOW_SECONDS',
    at: 'store.dedupWindowSeconds',
    type: 'integer',
    default: 86_400,
    unit: 's',
    minimum: 60,
    functions: BOTH,
    description: 'How long a delivered occurrence suppresses identical repeat notifications.',
  },
  {
    env: 'DELIVERY_TTL_SECONDS',
    at: 'store.ttlSeconds',
    type: 'integer',
    default: 604_800,
    unit: 's',
    minimum: TABLESTORE_MIN_TTL_SECONDS,
    functions: BOTH,
    description: 'How long delivery records are kept (Tablestore TTL; at least one day and at least the dedup window).',
  },
  {
    env: 'LEASE_SECONDS',
    at: 'store.leaseSeconds',
    type: 'integer',
    default: 30,
    unit: 's',
    minimum: 5,
    maximum: 900,
    functions: BOTH,
    description: 'In-flight lease of a delivery being sent; an expired lease is taken over by the relay.',
  },
  // --- Retries -------------------------------------------------------------------------------------------------
  {
    env: 'MAX_ATTEMPTS',
    at: 'retry.maxAttempts',
    type: 'integer',
    default: 20,
    minimum: 1,
    maximum: 1_000,
    functions: BOTH,
    description: 'Delivery attempts before a delivery becomes DEAD.',
  },
  {
    env: 'MAX_DELIVERY_AGE_SECONDS',
    at: 'retry.maxAgeSeconds',
    type: 'integer',
    default: 86_400,
    unit: 's',
    minimum: 60,
    functions: BOTH,
    description: 'Age after which an undelivered delivery becomes DEAD (kept visible until its TTL).',
  },
  {
    env: 'RETRY_BASE_SECONDS',
    at: 'retry.baseSeconds',
    type: 'integer',
    default: 1,
    unit: 's',
    minimum: 1,
    maximum: 60,
    functions: BOTH,
    description:
      "First probe interval of a routing key's open circuit (5xx, timeouts, network errors); doubles per failed probe.",
  },
  {
    env: 'RETRY_MAX_SECONDS',
    at: 'retry.maxSeconds',
    type: 'integer',
    default: 5,
    unit: 's',
    minimum: 1,
    maximum: 60,
    functions: BOTH,
    description:
      'Longest probe interval of an open circuit: after PagerDuty recovers, the backlog drains within about this long.',
  },
  // --- Delivery health -----------------------------------------------------------------------------------------
  {
    env: 'HEALTH_ROUTING_KEY',
    at: 'health.routingKey',
    type: 'secret',
    functions: HEALTH,
    description: "Integration key for the bridge's own health incidents (use a different service than the alerts).",
  },
  {
    env: 'HEARTBEAT_URL',
    at: 'health.heartbeatUrl',
    type: 'secret-url',
    functions: HEALTH,
    description: "Dead man's switch URL pinged after each healthy run (Healthchecks-style; treated as a secret).",
  },
  {
    env: 'HEALTH_TIME_BUDGET_SECONDS',
    at: 'health.timeBudgetSeconds',
    type: 'integer',
    default: 45,
    unit: 's',
    minimum: 5,
    maximum: 600,
    functions: HEALTH,
    description: 'Time budget of one delivery-health run, below its function timeout (60 s in s.yaml).',
  },
  {
    env: 'HEALTH_MAX_OUTBOX_AGE_SECONDS',
    at: 'health.maxOutboxAgeSeconds',
    type: 'integer',
    default: 900,
    unit: 's',
    minimum: 1,
    functions: HEALTH,
    description: 'The bridge is failing when the oldest undelivered delivery is older than this.',
  },
  {
    env: 'HEALTH_DEGRADED_OUTBOX_AGE_SECONDS',
    at: 'health.degradedOutboxAgeSeconds',
    type: 'integer',
    default: 120,
    unit: 's',
    minimum: 0,
    functions: HEALTH,
    description:
      'The bridge is degraded when the oldest undelivered delivery is older than this (failing above HEALTH_MAX_OUTBOX_AGE_SECONDS).',
  },
  {
    env: 'HEALTH_WINDOW_SECONDS',
    at: 'health.windowSeconds',
    type: 'integer',
    default: 300,
    unit: 's',
    minimum: 60,
    maximum: 86_400,
    functions: HEALTH,
    description:
      'Window of the activity counts (deliveries, failures by reason, rejected callbacks) each report judges.',
  },
  {
    env: 'WATCHDOG_ALERTNAME',
    at: 'health.watchdogAlertname',
    type: 'string',
    functions: BOTH,
    description:
      'alertname of an always-firing ARMS alert (a Watchdog rule); when it has not arrived within WATCHDOG_INTERVAL_SECONDS the inbound path is broken and the bridge says so. Unset: off.',
  },
  {
    env: 'WATCHDOG_INTERVAL_SECONDS',
    at: 'health.watchdogIntervalSeconds',
    type: 'integer',
    default: 3_600,
    unit: 's',
    minimum: 60,
    functions: HEALTH,
    description: 'Longest expected gap between Watchdog notifications: its ARMS repeat interval plus slack.',
  },
  {
    env: 'CANARY_URL',
    at: 'health.canaryUrl',
    type: 'secret-url',
    functions: HEALTH,
    description:
      'The webhook\'s HTTP trigger URL: delivery-health posts a synthetic alert (label bridge_canary="true") through it and checks it was delivered. Unset: off.',
  },
  {
    env: 'CANARY_INTERVAL_SECONDS',
    at: 'health.canaryIntervalSeconds',
    type: 'integer',
    default: 3_600,
    unit: 's',
    minimum: 60,
    functions: HEALTH,
    description:
      'How often the canary is sent; the bridge is failing when a canary is not delivered within one interval.',
  },
  {
    env: 'HEALTH_MAX_DEAD_DELIVERIES',
    at: 'health.maxDeadDeliveries',
    type: 'integer',
    default: 0,
    minimum: 0,
    functions: HEALTH,
    description: 'The bridge is failing when more deliveries than this died in the report window.',
  },
  {
    env: 'HEALTH_MAX_FAILURE_RATIO',
    at: 'health.maxFailureRatio',
    type: 'number',
    default: 0.5,
    minimum: 0,
    maximum: 1,
    functions: HEALTH,
    description: 'The bridge is degraded when more than this share of delivery attempts failed in the report window.',
  },
  {
    env: 'RUNBOOK_URL',
    at: 'health.runbookUrl',
    type: 'url',
    functions: HEALTH,
    description:
      'Where docs/runbook.md is published (e.g. https://github.com/<org>/<repo>/blob/main/docs/runbook.md): the self-alert links the section of the rule that fired. Unset: its custom_details name the file and section only.',
  },
  {
    env: 'HEALTH_FUNCTION_NAME',
    at: 'webhook.healthFunctionName',
    type: 'string',
    default: 'delivery-health',
    functions: WEBHOOK,
    description: 'Function the webhook asks FC to run at once when it leaves deliveries queued (the kick).',
  },
  {
    env: 'FUNCTION_COMPUTE_ENDPOINT',
    at: 'webhook.functionComputeEndpoint',
    type: 'url',
    functions: WEBHOOK,
    description: "FC API endpoint for the kick; derived from the function's account and region when unset.",
  },
  // --- Credentials ---------------------------------------------------------------------------------------------
  {
    env: 'ALIBABA_CLOUD_ACCESS_KEY_ID',
    at: 'credentials.accessKeyId',
    type: 'secret',
    functions: BOTH,
    description:
      "Credentials for Tablestore and FC API calls when the FC context provides none (FC sets these in a function's environment).",
  },
  {
    env: 'ALIBABA_CLOUD_ACCESS_KEY_SECRET',
    at: 'credentials.accessKeySecret',
    type: 'secret',
    functions: BOTH,
    description: 'See ALIBABA_CLOUD_ACCESS_KEY_ID.',
  },
  {
    env: 'ALIBABA_CLOUD_SECURITY_TOKEN',
    at: 'credentials.securityToken',
    type: 'secret',
    functions: BOTH,
    description: 'See ALIBABA_CLOUD_ACCESS_KEY_ID (STS token).',
  },
  {
    env: 'LOG_LEVEL',
    at: 'logLevel',
    type: 'enum',
    values: ['DEBUG', 'INFO', 'WARN', 'ERROR'],
    default: 'INFO',
    functions: BOTH,
    description: 'Lowest level written to the log.',
  },
] as const satisfies readonly Setting[];

/** The settings table, for code that walks it (the loader, the docs, the banner). */
const SETTINGS: readonly Setting[] = DECLARED;

type Declared = (typeof DECLARED)[number];
/** Every variable name: reading one that is not declared (a typo) fails to compile. */
type SettingName = Declared['env'];

/** The type a setting's value has once read (the rules of {@link SettingType}). */
type ValueOf<S extends Setting> = S['type'] extends 'integer' | 'number'
  ? number
  : S['type'] extends 'boolean'
    ? boolean
    : S['type'] extends 'enum'
      ? S extends { values: readonly (infer V)[] }
        ? V
        : never
      : S['type'] extends 'secret' | 'secret-url'
        ? Secret
        : S['type'] extends 'secret-list'
          ? readonly Secret[]
          : S['type'] extends 'list'
            ? readonly string[]
            : string;

/** A setting with a default, or a list (empty when unset), always has a value; any other may be unset. */
type AlwaysSet<S extends Setting> = S extends { default: unknown }
  ? true
  : S['type'] extends 'list' | 'secret-list'
    ? true
    : false;

/** The value of every setting by variable name, as the loader reads them: `values.MAX_ALERTS` is a number. */
type SettingValues = {
  readonly [S in Declared as S['env']]: AlwaysSet<S> extends true ? ValueOf<S> : ValueOf<S> | undefined;
};

type Simplify<T> = { [K in keyof T]: T[K] } & {};

/** The fields that `at` places in one section of `BridgeConfig` (`section.field`), optional when they may be unset. */
type SectionOf<Name extends string> = Simplify<
  {
    [S in Declared as S extends { at: `${Name}.${infer F}` }
      ? AlwaysSet<S> extends true
        ? F
        : never
      : never]: ValueOf<S>;
  } & {
    [S in Declared as S extends { at: `${Name}.${infer F}` }
      ? AlwaysSet<S> extends true
        ? never
        : F
      : never]?: ValueOf<S>;
  }
>;

/** The top-level fields `at` places (an `at` without a dot); undefined allowed when the setting may be unset. */
type TopLevelOf = {
  [S in Declared as S extends { at: infer F extends string }
    ? F extends `${string}.${string}`
      ? never
      : F
    : never]: AlwaysSet<S> extends true ? ValueOf<S> : ValueOf<S> | undefined;
};

export type { FunctionName, SectionOf, Setting, SettingName, SettingType, SettingValues, TopLevelOf };
export { SETTINGS };
