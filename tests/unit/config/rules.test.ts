/**
 * Every cross-setting rule of `shared/config/rules.ts` in one table: the case where it holds (no line) and each way
 * it fails (its line, word for word: the README, `check-config` and the 503 log print these).
 */
import { describe, expect, it } from 'vitest';
import {
  degradedBeforeFailing,
  deployedStoreIsShared,
  healthKeyIsSeparate,
  oneRoutesSource,
  RULES,
  retryMaxCoversBase,
  someRoutingKey,
  tablestoreIsAddressed,
  ttlCoversDedupWindow,
  ttlCoversDeliveryAge,
  webhookIsAuthenticated,
} from '../../../shared/config/rules';
import { Secret } from '../../../shared/config/Secret';

const KEY = new Secret('R0UT1NGKEY0123456789abcdefabcdef');
const OTHER_KEY = new Secret('0THERKEY0123456789abcdefabcdef00');
/** The same key read a second time (another variable, or a route): equal by value, not by object. */
const KEY_AGAIN = new Secret(KEY.reveal());

const TWO_SOURCES = 'set at most one of PAGERDUTY_ROUTES and PAGERDUTY_ROUTES_FILE';
const TTL = 'DELIVERY_TTL_SECONDS must be at least DEDUP_WINDOW_SECONDS (a record must outlive its window)';
const RETRY = 'RETRY_MAX_SECONDS must be at least RETRY_BASE_SECONDS';
const AGE =
  'MAX_DELIVERY_AGE_SECONDS must be at most DELIVERY_TTL_SECONDS (an undelivered delivery must become DEAD before its record expires)';
const DEGRADED = 'HEALTH_DEGRADED_OUTBOX_AGE_SECONDS must be at most HEALTH_MAX_OUTBOX_AGE_SECONDS';
const TABLESTORE = 'STORE=tablestore needs TABLESTORE_ENDPOINT and TABLESTORE_INSTANCE';
const EPHEMERAL = (kind: string) =>
  `STORE=${kind} keeps nothing across FC instances: deployed functions need STORE=tablestore`;
const NO_TOKENS = 'WEBHOOK_TOKENS is required when deployed (or set ALLOW_UNAUTHENTICATED=true)';
const SHARED_HEALTH_KEY = 'HEALTH_ROUTING_KEY must differ from PAGERDUTY_ROUTING_KEY and from every route key';
const NO_KEY = 'no PagerDuty routing key: set PAGERDUTY_ROUTING_KEY or give a route a key (or DRY_RUN=true)';

const webhook = (tokens: readonly Secret[], allowUnauthenticated = false) => ({ tokens, allowUnauthenticated });
const pagerduty = (routingKey?: Secret, dryRun = false) => ({ routingKey, dryRun });

/** Whether a line is one `RULES` documents (`<…>` in a documented line stands for any word). */
function documented(line: string): boolean {
  return RULES.some((rule) => {
    const pattern = rule.line.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/<[^>]+>/g, '\\S+');
    return new RegExp(`^${pattern}$`).test(line);
  });
}

