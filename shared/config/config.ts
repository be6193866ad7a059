/**
 * The bridge's configuration: read from the environment once per instance (at cold start), validated by the
 * build-time compiled schema, frozen and typed. Every variable is in `settings.ts`; docs/configuration.md lists them.
 *
 * A deployed function never throws at init on bad configuration (FC may answer an init failure with HTTP 200 and the
 * alert is lost): `loadConfigSafely` returns the `ConfigError`, and the handler answers every request with 503 and the
 * error's code (`configFailureHandler` in `functions/alert-webhook/index.ts`), logging the problems once per instance.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { type DeliveryMode, StoreKind } from '../constants';
import { ConfigError, ErrorCode } from '../errors';
import { validateConfig } from '../validation/generated/validators';
import { Secret } from './Secret';
import { type FunctionName, SETTINGS, type Setting } from './settings';

type Env = Record<string, string | undefined>;
type LogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';

/** Parsed values keyed by variable name, after type conversion and schema validation. */
type RawValues = Record<string, string | number | boolean | string[] | undefined>;

interface WebhookConfig {
  /** `WEBHOOK_TOKENS`. @default [] (unauthenticated: allowed locally, 503 deployed unless allowUnauthenticated) */
  tokens: readonly Secret[];
  /** `ALLOW_UNAUTHENTICATED`. @default false */
  allowUnauthenticated: boolean;
  /** `MAX_BODY_BYTES`. @default 8388608 (8 MiB) */
  maxBodyBytes: number;
  /** `MAX_ALERTS`. @default 5000 */
  maxAlerts: number;
  /** `MAX_JSON_DEPTH`. @default 32 */
  maxJsonDepth: number;
  /** `IDENTITY_EXCLUDED_LABELS`, split on commas. @default [] */
  identityExcludedLabels: readonly string[];
  /** `WEBHOOK_DEADLINE_MS`. @default 4000 (inside ARMS's 5 s) */
  deadlineMs: number;
  /** `HEALTH_FUNCTION_NAME`: the function the kick invokes. @default 'delivery-health' */
  healthFunctionName: string;
  /** `FUNCTION_COMPUTE_ENDPOINT`. @default derived from the account and region FC sets */
  functionComputeEndpoint?: string;
}

interface PagerDutyConfig {
  /** `PAGERDUTY_ROUTING_KEY`. @default undefined */
  routingKey?: Secret;
  /** `PAGERDUTY_EVENTS_URL`. @default 'https://events.pagerduty.com/v2/enqueue' */
  eventsUrl: string;
  /** The routing rules' JSON text: `PAGERDUTY_ROUTES`, or the contents of `PAGERDUTY_ROUTES_FILE`. @default undefined */
  routesText?: string;
  /** Which variable the rules came from, for problem lines. */
  routesSource: string;
  /** `DELIVERY_MODE`. @default 'per-alert' */
  mode: DeliveryMode;
  /** True when nothing may be sent: `DRY_RUN=true`, or (locally) no routing key anywhere. */
  dryRun: boolean;
  /** Why `dryRun` is on, for the banner and the logs. */
  dryRunReason?: string;
  /** `PAGERDUTY_TIMEOUT_MS`. @default 2500 */
  timeoutMs: number;
  /** `PAGERDUTY_RATE_PER_MINUTE`. @default 120 */
  ratePerMinute: number;
  /** `LONE_RESOLVES_AS_CHANGE_EVENTS`. @default false */
  loneResolvesAsChangeEvents: boolean;
}

interface StoreConfig {
  /** `STORE`. @default 'tablestore' when deployed, 'file' locally */
  kind: StoreKind;
  /** `STORE_PATH`, absolute. @default '<cwd>/.data/' */
  path: string;
  /** `TABLESTORE_ENDPOINT`. @default undefined (required with STORE=tablestore) */
  tablestoreEndpoint?: string;
  /** `TABLESTORE_INSTANCE`. @default undefined (required with STORE=tablestore) */
  tablestoreInstance?: string;
  /** `TABLESTORE_TABLE`. @default 'alert_delivery' */
  tablestoreTable: string;
  /** `STORE_TIMEOUT_MS`. @default 1500 */
  timeoutMs: number;
  /** `DEDUP_WINDOW_SECONDS`. @default 86400 (1 day) */
  dedupWindowSeconds: number;
  /** `DELIVERY_TTL_SECONDS`. @default 604800 (7 days) */
  ttlSeconds: number;
  /** `LEASE_SECONDS`. @default 30 */
  leaseSeconds: number;
}

