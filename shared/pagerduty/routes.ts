/**
 * Named routing rules (`PAGERDUTY_ROUTES` or `PAGERDUTY_ROUTES_FILE`): ordered label matchers → routing key, optional
 * `defaultSeverity` and `mode`. First match wins; no match → the fallback route `default` with
 * `PAGERDUTY_ROUTING_KEY`. The delivery records the route's *name* (never its key), so a resolve goes to the route of
 * its trigger (`findRouteByName`): PagerDuty drops a resolve sent with another key (reference §1.4).
 *
 * A rule, compact because FC caps all environment variables at 4 KB:
 * ```json
 * { "name": "db", "matchers": ["team=\"db\"", "env!=staging", "severity=~\"critical|error\""],
 *   "routingKeyEnv": "PD_KEY_DB", "defaultSeverity": "warning", "mode": "per-group" }
 * ```
 */

import { Secret } from '../config/Secret';
import type { DeliveryMode, Severity } from '../constants';
import { validateRoutes } from '../validation/generated/validators';
import { ROUTING_KEY_LENGTH } from './encode';
import { type Matcher, matches, parseMatcher } from './parseMatcher';
import { describeSchemaErrors } from './schemaErrors';

/** Name of the route used when no rule matches (and of the fallback key `PAGERDUTY_ROUTING_KEY`). */
const FALLBACK_ROUTE_NAME = 'default';

/** One rule as written in the JSON. */
interface RouteRule {
  /** Unique; stored with each delivery. Letters, digits, `_ . : -`, at most 64 characters; `default` is reserved. */
  name: string;
  /** Alertmanager-style matchers, all of which must hold. None: the rule matches every alert. */
  matchers?: string[];
  /** The integration key inline (32 characters). At most one of `routingKey` and `routingKeyEnv`. */
  routingKey?: string;
  /** Name of an environment variable holding the key (keeps keys out of the rules, e.g. in FC's encrypted env). */
  routingKeyEnv?: string;
  /** Severity for alerts whose own labels give none (`CONTRACT.md` §5.4). */
  defaultSeverity?: Severity;
  /** `per-alert` or `per-group`; absent: the bridge-wide default. */
  mode?: DeliveryMode;
}

/** A validated rule. Without a key of its own, the route sends with the fallback key. */
interface Route {
  name: string;
  matchers: readonly Matcher[];
  routingKey?: Secret;
  /** Where `routingKey` came from, for the start-up banner. */
  routingKeyEnv?: string;
  defaultSeverity?: Severity;
  /** Absent: the bridge-wide default mode applies. */
  mode?: DeliveryMode;
}

/** The route an alert goes to, with the key resolved (the route's own, else the fallback). */
interface SelectedRoute {
  name: string;
  /** Undefined when neither the route nor the fallback has a key: whether that is dry-run is the caller's call. */
  routingKey?: Secret;
  defaultSeverity?: Severity;
  mode?: DeliveryMode;
  /** Which key applies: the route's own, the fallback `PAGERDUTY_ROUTING_KEY`, or none. */
  keySource: 'route' | 'fallback' | 'none';
}

/**
 * What is wrong with a routing key, or undefined. PagerDuty integration keys are 32 characters (reference §1.2);
 * anything else is rejected by PagerDuty and the page is lost, so it is a start-up error, not a warning. The message
 * never quotes the key.
 *
 * @example
 * routingKeyProblem(' abc'); // 'has leading or trailing whitespace'
 */
function routingKeyProblem(value: string): string | undefined {
  if (value.trim() === '') return 'is empty';
  if (value.trim() !== value) return 'has leading or trailing whitespace';
  if (value.length !== ROUTING_KEY_LENGTH) {
    return `must be a ${ROUTING_KEY_LENGTH}-character PagerDuty integration key (has ${value.length} characters)`;
  }
  return undefined;
}

