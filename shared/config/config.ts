/**
 * The bridge's configuration: read from the environment once per instance (at cold start), validated by the
 * build-time compiled schema, frozen and typed. Every variable is declared once, in `settings.ts`: its type here, its
 * schema and docs/configuration.md are derived from that declaration.
 *
 * A deployed function never throws at init on bad configuration (FC may answer an init failure with HTTP 200 and the
 * alert is lost): the composition root keeps the `ConfigError`, and the handler answers every request with 503 and the
 * error's code (`configFailureHandler` in `functions/alert-webhook/index.ts`), logging the problems once per instance.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { StoreKind } from '../constants';
import { ConfigError, ErrorCode } from '../errors';
import { validateConfig } from '../validation/generated/validators';
import type {
  BridgeConfig,
  CredentialsConfig,
  Env,
  HealthConfig,
  LogLevel,
  RetryConfig,
  WebhookConfig,
} from './BridgeConfig';
import {
  degradedBeforeFailing,
  deployedStoreIsShared,
  oneRoutesSource,
  retryMaxCoversBase,
  someRoutingKey,
  tablestoreIsAddressed,
  ttlCoversDedupWindow,
  ttlCoversDeliveryAge,
  webhookIsAuthenticated,
} from './rules';
import { Secret } from './Secret';
import {
  type FunctionName,
  SETTINGS,
  type SectionOf,
  type Setting,
  type SettingName,
  type SettingType,
  type SettingValues,
  type TopLevelOf,
} from './settings';

/** A raw value once converted to its JSON type: what the schema checks (secrets are wrapped only after). */
type Parsed = string | number | boolean | string[];

/** What `at` places, before the loader adds the derived fields. */
type Placed = TopLevelOf & {
  webhook: WebhookConfig;
  pagerduty: SectionOf<'pagerduty'>;
  store: SectionOf<'store'>;
  retry: RetryConfig;
  health: HealthConfig;
  credentials: CredentialsConfig;
};

const TRUE_VALUES = new Set(['true', '1', 'yes', 'on']);
const FALSE_VALUES = new Set(['false', '0', 'no', 'off']);
const SECRET_TYPES: ReadonlySet<SettingType> = new Set(['secret', 'secret-url', 'secret-list']);

