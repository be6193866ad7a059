import { describe, expect, it } from 'vitest';
import { Secret } from '../../../shared/config/Secret';
import { findRouteByName, parseRoutes, routingKeyProblem, selectRoute } from '../../../shared/pagerduty/routes';
import { OTHER_ROUTING_KEY, ROUTING_KEY } from '../../support/alerts';

const FALLBACK = new Secret('f'.repeat(32));

const RULES = [
  {
    name: 'db',
    matchers: ['team="db"', 'env!=staging', 'severity=~"critical|error"'],
    routingKey: ROUTING_KEY,
    mode: 'per-group',
  },
  { name: 'web', matchers: ['team=web'], routingKeyEnv: 'PD_KEY_WEB', defaultSeverity: 'warning' },
  { name: 'quiet', matchers: ['env=staging'], defaultSeverity: 'info' },
];
const ENV = { PD_KEY_WEB: OTHER_ROUTING_KEY };

describe('Function: parseRoutes', () => {
  it('compiles valid rules in order, keys wrapped in Secret', () => {
    // Act
    const { routes, problems, warnings } = parseRoutes(RULES, ENV);

    // Assess
    expect(problems).toEqual([]);
    expect(warnings).toEqual([]);
    expect(routes.map((route) => route.name)).toEqual(['db', 'web', 'quiet']);
    expect(routes[0]?.routingKey).toBeInstanceOf(Secret);
    expect(routes[0]?.routingKey?.reveal()).toBe(ROUTING_KEY);
    expect(routes[1]?.routingKey?.reveal()).toBe(OTHER_ROUTING_KEY);
    expect(routes[1]?.routingKeyEnv).toBe('PD_KEY_WEB');
    expect(routes[2]?.routingKey).toBeUndefined();
    expect(routes[0]?.mode).toBe('per-group');
    expect(routes[1]?.mode).toBeUndefined();
    expect(JSON.stringify(routes)).not.toContain(ROUTING_KEY);
  });

  it('accepts the rules as a JSON string', () => {
    // Act
    const { routes, problems } = parseRoutes(JSON.stringify(RULES), ENV);

    // Assess
    expect(problems).toEqual([]);
    expect(routes).toHaveLength(3);
  });

  it.each([undefined, null, ''])('treats %j as no rules', (input) => {
    // Act / Assess
    expect(parseRoutes(input, {})).toEqual({ routes: [], problems: [], warnings: [] });
  });

  it.each([
    { case: 'not JSON', input: '[{', problem: /^PAGERDUTY_ROUTES is not valid JSON/ },
    {
      case: 'not JSON, never quoting the key',
      input: `[{"routingKey":"${ROUTING_KEY}}]`,
      problem: /^PAGERDUTY_ROUTES is not valid JSON( \(at position \d+\))?$/,
    },
    { case: 'not an array', input: { name: 'db' }, problem: /^PAGERDUTY_ROUTES: the value must be array$/ },
    { case: 'no name', input: [{ matchers: [] }], problem: /^PAGERDUTY_ROUTES\[0\]: name is required$/ },
    {
      case: 'unknown field',
      input: [{ name: 'db', routingkey: 'x' }],
      problem: /^PAGERDUTY_ROUTES\[0\] \("db"\): routingkey is not a known field$/,
    },
    {
      case: 'bad severity',
      input: [{ name: 'db', defaultSeverity: 'page' }],
      problem: /^PAGERDUTY_ROUTES\[0\] \("db"\): defaultSeverity must be one of critical, error, warning, info$/,
    },
    {
      case: 'bad mode',
      input: [{ name: 'db', mode: 'batch' }],
      problem: /^PAGERDUTY_ROUTES\[0\] \("db"\): mode must be one of per-alert, per-group$/,
    },
    {
      case: 'bad name',
      input: [{ name: 'my route' }],
      problem: /^PAGERDUTY_ROUTES\[0\] \("my route"\): name must match pattern/,
    },
    {
      case: 'matcher not a string',
      input: [{ name: 'db', matchers: [1] }],
      problem: /^PAGERDUTY_ROUTES\[0\] \("db"\): matchers\[0\] must be string$/,
    },
    {
      case: 'bad matcher',
      input: [{ name: 'ok' }, { name: 'db', matchers: ['team==db'] }],
      problem: /^PAGERDUTY_ROUTES\[1\] \("db"\): matcher "team==db" is not a valid matcher: /,
    },
    {
      case: 'bad regex',
      input: [{ name: 'db', matchers: ['a=~"("'] }],
      problem:
        /^PAGERDUTY_ROUTES\[0\] \("db"\): matcher "a=~\\"\(\\"" is not a valid matcher: the regex does not compile/,
    },
    {
      case: 'duplicate name',
      input: [{ name: 'db' }, { name: 'db' }],
      problem: /^PAGERDUTY_ROUTES\[1\] \("db"\): the name is already used by PAGERDUTY_ROUTES\[0\]$/,
    },
    {
      case: 'reserved name',
      input: [{ name: 'default' }],
      problem: /^PAGERDUTY_ROUTES\[0\] \("default"\): the name "default" is reserved/,
    },
    {
      case: 'both key kinds',
      input: [{ name: 'db', routingKey: ROUTING_KEY, routingKeyEnv: 'PD_KEY_WEB' }],
      problem: /^PAGERDUTY_ROUTES\[0\] \("db"\): set at most one of routingKey and routingKeyEnv$/,
    },
    {
      case: 'env var unset',
      input: [{ name: 'db', routingKeyEnv: 'PD_KEY_DB' }],
      problem: /^PAGERDUTY_ROUTES\[0\] \("db"\): routingKeyEnv PD_KEY_DB is not set$/,
    },
    {
      case: 'env var empty',
      input: [{ name: 'db', routingKeyEnv: 'PD_KEY_EMPTY' }],
      problem: /^PAGERDUTY_ROUTES\[0\] \("db"\): routingKeyEnv PD_KEY_EMPTY is not set$/,
    },
    {
      case: 'env var holds a short key',
      input: [{ name: 'db', routingKeyEnv: 'PD_KEY_SHORT' }],
      problem:
        /^PAGERDUTY_ROUTES\[0\] \("db"\): routingKeyEnv PD_KEY_SHORT must be a 32-character PagerDuty integration key \(has 5 characters\)$/,
    },
    {
      case: 'inline key too long',
      input: [{ name: 'db', routingKey: `${ROUTING_KEY}x` }],
      problem:
        /^PAGERDUTY_ROUTES\[0\] \("db"\): routingKey must be a 32-character PagerDuty integration key \(has 33 characters\)$/,
    },
    {
      case: 'inline key with whitespace',
      input: [{ name: 'db', routingKey: ` ${ROUTING_KEY.slice(1)}` }],
      problem: /^PAGERDUTY_ROUTES\[0\] \("db"\): routingKey has leading or trailing whitespace$/,
    },
  ])('reports $case', ({ input, problem }) => {
    // Act
    const result = parseRoutes(input, { PD_KEY_EMPTY: '', PD_KEY_SHORT: 'short', PD_KEY_WEB: OTHER_ROUTING_KEY });

    // Assess
    expect(result.routes).toEqual([]);
    expect(result.problems).toHaveLength(1);
    expect(result.problems[0]).toMatch(problem);
    expect(result.problems.join()).not.toContain(ROUTING_KEY.slice(1));
  });

  it('names the source given', () => {
    // Act
    const { problems } = parseRoutes(
      [{ name: 'db', matchers: ['x'] }],
      {},
      { source: 'PAGERDUTY_ROUTES_FILE (routes.json)' },
    );

    // Assess
    expect(problems[0]).toMatch(/^PAGERDUTY_ROUTES_FILE \(routes\.json\)\[0\] \("db"\): matcher "x"/);
  });

  it('warns about rules after a catch-all and about odd key characters', () => {
    // Act
    const { problems, warnings } = parseRoutes(
      [{ name: 'all' }, { name: 'never', matchers: ['a=b'], routingKey: `${'a'.repeat(31)}-` }],
      {},
    );

    // Assess
    expect(problems).toEqual([]);
    expect(warnings).toEqual([
      'PAGERDUTY_ROUTES[1] ("never"): never matches: "all" before it has no matchers',
      'PAGERDUTY_ROUTES[1] ("never"): the routing key holds characters other than letters and digits; check it was copied whole',
    ]);
  });
});

describe('Function: selectRoute', () => {
  const { routes } = parseRoutes(RULES, ENV);

  it.each([
    { labels: { team: 'db', env: 'prod', severity: 'critical' }, name: 'db', key: ROUTING_KEY, keySource: 'route' },
    {
      labels: { team: 'db', env: 'staging', severity: 'critical' },
      name: 'quiet',
      key: FALLBACK.reveal(),
      keySource: 'fallback',
    },
    { labels: { team: 'db', severity: 'warning' }, name: 'default', key: FALLBACK.reveal(), keySource: 'fallback' },
    { labels: { team: 'web' }, name: 'web', key: OTHER_ROUTING_KEY, keySource: 'route' },
    { labels: {}, name: 'default', key: FALLBACK.reveal(), keySource: 'fallback' },
  ])('$labels → $name', ({ labels, name, key, keySource }) => {
    // Act
    const selected = selectRoute(routes, labels as Record<string, string>, FALLBACK);

    // Assess
    expect(selected.name).toBe(name);
    expect(selected.routingKey?.reveal()).toBe(key);
    expect(selected.keySource).toBe(keySource);
  });

  it('carries the route defaults and mode', () => {
    // Act
    const web = selectRoute(routes, { team: 'web' }, FALLBACK);
    const db = selectRoute(routes, { team: 'db', severity: 'error' }, FALLBACK);

    // Assess
    expect(web).toMatchObject({ defaultSeverity: 'warning' });
    expect(web.mode).toBeUndefined();
    expect(db).toMatchObject({ mode: 'per-group' });
  });

  it('returns the default route without a key when there is no fallback key', () => {
    // Act
    const selected = selectRoute([], { team: 'x' }, undefined);

    // Assess
    expect(selected).toEqual({ name: 'default', keySource: 'none' });
  });

  it('matches everything with a rule without matchers, first match winning', () => {
    // Prepare
    const { routes: catchAll } = parseRoutes([{ name: 'all', routingKey: ROUTING_KEY }, ...RULES], ENV);

    // Act / Assess
    expect(selectRoute(catchAll, { team: 'web' }, FALLBACK).name).toBe('all');
  });
});

describe('Function: findRouteByName', () => {
  const { routes } = parseRoutes(RULES, ENV);

  it.each([
    { name: 'web', expected: 'web', key: OTHER_ROUTING_KEY },
    { name: 'quiet', expected: 'quiet', key: FALLBACK.reveal() },
    { name: 'default', expected: 'default', key: FALLBACK.reveal() },
  ])('finds $name', ({ name, expected, key }) => {
    // Act
    const route = findRouteByName(routes, name, FALLBACK);

    // Assess
    expect(route?.name).toBe(expected);
    expect(route?.routingKey?.reveal()).toBe(key);
  });

  it('returns undefined for a route that no longer exists', () => {
    // Act / Assess
    expect(findRouteByName(routes, 'removed', FALLBACK)).toBeUndefined();
  });
});

describe('Function: routingKeyProblem', () => {
  it.each([
    { value: ROUTING_KEY, expected: undefined },
    { value: '', expected: 'is empty' },
    { value: `${ROUTING_KEY}\n`, expected: 'has leading or trailing whitespace' },
    { value: 'abc', expected: 'must be a 32-character PagerDuty integration key (has 3 characters)' },
  ])('$value → $expected', ({ value, expected }) => {
    // Act / Assess
    expect(routingKeyProblem(value)).toBe(expected);
  });
});