/** Rule label for problem lines: `PAGERDUTY_ROUTES[1] ("db")`. */
function ruleLabel(source: string, index: number, rule: unknown): string {
  const name = (rule as { name?: unknown } | null)?.name;
  return typeof name === 'string' ? `${source}[${index}] (${JSON.stringify(name)})` : `${source}[${index}]`;
}

/** Semantic checks of one schema-valid rule; returns the route, or pushes problems. */
function compileRule(
  rule: RouteRule,
  label: string,
  env: Record<string, string | undefined>,
  problems: string[],
  warnings: string[],
): Route | undefined {
  const before = problems.length;
  if (rule.name === FALLBACK_ROUTE_NAME) {
    problems.push(
      `${label}: the name "${FALLBACK_ROUTE_NAME}" is reserved for the fallback route (PAGERDUTY_ROUTING_KEY)`,
    );
  }
  const matchers: Matcher[] = [];
  for (const text of rule.matchers ?? []) {
    const parsed = parseMatcher(text);
    if (parsed.matcher) matchers.push(parsed.matcher);
    else problems.push(`${label}: ${parsed.problem}`);
  }
  let routingKey: Secret | undefined;
  if (rule.routingKey !== undefined && rule.routingKeyEnv !== undefined) {
    problems.push(`${label}: set at most one of routingKey and routingKeyEnv`);
  } else if (rule.routingKey !== undefined) {
    const problem = routingKeyProblem(rule.routingKey);
    if (problem) problems.push(`${label}: routingKey ${problem}`);
    else routingKey = new Secret(rule.routingKey);
  } else if (rule.routingKeyEnv !== undefined) {
    const value = env[rule.routingKeyEnv];
    const problem = value === undefined || value === '' ? 'is not set' : routingKeyProblem(value);
    if (problem) problems.push(`${label}: routingKeyEnv ${rule.routingKeyEnv} ${problem}`);
    else routingKey = new Secret(value as string);
  }
  if (routingKey !== undefined && !/^[A-Za-z0-9]+$/.test(routingKey.reveal())) {
    warnings.push(
      `${label}: the routing key holds characters other than letters and digits; check it was copied whole`,
    );
  }
  if (problems.length > before) return undefined;
  const route: Route = { name: rule.name, matchers: Object.freeze(matchers) };
  if (routingKey !== undefined) route.routingKey = routingKey;
  if (rule.routingKeyEnv !== undefined) route.routingKeyEnv = rule.routingKeyEnv;
  if (rule.defaultSeverity !== undefined) route.defaultSeverity = rule.defaultSeverity;
  if (rule.mode !== undefined) route.mode = rule.mode;
  return Object.freeze(route);
}

/**
 * Validates and compiles routing rules, once at cold start.
 *
 * @param input - the rules: a JSON string, or the parsed array (`PAGERDUTY_ROUTES` or the file's contents);
 *   undefined, null or '' means no rules
 * @param env - the environment, for `routingKeyEnv`
 * @param options.source - how problem lines name the rules @default 'PAGERDUTY_ROUTES'
 * @returns the routes in order; `problems` (configuration errors, one line each, naming the rule) and `warnings`.
 *   `routes` is empty whenever `problems` is not: the bridge never routes with half a rule set.
 *
 * @example
 * const { routes, problems } = parseRoutes(process.env.PAGERDUTY_ROUTES, process.env);
 * if (problems.length > 0) throw new ConfigError(problems);
 */