/** A comma-separated list: items trimmed, blank ones dropped. */
function splitList(text: string | undefined): string[] {
  return (text ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

/** Converts one raw variable to its JSON type; returns a problem string when it cannot. Empty means unset. */
function readSetting(setting: Setting, raw: string | undefined): { value?: Parsed; problem?: string } {
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
      return { value: splitList(text) };
    default:
      return { value: text };
  }
}

/** A schema-valid value in its final type (`ValueOf` in `settings.ts`): secrets wrapped, lists split. */
function finalValue(setting: Setting, value: Parsed | undefined): unknown {
  switch (setting.type) {
    case 'secret':
    case 'secret-url':
      return value === undefined ? undefined : new Secret(value as string);
    case 'secret-list':
      return ((value as string[] | undefined) ?? []).map((token) => new Secret(token));
    case 'list':
      return splitList(value as string | undefined);
    default:
      return value;
  }
}

/** Where each setting's `at` puts its value: `section.field`, or a top-level field (split once, here). */
const PLACEMENTS = SETTINGS.flatMap(({ env, at }) => {
  if (at === undefined) return [];
  const [section, field] = at.split('.') as [string, string | undefined];
  return [{ env: env as SettingName, section, field }];
});

/** Puts each value where its setting's `at` says. */
function place(values: SettingValues): Placed {
  const tree: Record<string, unknown> = {};
  for (const { env, section, field } of PLACEMENTS) {
    if (field === undefined) {
      tree[section] = values[env];
      continue;
    }
    tree[section] ??= {};
    (tree[section] as Record<string, unknown>)[field] = values[env];
  }
  return tree as Placed;
}

/** The configured secrets, in table order (a token list gives each token). */
function secretsOf(values: SettingValues): Secret[] {
  return SETTINGS.filter((setting) => SECRET_TYPES.has(setting.type)).flatMap((setting) => {
    const value = values[setting.env as SettingName] as Secret | readonly Secret[] | undefined;
    return value === undefined ? [] : Array.isArray(value) ? value : [value as Secret];
  });
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

/** A file setting's path: absolute as given, else relative to the code package (`codeDir`). */
function resolveCodePath(file: string, codeDir: string): string {
  return isAbsolute(file) ? file : resolve(codeDir, file);
}

/**
 * Reads the text of `PAGERDUTY_ROUTES` or of the file `PAGERDUTY_ROUTES_FILE` names (relative to the code package).
 * The rules themselves are parsed and checked by `shared/pagerduty/routes.ts`.
 */
function readRoutesText(values: SettingValues, codeDir: string, problems: string[]): { text?: string; source: string } {
  const inline = values.PAGERDUTY_ROUTES;
  const file = values.PAGERDUTY_ROUTES_FILE;
  const twoSources = oneRoutesSource(values);
  if (twoSources.length > 0) {
    problems.push(...twoSources);
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
  const parsed: Partial<Record<string, Parsed>> = {};
  for (const setting of SETTINGS) {
    const { value, problem } = readSetting(setting, env[setting.env]);
    if (problem !== undefined) problems.push(problem);
    else if (value !== undefined) parsed[setting.env] = value;
  }
  if (problems.length === 0 && !validateConfig(parsed)) {
    problems.push(...describeSchemaErrors(validateConfig.errors ?? []));
  }
  if (problems.length > 0) throw new ConfigError(problems);
  // Built from the table the type is derived from, so the one cast here is what `SettingValues` states.
  const final: Record<string, unknown> = {};
  for (const setting of SETTINGS) final[setting.env] = finalValue(setting, parsed[setting.env]);
  const values = final as SettingValues;

  const deployed = (env.FC_FUNCTION_NAME ?? '') !== '';
  const routes = readRoutesText(values, codeDir, problems);
  const placed = place(values);
  const config: BridgeConfig = {
    ...placed,
    deployed,
    functionName: deployed ? env.FC_FUNCTION_NAME : undefined,
    pagerduty: {
      ...placed.pagerduty,
      routesText: routes.text,
      routesSource: routes.source,
      dryRunReason: values.DRY_RUN ? 'DRY_RUN=true' : undefined,
    },
    store: {
      ...placed.store,
      kind: values.STORE ?? (deployed ? StoreKind.TABLESTORE : StoreKind.FILE),
      path: resolve(process.cwd(), values.STORE_PATH),
    },
    secrets: secretsOf(values),
  };
  checkCombinations(config, problems, options.service);
  if (problems.length > 0) throw new ConfigError(problems);
  return deepFreeze(config);
}

/** The rules that involve several settings (`rules.ts`), checked once each setting is valid on its own. */
function checkCombinations(config: BridgeConfig, problems: string[], service?: FunctionName): void {
  problems.push(
    ...ttlCoversDedupWindow(config),
    ...retryMaxCoversBase(config),
    ...ttlCoversDeliveryAge(config),
    ...degradedBeforeFailing(config),
    ...tablestoreIsAddressed(config),
    ...deployedStoreIsShared(config),
  );
  const noTokens = webhookIsAuthenticated(config, service);
  // Its own code, so the operator sees at once which of the two deployed-only rules fired.
  if (noTokens.length > 0) throw new ConfigError(noTokens, ErrorCode.CONFIG_NO_TOKENS);
}

/**
 * The routing-key rule, applied once routes are known (`hasRouteKey`): locally, no key anywhere means dry-run; a
 * deployed function with no key anywhere is a configuration error, since a bridge that pages nobody must not look
 * healthy. `DRY_RUN=true` is an explicit choice and allowed everywhere.
 */
function applyRoutingKeyRule(config: BridgeConfig, hasRouteKey: boolean): BridgeConfig {
  if (config.pagerduty.dryRun || config.pagerduty.routingKey !== undefined || hasRouteKey) return config;
  const noKey = someRoutingKey(config, hasRouteKey);
  if (noKey.length > 0) throw new ConfigError(noKey, ErrorCode.CONFIG_NO_ROUTING_KEY);
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

export type { BridgeConfig, CredentialsConfig, Env, LogLevel, RetryConfig };
export { applyRoutingKeyRule, loadConfig, resolveCodePath };