interface RetryConfig {
  /** `MAX_ATTEMPTS`. @default 20 */
  maxAttempts: number;
  /** `MAX_DELIVERY_AGE_SECONDS`. @default 86400 (1 day) */
  maxAgeSeconds: number;
  /** `RETRY_BASE_SECONDS`: first probe interval of an open circuit. @default 1 */
  baseSeconds: number;
  /** `RETRY_MAX_SECONDS`: longest probe interval of an open circuit. @default 5 */
  maxSeconds: number;
}

interface HealthConfig {
  /** `HEALTH_ROUTING_KEY`. @default undefined (no self-alerts) */
  routingKey?: Secret;
  /** `HEARTBEAT_URL`. @default undefined (no pings) */
  heartbeatUrl?: Secret;
  /** `HEALTH_TIME_BUDGET_SECONDS`. @default 45 */
  timeBudgetSeconds: number;
  /** `HEALTH_MAX_OUTBOX_AGE_SECONDS`. @default 900 (15 min) */
  maxOutboxAgeSeconds: number;
  /** `HEALTH_DEGRADED_OUTBOX_AGE_SECONDS`. @default 120 (2 min) */
  degradedOutboxAgeSeconds: number;
  /** `HEALTH_WINDOW_SECONDS`. @default 300 (5 min) */
  windowSeconds: number;
  /** `WATCHDOG_ALERTNAME`. @default undefined (no watchdog) */
  watchdogAlertname?: string;
  /** `WATCHDOG_INTERVAL_SECONDS`. @default 3600 (1 h) */
  watchdogIntervalSeconds: number;
  /** `CANARY_URL`: the webhook's HTTP trigger URL the canary posts to. @default undefined (no canary) */
  canaryUrl?: Secret;
  /** `CANARY_INTERVAL_SECONDS`. @default 3600 (1 h) */
  canaryIntervalSeconds: number;
  /** `HEALTH_MAX_DEAD_DELIVERIES`. @default 0 */
  maxDeadDeliveries: number;
  /** `HEALTH_MAX_FAILURE_RATIO`. @default 0.5 */
  maxFailureRatio: number;
  /** `RUNBOOK_URL`: the published `docs/runbook.md`, linked from the self-alert. @default undefined (no link) */
  runbookUrl?: string;
}

interface CredentialsConfig {
  /** `ALIBABA_CLOUD_ACCESS_KEY_ID`. @default undefined (the FC context's credentials are preferred) */
  accessKeyId?: Secret;
  /** `ALIBABA_CLOUD_ACCESS_KEY_SECRET`. @default undefined */
  accessKeySecret?: Secret;
  /** `ALIBABA_CLOUD_SECURITY_TOKEN`. @default undefined */
  securityToken?: Secret;
}

interface BridgeConfig {
  /** FC sets `FC_FUNCTION_NAME`; the local runtime never does. */
  deployed: boolean;
  /** `FC_FUNCTION_NAME` when deployed. */
  functionName?: string;
  /** `LOG_LEVEL`. @default 'INFO' */
  logLevel: LogLevel;
  webhook: WebhookConfig;
  pagerduty: PagerDutyConfig;
  store: StoreConfig;
  retry: RetryConfig;
  health: HealthConfig;
  credentials: CredentialsConfig;
  /** Every secret value configured, so the logger can scrub them from any line. */
  secrets: readonly Secret[];
}

const TRUE_VALUES = new Set(['true', '1', 'yes', 'on']);
const FALSE_VALUES = new Set(['false', '0', 'no', 'off']);