function parseRoutes(
  input: unknown,
  env: Record<string, string | undefined>,
  options: { source?: string } = {},
): { routes: Route[]; problems: string[]; warnings: string[] } {
  const source = options.source ?? 'PAGERDUTY_ROUTES';
  const problems: string[] = [];
  const warnings: string[] = [];
  let rules = input;
  if (rules === undefined || rules === null || rules === '') return { routes: [], problems, warnings };
  if (typeof rules === 'string') {
    try {
      rules = JSON.parse(rules);
    } catch (error) {
      // V8's message quotes a slice of the input, which may hold a routing key: keep only the position.
      const position = /position \d+/.exec((error as Error).message)?.[0];
      return { routes: [], problems: [`${source} is not valid JSON${position ? ` (at ${position})` : ''}`], warnings };
    }
  }
  if (!validateRoutes(rules)) {
    const errors = validateRoutes.errors ?? [];
    for (const error of errors) {
      const index = /^\/(\d+)/.exec(error.instancePath)?.[1];
      if (index === undefined || !Array.isArray(rules)) {
        problems.push(`${source}: ${describeSchemaErrors([error])[0]}`);
        continue;
      }
      const line = describeSchemaErrors([error], `/${index}`)[0];
      problems.push(`${ruleLabel(source, Number(index), rules[Number(index)])}: ${line}`);
    }
    return { routes: [], problems, warnings };
  }
  const routes: Route[] = [];
  const seen = new Map<string, number>();
  (rules as RouteRule[]).forEach((rule, index) => {
    const label = ruleLabel(source, index, rule);
    const first = seen.get(rule.name);
    if (first !== undefined) problems.push(`${label}: the name is already used by ${source}[${first}]`);
    else seen.set(rule.name, index);
    const catchAll = routes.find((route) => route.matchers.length === 0);
    if (catchAll) warnings.push(`${label}: never matches: "${catchAll.name}" before it has no matchers`);
    const route = compileRule(rule, label, env, problems, warnings);
    if (route) routes.push(route);
  });
  return { routes: problems.length > 0 ? [] : (Object.freeze(routes) as Route[]), problems, warnings };
}

function selected(route: Route | undefined, fallbackKey: Secret | undefined): SelectedRoute {
  const routingKey = route?.routingKey ?? fallbackKey;
  const result: SelectedRoute = {
    name: route?.name ?? FALLBACK_ROUTE_NAME,
    keySource: route?.routingKey ? 'route' : fallbackKey ? 'fallback' : 'none',
  };
  if (routingKey !== undefined) result.routingKey = routingKey;
  if (route?.defaultSeverity !== undefined) result.defaultSeverity = route.defaultSeverity;
  if (route?.mode !== undefined) result.mode = route.mode;
  return result;
}

/**
 * The route for an alert: the first rule whose matchers all hold for `labels`, else the fallback route `default`
 * with `fallbackKey` (its `routingKey` is undefined when there is no fallback key).
 *
 * @example
 * selectRoute(routes, { team: 'db', severity: 'critical' }, fallbackKey); // { name: 'db', keySource: 'route', … }
 */
function selectRoute(
  routes: readonly Route[],
  labels: Readonly<Record<string, string>>,
  fallbackKey: Secret | undefined,
): SelectedRoute {
  const route = routes.find((candidate) => candidate.matchers.every((matcher) => matches(matcher, labels)));
  return selected(route, fallbackKey);
}

/**
 * The route recorded with a trigger, for its resolve: a resolve goes where its trigger went even if the labels would
 * now match another rule. `default` is the fallback route. Undefined when the route no longer exists (the caller
 * decides, e.g. `selectRoute` again and a warning).
 *
 * @example
 * findRouteByName(routes, record.routeName, fallbackKey) ?? selectRoute(routes, alert.labels, fallbackKey);
 */
function findRouteByName(routes: readonly Route[], name: string, fallbackKey?: Secret): SelectedRoute | undefined {
  if (name === FALLBACK_ROUTE_NAME) return selected(undefined, fallbackKey);
  const route = routes.find((candidate) => candidate.name === name);
  return route ? selected(route, fallbackKey) : undefined;
}

export type { Route, RouteRule, SelectedRoute };
export { FALLBACK_ROUTE_NAME, findRouteByName, parseRoutes, routingKeyProblem, selectRoute };
