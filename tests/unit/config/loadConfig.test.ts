import { describe, expect, expectTypeOf, it } from 'vitest';
import { applyRoutingKeyRule, type BridgeConfig, loadConfig } from '../../../shared/config/config';
import type { Secret } from '../../../shared/config/Secret';
import { SETTINGS, type SettingValues } from '../../../shared/config/settings';
import { ConfigError, ErrorCode } from '../../../shared/errors';

const KEY = 'R0UT1NGKEY0123456789abcdefabcdef';

function configError(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('Function: loadConfig', () => {
  it('applies every documented default when nothing is set', () => {
    // Act
    const config = loadConfig({});

    // Assess
    expect(config.deployed).toBe(false);
    expect(config.store.kind).toBe('file');
    expect(config.store.path.endsWith('.data')).toBe(true);
    expect(config.pagerduty.eventsUrl).toBe('https://events.pagerduty.com/v2/enqueue');
    expect(config.webhook).toMatchObject({
      maxBodyBytes: 8 * 1024 * 1024,
      maxAlerts: 5000,
      maxJsonDepth: 32,
      deadlineMs: 4000,
    });
    expect(config.store).toMatchObject({
      dedupWindowSeconds: 86_400,
      ttlSeconds: 604_800,
      leaseSeconds: 30,
      tablestoreTable: 'alert_delivery',
    });
    expect(config.retry).toEqual({ maxAttempts: 20, maxAgeSeconds: 86_400, baseSeconds: 1, maxSeconds: 5 });
    expect(config.pagerduty.ratePerMinute).toBe(120);
    expect(Object.isFrozen(config.webhook)).toBe(true);
  });

  it('treats an empty string as unset', () => {
    // Act
    const config = loadConfig({ MAX_ALERTS: '', PAGERDUTY_ROUTING_KEY: '  ', STORE: '' });

    // Assess
    expect(config.webhook.maxAlerts).toBe(5000);
    expect(config.pagerduty.routingKey).toBeUndefined();
    expect(config.store.kind).toBe('file');
  });

  it('defaults to tablestore when deployed', () => {
    // Act
    const config = loadConfig({
      FC_FUNCTION_NAME: 'alert-webhook',
      WEBHOOK_TOKENS: 'tok-aaaaaaaa',
      TABLESTORE_ENDPOINT: 'https://i.cn-hangzhou.ots.aliyuncs.com',
      TABLESTORE_INSTANCE: 'i',
    });

    // Assess
    expect(config.deployed).toBe(true);
    expect(config.store.kind).toBe('tablestore');
  });

  it.each([
    [{ MAX_ALERTS: 'many' }, 'MAX_ALERTS must be an integer'],
    [{ MAX_ALERTS: '0' }, 'MAX_ALERTS must be >= 1'],
    [{ ALLOW_UNAUTHENTICATED: 'maybe' }, 'ALLOW_UNAUTHENTICATED must be true or false'],
    [{ STORE: 'redis' }, 'STORE must be one of tablestore, file, memory'],
    [{ PAGERDUTY_EVENTS_URL: 'events.pagerduty.com' }, 'PAGERDUTY_EVENTS_URL must be an http(s) URL'],
    [{ DELIVERY_TTL_SECONDS: '3600' }, 'DELIVERY_TTL_SECONDS must be >= 86400'],
    [{ DEDUP_WINDOW_SECONDS: '700000' }, 'DELIVERY_TTL_SECONDS must be at least DEDUP_WINDOW_SECONDS'],
    [{ STORE: 'tablestore' }, 'STORE=tablestore needs TABLESTORE_ENDPOINT and TABLESTORE_INSTANCE'],
    [
      { PAGERDUTY_ROUTES: '[]', PAGERDUTY_ROUTES_FILE: 'routes.json' },
      'set at most one of PAGERDUTY_ROUTES and PAGERDUTY_ROUTES_FILE',
    ],
    [
      { PAGERDUTY_ROUTES_FILE: 'does-not-exist.json' },
      'PAGERDUTY_ROUTES_FILE (does-not-exist.json) cannot be read: ENOENT',
    ],
  ])('names the variable when %o is invalid', (env, problem) => {
    // Act
    const error = configError(() => loadConfig(env));

    // Assess
    expect(error.statusCode).toBe(503);
    expect(error.code).toBe(ErrorCode.CONFIG_INVALID);
    expect(error.problems.some((line) => line.startsWith(problem))).toBe(true);
  });

  it('reports every problem at once', () => {
    // Act
    const error = configError(() => loadConfig({ MAX_ALERTS: 'x', MAX_JSON_DEPTH: 'y' }));

    // Assess
    expect(error.problems).toEqual(['MAX_ALERTS must be an integer', 'MAX_JSON_DEPTH must be an integer']);
  });

  it('refuses a deployed webhook without tokens with its own code, unless explicitly allowed', () => {
    // Prepare
    const deployed = {
      FC_FUNCTION_NAME: 'alert-webhook',
      TABLESTORE_ENDPOINT: 'https://i.cn-hangzhou.ots.aliyuncs.com',
      TABLESTORE_INSTANCE: 'i',
      PAGERDUTY_ROUTING_KEY: KEY,
    };

    // Act
    const error = configError(() => loadConfig(deployed));
    const allowed = loadConfig({ ...deployed, ALLOW_UNAUTHENTICATED: 'true' });

    // Assess
    expect(error.code).toBe(ErrorCode.CONFIG_NO_TOKENS);
    expect(allowed.webhook.tokens).toEqual([]);
  });

  it('does not ask the deployed delivery-health function for webhook tokens (it takes no callbacks)', () => {
    // Act
    const config = loadConfig(
      {
        FC_FUNCTION_NAME: 'delivery-health',
        TABLESTORE_ENDPOINT: 'https://i.cn-hangzhou.ots.aliyuncs.com',
        TABLESTORE_INSTANCE: 'i',
      },
      { service: 'delivery-health' },
    );

    // Assess
    expect(config.deployed).toBe(true);
    expect(config.webhook.tokens).toEqual([]);
  });

  it('refuses an ephemeral store when deployed', () => {
    // Act
    const error = configError(() => loadConfig({ FC_FUNCTION_NAME: 'x', STORE: 'file', WEBHOOK_TOKENS: 'abcdefgh' }));

    // Assess
    expect(error.problems[0]).toContain('deployed functions need STORE=tablestore');
  });

  it('never echoes a secret value in a problem', () => {
    // Act
    const error = configError(() =>
      loadConfig({ HEARTBEAT_URL: 'not-a-url-SECRETSECRET', WEBHOOK_TOKENS: `${'x'.repeat(201)}` }),
    );

    // Assess
    expect(error.message).not.toContain('SECRETSECRET');
    expect(error.message).not.toContain('x'.repeat(201));
    expect(error.problems).toContain('HEARTBEAT_URL must be an http(s) URL');
  });

  it('wraps secrets so they never print', () => {
    // Act
    const config = loadConfig({ PAGERDUTY_ROUTING_KEY: KEY, WEBHOOK_TOKENS: 'tok-one-1234, tok-two-5678' });

    // Assess
    expect(JSON.stringify(config)).not.toContain(KEY);
    expect(JSON.stringify(config)).not.toContain('tok-one-1234');
    expect(String(config.pagerduty.routingKey)).toBe('<secret>');
    expect(config.webhook.tokens.map((token) => token.reveal())).toEqual(['tok-one-1234', 'tok-two-5678']);
    expect(config.secrets).toHaveLength(3);
  });
});

describe('Function: applyRoutingKeyRule', () => {
  it('turns a local bridge without any key into dry-run', () => {
    // Act
    const config = applyRoutingKeyRule(loadConfig({}), false);

    // Assess
    expect(config.pagerduty.dryRun).toBe(true);
    expect(config.pagerduty.dryRunReason).toBe('no routing key configured');
  });

  it('keeps a local bridge with a route key live', () => {
    expect(applyRoutingKeyRule(loadConfig({}), true).pagerduty.dryRun).toBe(false);
  });

  it('refuses a deployed bridge without any key with config_no_routing_key', () => {
    // Prepare
    const config = loadConfig({
      FC_FUNCTION_NAME: 'f',
      ALLOW_UNAUTHENTICATED: 'true',
      STORE: 'tablestore',
      TABLESTORE_ENDPOINT: 'http://127.0.0.1:1',
      TABLESTORE_INSTANCE: 'i',
    });

    // Act
    const error = configError(() => applyRoutingKeyRule(config, false));

    // Assess
    expect(error.code).toBe(ErrorCode.CONFIG_NO_ROUTING_KEY);
  });

  it('lets DRY_RUN=true run deployed without a key (shadow mode)', () => {
    // Prepare
    const config = loadConfig({
      FC_FUNCTION_NAME: 'f',
      DRY_RUN: 'true',
      WEBHOOK_TOKENS: 'abcdefgh',
      STORE: 'tablestore',
      TABLESTORE_ENDPOINT: 'http://127.0.0.1:1',
      TABLESTORE_INSTANCE: 'i',
    });

    // Act / Assess
    expect(applyRoutingKeyRule(config, false).pagerduty).toMatchObject({ dryRun: true, dryRunReason: 'DRY_RUN=true' });
  });
});

describe('Table: SETTINGS', () => {
  it.each(
    SETTINGS.filter((setting) => setting.at !== undefined && setting.default !== undefined).map((s) => [s.env, s]),
  )('places %s where its `at` says, with its default', (_name, setting) => {
    // Prepare: STORE_PATH is made absolute, the one defaulted value the loader changes.
    const [section, field] = (setting.at as string).split('.') as [string, string | undefined];
    const expected = setting.env === 'STORE_PATH' ? expect.stringMatching(/[/\\]\.data$/) : setting.default;

    // Act
    const config = loadConfig({}) as unknown as Record<string, Record<string, unknown>>;

    // Assess
    expect(field === undefined ? config[section] : config[section]?.[field]).toEqual(expected);
  });

  it('places a set value of every type where its type says (lists split, secrets wrapped)', () => {
    // Act
    const config = loadConfig({
      IDENTITY_EXCLUDED_LABELS: ' pod, ,instance ',
      HEARTBEAT_URL: 'https://hc.example/ping/abc',
      TABLESTORE_ENDPOINT: 'http://127.0.0.1:1',
      HEALTH_MAX_FAILURE_RATIO: '0.25',
    });

    // Assess
    expect(config.webhook.identityExcludedLabels).toEqual(['pod', 'instance']);
    expect(config.health.heartbeatUrl?.reveal()).toBe('https://hc.example/ping/abc');
    expect(config.store.tablestoreEndpoint).toBe('http://127.0.0.1:1');
    expect(config.health.maxFailureRatio).toBe(0.25);
    expect(config.webhook.functionComputeEndpoint).toBeUndefined();
  });

  it('derives each value type from its declaration (checked by tsc: a misspelt name does not compile)', () => {
    expectTypeOf<SettingValues['MAX_ALERTS']>().toEqualTypeOf<number>();
    expectTypeOf<SettingValues['PAGERDUTY_ROUTING_KEY']>().toEqualTypeOf<Secret | undefined>();
    expectTypeOf<BridgeConfig['webhook']['tokens']>().toEqualTypeOf<readonly Secret[]>();
    expectTypeOf<BridgeConfig['pagerduty']['mode']>().toEqualTypeOf<'per-alert' | 'per-group'>();
    expectTypeOf<BridgeConfig['logLevel']>().toEqualTypeOf<'DEBUG' | 'INFO' | 'WARN' | 'ERROR'>();
    // @ts-expect-error MAX_ALERT is not a declared setting
    expectTypeOf<SettingValues['MAX_ALERT']>().toBeNever();
  });

  it('names each variable once, in the FC-allowed form, never FC_*', () => {
    const names = SETTINGS.map((setting) => setting.env);
    expect(new Set(names).size).toBe(names.length);
    for (const name of names) {
      expect(name).toMatch(/^[A-Za-z][A-Za-z0-9_]*$/);
      expect(name.startsWith('FC_')).toBe(false);
    }
  });
});