/** Converts one raw variable to its type; returns a problem string when it cannot. Empty means unset. */
function readSetting(setting: Setting, raw: string | undefined): { value?: RawValues[string]; problem?: string } {
  const text = raw?.trim();
  if (text === undefined || text === '') return { value: setting.default };
  switch (setting.type) {
    case 'integer':
    case 'number': {
      const value = Number(text);
      if (!Number.isFinite(value) || (setting.type === 'integer' && !Number.isInteger(value))) {
        return { problem: `${setting.env} must be ${setting.type === 'integer' ? 'an integer' : 'a number'}` };
      }
      return { value };
    }
    case 'boolean': {
      const lower = text.toLowerCase();
      if (TRUE_VALUES.has(lower)) return { value: true };
      if (FALSE_VALUES.has(lower)) return { value: false };
      return { problem: `${setting.env} must be true or false` };
    }
    case 'secret-list':
      return {
        value: text
          .split(',')
          .map((token) => token.trim())
          .filter((token) => token !== ''),
      };
    default:
      return { value: text };
  }
}

/** Turns ajv's errors on the env object into one line per variable (never echoing a value: it may be a secret). */
function describeSchemaErrors(errors: NonNullable<typeof validateConfig.errors>): string[] {
  return errors.map((error) => {
    const name = error.instancePath.split('/')[1] ?? 'configuration';
    if (error.keyword === 'pattern') return `${name} must be an http(s) URL`;
    if (error.keyword === 'enum')
      return `${name} must be one of ${(error.params.allowedValues as string[]).join(', ')}`;
    if (error.keyword === 'maxLength' && error.instancePath.split('/').length > 2) {
      return `${name}: each token must be at most ${error.params.limit} characters (ARMS header limit)`;
    }
    return `${name} ${error.message ?? 'is invalid'}`;
  });
}

function secretOf(value: RawValues[string]): Secret | undefined {
  return typeof value === 'string' ? new Secret(value) : undefined;
}

/** A file setting's path: absolute as given, else relative to the code package (`codeDir`). */
function resolveCodePath(file: string, codeDir: string): string {
  return isAbsolute(file) ? file : resolve(codeDir, file);
}

/**
 * Reads the text of `PAGERDUTY_ROUTES` or of the file `PAGERDUTY_ROUTES_FILE` names (relative to the code package).
 * The rules themselves are parsed and checked by `shared/pagerduty/routes.ts`.
 */