const CASES = [
  // oneRoutesSource
  ['routes inline only', () => oneRoutesSource({ PAGERDUTY_ROUTES: '[]' }), []],
  ['routes from a file only', () => oneRoutesSource({ PAGERDUTY_ROUTES_FILE: 'routes.json' }), []],
  [
    'routes inline and from a file',
    () => oneRoutesSource({ PAGERDUTY_ROUTES: '[]', PAGERDUTY_ROUTES_FILE: 'routes.json' }),
    [TWO_SOURCES],
  ],
  // ttlCoversDedupWindow
  [
    'TTL equal to the window',
    () => ttlCoversDedupWindow({ store: { ttlSeconds: 86_400, dedupWindowSeconds: 86_400 } }),
    [],
  ],
  [
    'TTL below the window',
    () => ttlCoversDedupWindow({ store: { ttlSeconds: 86_400, dedupWindowSeconds: 86_401 } }),
    [TTL],
  ],
  // retryMaxCoversBase
  ['retry cap equal to the base', () => retryMaxCoversBase({ retry: { baseSeconds: 5, maxSeconds: 5 } }), []],
  ['retry cap below the base', () => retryMaxCoversBase({ retry: { baseSeconds: 5, maxSeconds: 4 } }), [RETRY]],
  // ttlCoversDeliveryAge
  [
    'delivery age equal to the TTL',
    () => ttlCoversDeliveryAge({ store: { ttlSeconds: 86_400 }, retry: { maxAgeSeconds: 86_400 } }),
    [],
  ],
  [
    'delivery age beyond the TTL',
    () => ttlCoversDeliveryAge({ store: { ttlSeconds: 86_400 }, retry: { maxAgeSeconds: 86_401 } }),
    [AGE],
  ],
  // degradedBeforeFailing
  [
    'degraded at the failing age',
    () => degradedBeforeFailing({ health: { degradedOutboxAgeSeconds: 900, maxOutboxAgeSeconds: 900 } }),
    [],
  ],
  [
    'degraded above the failing age',
    () => degradedBeforeFailing({ health: { degradedOutboxAgeSeconds: 901, maxOutboxAgeSeconds: 900 } }),
    [DEGRADED],
  ],
  // tablestoreIsAddressed
  [
    'tablestore with endpoint and instance',
    () =>
      tablestoreIsAddressed({
        store: { kind: 'tablestore', tablestoreEndpoint: 'http://h', tablestoreInstance: 'i' },
      }),
    [],
  ],
  [
    'tablestore without an instance',
    () => tablestoreIsAddressed({ store: { kind: 'tablestore', tablestoreEndpoint: 'http://h' } }),
    [TABLESTORE],
  ],
  [
    'tablestore without an endpoint',
    () => tablestoreIsAddressed({ store: { kind: 'tablestore', tablestoreInstance: 'i' } }),
    [TABLESTORE],
  ],
  ['the file store needs no address', () => tablestoreIsAddressed({ store: { kind: 'file' } }), []],
  // deployedStoreIsShared
  ['deployed on tablestore', () => deployedStoreIsShared({ deployed: true, store: { kind: 'tablestore' } }), []],
  [
    'deployed on the file store',
    () => deployedStoreIsShared({ deployed: true, store: { kind: 'file' } }),
    [EPHEMERAL('file')],
  ],
  [
    'deployed on the memory store',
    () => deployedStoreIsShared({ deployed: true, store: { kind: 'memory' } }),
    [EPHEMERAL('memory')],
  ],
  ['local on the memory store', () => deployedStoreIsShared({ deployed: false, store: { kind: 'memory' } }), []],
  // webhookIsAuthenticated
  ['deployed webhook with a token', () => webhookIsAuthenticated({ deployed: true, webhook: webhook([KEY]) }), []],
  [
    'deployed webhook without tokens',
    () => webhookIsAuthenticated({ deployed: true, webhook: webhook([]) }),
    [NO_TOKENS],
  ],
  [
    'deployed webhook without tokens, named',
    () => webhookIsAuthenticated({ deployed: true, webhook: webhook([]) }, 'alert-webhook'),
    [NO_TOKENS],
  ],
  [
    'deployed webhook allowed to run unauthenticated',
    () => webhookIsAuthenticated({ deployed: true, webhook: webhook([], true) }),
    [],
  ],
  [
    'deployed delivery-health without tokens (it takes no callbacks)',
    () => webhookIsAuthenticated({ deployed: true, webhook: webhook([]) }, 'delivery-health'),
    [],
  ],
  ['local webhook without tokens', () => webhookIsAuthenticated({ deployed: false, webhook: webhook([]) }), []],
  // healthKeyIsSeparate
  ['no health key', () => healthKeyIsSeparate({ health: {}, pagerduty: pagerduty(KEY) }, [KEY]), []],
  [
    'a health key of its own',
    () => healthKeyIsSeparate({ health: { routingKey: OTHER_KEY }, pagerduty: pagerduty(KEY) }, [KEY]),
    [],
  ],
  [
    'the health key is the default key',
    () => healthKeyIsSeparate({ health: { routingKey: KEY }, pagerduty: pagerduty(KEY_AGAIN) }, []),
    [SHARED_HEALTH_KEY],
  ],
  [
    'the health key is a route key',
    () => healthKeyIsSeparate({ health: { routingKey: KEY }, pagerduty: pagerduty() }, [OTHER_KEY, KEY_AGAIN]),
    [SHARED_HEALTH_KEY],
  ],
  // someRoutingKey
  ['deployed with the default key', () => someRoutingKey({ deployed: true, pagerduty: pagerduty(KEY) }, false), []],
  ['deployed with a route key only', () => someRoutingKey({ deployed: true, pagerduty: pagerduty() }, true), []],
  ['deployed without any key', () => someRoutingKey({ deployed: true, pagerduty: pagerduty() }, false), [NO_KEY]],
  [
    'deployed without any key in shadow mode (DRY_RUN=true)',
    () => someRoutingKey({ deployed: true, pagerduty: pagerduty(undefined, true) }, false),
    [],
  ],
  [
    'local without any key (dry-run instead)',
    () => someRoutingKey({ deployed: false, pagerduty: pagerduty() }, false),
    [],
  ],
] as const;

describe('Module: config/rules', () => {
  it.each(CASES)('%s', (_case, check, expected) => {
    // Act
    const problems = check();

    // Assess
    expect(problems).toEqual(expected);
  });

  it('documents every line a rule returns (docs/configuration.md lists RULES)', () => {
    // Prepare
    const lines = CASES.flatMap(([, , expected]) => expected);

    // Assess
    expect(lines.filter((line) => !documented(line))).toEqual([]);
    expect(new Set(lines).size).toBe(RULES.length + 1); // the ephemeral-store line for both kinds
  });

  it('never quotes a key in its line', () => {
    // Act
    const problems = healthKeyIsSeparate({ health: { routingKey: KEY }, pagerduty: pagerduty(KEY_AGAIN) }, []);

    // Assess
    expect(problems.join('\n')).not.toContain(KEY.reveal());
  });
});