function readRoutesText(values: RawValues, codeDir: string, problems: string[]): { text?: string; source: string } {
  const inline = values.PAGERDUTY_ROUTES as string | undefined;
  const file = values.PAGERDUTY_ROUTES_FILE as string | undefined;
  if (inline !== undefined && file !== undefined) {
    problems.push('set at most one of PAGERDUTY_ROUTES and PAGERDUTY_ROUTES_FILE');
    return { source: 'PAGERDUTY_ROUTES' };
  }
  if (file === undefined) return { text: inline, source: 'PAGERDUTY_ROUTES' };
  const source = `PAGERDUTY_ROUTES_FILE (${file})`;
  try {
    // Read synchronously, once, at cold start: the file ships in the code package.
    return { text: readFileSync(resolveCodePath(file, codeDir), 'utf8'), source };
  } catch (error) {
    problems.push(`${source} cannot be read: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
    return { source };
  }
}

/**
 * Reads and validates the configuration. Throws `ConfigError` naming every problem at once.
 *
 * @param env the environment (`process.env` in the functions)
 * @param options.codeDir where relative file settings resolve (the code package; `process.cwd()` by default)
 * @param options.service the function reading it (rules that concern one function apply to it only)
 * @example
 * const config = loadConfig(process.env);
 * config.pagerduty.eventsUrl; // 'https://events.pagerduty.com/v2/enqueue'
 */
function loadConfig(env: Env, options: { codeDir?: string; service?: FunctionName } = {}): BridgeConfig {
  const codeDir = options.codeDir ?? process.cwd();
  const problems: string[] = [];
  const values: RawValues = {};
  for (const setting of SETTINGS) {
    const { value, problem } = readSetting(setting, env[setting.env]);
    if (problem !== undefined) problems.push(problem);
    else if (value !== undefined) values[setting.env] = value;
  }
  if (problems.length === 0 && !validateConfig(values)) {
    problems.push(...describeSchemaErrors(validateConfig.errors ?? []));
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const deployed = (env.FC_FUNCTION_NAME ?? '') !== '';
  const get = <T>(name: string) => values[name] as T;
  const storeKind = get<StoreKind | undefined>('STORE') ?? (deployed ? StoreKind.TABLESTORE : StoreKind.FILE);
  const routes = readRoutesText(values, codeDir, problems);

  const tokens = (get<string[] | undefined>('WEBHOOK_TOKENS') ?? []).map((token) => new Secret(token));
  const routingKey = secretOf(values.PAGERDUTY_ROUTING_KEY);
  const config: BridgeConfig = {
    deployed,
    functionName: deployed ? env.FC_FUNCTION_NAME : undefined,
    logLevel: get<LogLevel>('LOG_LEVEL'),
    webhook: {
      tokens,
      allowUnauthenticated: get<boolean>('ALLOW_UNAUTHENTICATED'),
      maxBodyBytes: get<number>('MAX_BODY_BYTES'),
      maxAlerts: get<number>('MAX_ALERTS'),
      maxJsonDepth: get<number>('MAX_JSON_DEPTH'),
      identityExcludedLabels: (get<string | undefined>('IDENTITY_EXCLUDED_LABELS') ?? '')
        .split(',')
        .map((name) => name.trim())
        .filter((name) => name !== ''),
      deadlineMs: get<number>('WEBHOOK_DEADLINE_MS'),
      healthFunctionName: get<string>('HEALTH_FUNCTION_NAME'),
      functionComputeEndpoint: get<string | undefined>('FUNCTION_COMPUTE_ENDPOINT'),
    },
    pagerduty: {
      routingKey,
      eventsUrl: get<string>('PAGERDUTY_EVENTS_URL'),
      routesText: routes.text,
      routesSource: routes.source,
      mode: get<DeliveryMode>('DELIVERY_MODE'),
      dryRun: get<boolean>('DRY_RUN'),
      dryRunReason: get<boolean>('DRY_RUN') ? 'DRY_RUN=true' : undefined,
      timeoutMs: get<number>('PAGERDUTY_TIMEOUT_MS'),
      ratePerMinute: get<number>('PAGERDUTY_RATE_PER_MINUTE'),
      loneResolvesAsChangeEvents: get<boolean>('LONE_RESOLVES_AS_CHANGE_EVENTS'),
    },
    store: {
      kind: storeKind,
      path: resolve(process.cwd(), get<string>('STORE_PATH')),
      tablestoreEndpoint: get<string | undefined>('TABLESTORE_ENDPOINT'),
      tablestoreInstance: get<string | undefined>('TABLESTORE_INSTANCE'),
      tablestoreTable: get<string>('TABLESTORE_TABLE'),
      timeoutMs: get<number>('STORE_TIMEOUT_MS'),
      dedupWindowSeconds: get<number>('DEDUP_WINDOW_SECONDS'),
      ttlSeconds: get<number>('DELIVERY_TTL_SECONDS'),
      leaseSeconds: get<number>('LEASE_SECONDS'),
    },
    retry: {
      maxAttempts: get<number>('MAX_ATTEMPTS'),
      maxAgeSeconds: get<number>('MAX_DELIVERY_AGE_SECONDS'),
      baseSeconds: get<number>('RETRY_BASE_SECONDS'),
      maxSeconds: get<number>('RETRY_MAX_SECONDS'),
    },
    health: {
      routingKey: secretOf(values.HEALTH_ROUTING_KEY),
      heartbeatUrl: secretOf(values.HEARTBEAT_URL),
      timeBudgetSeconds: get<number>('HEALTH_TIME_BUDGET_SECONDS'),
      maxOutboxAgeSeconds: get<number>('HEALTH_MAX_OUTBOX_AGE_SECONDS'),
      degradedOutboxAgeSeconds: get<number>('HEALTH_DEGRADED_OUTBOX_AGE_SECONDS'),
      windowSeconds: get<number>('HEALTH_WINDOW_SECONDS'),
      watchdogAlertname: get<string | undefined>('WATCHDOG_ALERTNAME'),
      watchdogIntervalSeconds: get<number>('WATCHDOG_INTERVAL_SECONDS'),
      canaryUrl: secretOf(values.CANARY_URL),
      canaryIntervalSeconds: get<number>('CANARY_INTERVAL_SECONDS'),
      maxDeadDeliveries: get<number>('HEALTH_MAX_DEAD_DELIVERIES'),
      maxFailureRatio: get<number>('HEALTH_MAX_FAILURE_RATIO'),
      runbookUrl: get<string | undefined>('RUNBOOK_URL'),
    },
    credentials: {
      accessKeyId: secretOf(values.ALIBABA_CLOUD_ACCESS_KEY_ID),
      accessKeySecret: secretOf(values.ALIBABA_CLOUD_ACCESS_KEY_SECRET),
      securityToken: secretOf(values.ALIBABA_CLOUD_SECURITY_TOKEN),
    },
    secrets: [],
  };
  config.secrets = [
    ...tokens,
    ...[
      routingKey,
      config.health.routingKey,
      config.health.heartbeatUrl,
      config.health.canaryUrl,
      config.credentials.accessKeyId,
      config.credentials.accessKeySecret,
      config.credentials.securityToken,
    ].filter((secret): secret is Secret => secret !== undefined),
  ];
  checkCombinations(config, problems, options.service);
  if (problems.length > 0) throw new ConfigError(problems);
  return deepFreeze(config);
}

/** Rules that involve several settings, checked after each one is valid on its own. */
function checkCombinations(config: BridgeConfig, problems: string[], service?: FunctionName): void {
  const { store, retry, webhook } = config;
  if (store.ttlSeconds < store.dedupWindowSeconds) {
    problems.push('DELIVERY_TTL_SECONDS must be at least DEDUP_WINDOW_SECONDS (a record must outlive its window)');
  }
  if (retry.maxSeconds < retry.baseSeconds) problems.push('RETRY_MAX_SECONDS must be at least RETRY_BASE_SECONDS');
  if (store.kind === StoreKind.TABLESTORE && (!store.tablestoreEndpoint || !store.tablestoreInstance)) {
    problems.push('STORE=tablestore needs TABLESTORE_ENDPOINT and TABLESTORE_INSTANCE');
  }
  if (config.deployed && store.kind !== StoreKind.TABLESTORE) {
    problems.push(`STORE=${store.kind} keeps nothing across FC instances: deployed functions need STORE=tablestore`);
  }
  // Only the webhook takes callbacks: delivery-health (timer) runs without tokens.
  if (
    service !== 'delivery-health' &&
    config.deployed &&
    webhook.tokens.length === 0 &&
    !webhook.allowUnauthenticated
  ) {
    // Its own code, so the operator sees at once which of the two deployed-only rules fired.
    throw new ConfigError(
      ['WEBHOOK_TOKENS is required when deployed (or set ALLOW_UNAUTHENTICATED=true)'],
      ErrorCode.CONFIG_NO_TOKENS,
    );
  }
}

/**
 * The routing-key rule, applied once routes are known (`hasRouteKey`): locally, no key anywhere means dry-run; a
 * deployed function with no key anywhere is a configuration error, since a bridge that pages nobody must not look
 * healthy. `DRY_RUN=true` is an explicit choice and allowed everywhere.
 */
function applyRoutingKeyRule(config: BridgeConfig, hasRouteKey: boolean): BridgeConfig {
  if (config.pagerduty.dryRun || config.pagerduty.routingKey !== undefined || hasRouteKey) return config;
  if (config.deployed) {
    throw new ConfigError(
      ['no PagerDuty routing key: set PAGERDUTY_ROUTING_KEY or give a route a key (or DRY_RUN=true)'],
      ErrorCode.CONFIG_NO_ROUTING_KEY,
    );
  }
  return deepFreeze({
    ...config,
    pagerduty: { ...config.pagerduty, dryRun: true, dryRunReason: 'no routing key configured' },
  });
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !(value instanceof Secret) && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

export type {
  BridgeConfig,
  CredentialsConfig,
  Env,
  HealthConfig,
  LogLevel,
  PagerDutyConfig,
  RetryConfig,
  StoreConfig,
  WebhookConfig,
};
export { applyRoutingKeyRule, loadConfig, resolveCodePath };
