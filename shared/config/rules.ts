/**
 * Every rule that checks settings against each other, in one home. Each is a pure function of the settings it
 * relates and returns its problem lines (empty when it holds), naming the variables and never quoting a value (it
 * may be a secret). Each setting alone is checked before any of these, by the schema (`schema.ts`).
 *
 * {@link RULES} lists each rule's line, when it applies and its error code: docs/configuration.md renders it, so
 * the reference names every rule an operator can break.
 *
 * The routing rules' own checks (a `routingKeyEnv` that names an unset variable, …) live with the rules, in
 * `shared/pagerduty/routes.ts`.
 */
import { StoreKind } from '../constants';
import { ErrorCode } from '../errors';
import type { BridgeConfig } from './BridgeConfig';
import type { Secret } from './Secret';
import type { FunctionName, SettingValues } from './settings';

type Section = 'webhook' | 'pagerduty' | 'store' | 'retry' | 'health';
/** What a rule reads of one section: `Fields<'store', 'ttlSeconds'>` is `{ store: { ttlSeconds: number } }`. */
type Fields<S extends Section, K extends keyof BridgeConfig[S]> = { [P in S]: Pick<BridgeConfig[S], K> };
type Deployment = Pick<BridgeConfig, 'deployed'>;

/** Each rule's problem line, declared once (the functions below return them; {@link RULES} documents them). */
const LINE = {
  twoRoutesSources: 'set at most one of PAGERDUTY_ROUTES and PAGERDUTY_ROUTES_FILE',
  ttlBelowDedupWindow: 'DELIVERY_TTL_SECONDS must be at least DEDUP_WINDOW_SECONDS (a record must outlive its window)',
  retryMaxBelowBase: 'RETRY_MAX_SECONDS must be at least RETRY_BASE_SECONDS',
  ageBeyondTtl:
    'MAX_DELIVERY_AGE_SECONDS must be at most DELIVERY_TTL_SECONDS (an undelivered delivery must become DEAD before its record expires)',
  degradedBeyondFailing: 'HEALTH_DEGRADED_OUTBOX_AGE_SECONDS must be at most HEALTH_MAX_OUTBOX_AGE_SECONDS',
  tablestoreUnaddressed: 'STORE=tablestore needs TABLESTORE_ENDPOINT and TABLESTORE_INSTANCE',
  ephemeralStore: (kind: string) =>
    `STORE=${kind} keeps nothing across FC instances: deployed functions need STORE=tablestore`,
  noTokens: 'WEBHOOK_TOKENS is required when deployed (or set ALLOW_UNAUTHENTICATED=true)',
  sharedHealthKey: 'HEALTH_ROUTING_KEY must differ from PAGERDUTY_ROUTING_KEY and from every route key',
  noRoutingKey: 'no PagerDuty routing key: set PAGERDUTY_ROUTING_KEY or give a route a key (or DRY_RUN=true)',
} as const;

/** The routing rules come inline or from a file: two sources would leave which one wins to chance. */
function oneRoutesSource(values: Partial<Pick<SettingValues, 'PAGERDUTY_ROUTES' | 'PAGERDUTY_ROUTES_FILE'>>): string[] {
  return values.PAGERDUTY_ROUTES !== undefined && values.PAGERDUTY_ROUTES_FILE !== undefined
    ? [LINE.twoRoutesSources]
    : [];
}

/** A delivery record must outlive the window in which it suppresses repeats, or a repeat pages again. */
function ttlCoversDedupWindow({ store }: Fields<'store', 'ttlSeconds' | 'dedupWindowSeconds'>): string[] {
  return store.ttlSeconds < store.dedupWindowSeconds ? [LINE.ttlBelowDedupWindow] : [];
}

/** The probe interval doubles from the base up to the cap: a cap below the base has no meaning. */
function retryMaxCoversBase({ retry }: Fields<'retry', 'baseSeconds' | 'maxSeconds'>): string[] {
  return retry.maxSeconds < retry.baseSeconds ? [LINE.retryMaxBelowBase] : [];
}

/**
 * An undelivered delivery becomes DEAD at `MAX_DELIVERY_AGE_SECONDS` and stays visible (health report, `ops`) until its
 * record expires: a record that expires first vanishes from the outbox undelivered and unreported.
 */
function ttlCoversDeliveryAge({ store, retry }: Fields<'store', 'ttlSeconds'> & Fields<'retry', 'maxAgeSeconds'>) {
  return retry.maxAgeSeconds > store.ttlSeconds ? [LINE.ageBeyondTtl] : [];
}

/** Degraded comes before failing: a degraded threshold above the failing one could never be reported. */
function degradedBeforeFailing({
  health,
}: Fields<'health', 'degradedOutboxAgeSeconds' | 'maxOutboxAgeSeconds'>): string[] {
  return health.degradedOutboxAgeSeconds > health.maxOutboxAgeSeconds ? [LINE.degradedBeyondFailing] : [];
}

/** The Tablestore store needs to know where it is: an endpoint and an instance (the table has a default). */
function tablestoreIsAddressed({
  store,
}: Fields<'store', 'kind' | 'tablestoreEndpoint' | 'tablestoreInstance'>): string[] {
  return store.kind === StoreKind.TABLESTORE && (!store.tablestoreEndpoint || !store.tablestoreInstance)
    ? [LINE.tablestoreUnaddressed]
    : [];
}

/** FC runs many short-lived instances: only Tablestore keeps the dedupe and the outbox across them. */
function deployedStoreIsShared({ deployed, store }: Deployment & Fields<'store', 'kind'>): string[] {
  return deployed && store.kind !== StoreKind.TABLESTORE ? [LINE.ephemeralStore(store.kind)] : [];
}

/**
 * A deployed webhook's URL is public: it needs tokens unless `ALLOW_UNAUTHENTICATED=true` says otherwise. Only the
 * webhook takes callbacks, so delivery-health (timer) runs without tokens.
 */
function webhookIsAuthenticated(
  { deployed, webhook }: Deployment & Fields<'webhook', 'tokens' | 'allowUnauthenticated'>,
  service?: FunctionName,
): string[] {
  return service !== 'delivery-health' && deployed && webhook.tokens.length === 0 && !webhook.allowUnauthenticated
    ? [LINE.noTokens]
    : [];
}

/** A self-alert through the key that is failing reaches nobody: the health key must page another service. */
function healthKeyIsSeparate(
  { health, pagerduty }: Fields<'health', 'routingKey'> & Fields<'pagerduty', 'routingKey'>,
  routeKeys: readonly Secret[],
): string[] {
  const healthKey = health.routingKey?.reveal();
  const alertKeys = [pagerduty.routingKey, ...routeKeys].map((key) => key?.reveal());
  return healthKey !== undefined && alertKeys.includes(healthKey) ? [LINE.sharedHealthKey] : [];
}

/**
 * A deployed bridge that pages nobody must not look healthy: it needs a routing key somewhere (the default or a
 * route's), unless `DRY_RUN=true` chose shadow mode. Locally the same case is dry-run (`applyRoutingKeyRule`).
 */
function someRoutingKey(
  { deployed, pagerduty }: Deployment & Fields<'pagerduty', 'dryRun' | 'routingKey'>,
  hasRouteKey: boolean,
): string[] {
  return deployed && !pagerduty.dryRun && pagerduty.routingKey === undefined && !hasRouteKey ? [LINE.noRoutingKey] : [];
}

/**
 * Every rule, in the order a function checks them at cold start: its line (`<…>` stands for the part that varies),
 * when it applies, and the code a function answers 503 with while it is broken.
 */
const RULES: readonly { line: string; when: string; code: ErrorCode }[] = [
  { line: LINE.twoRoutesSources, when: 'always', code: ErrorCode.CONFIG_INVALID },
  { line: LINE.ttlBelowDedupWindow, when: 'always', code: ErrorCode.CONFIG_INVALID },
  { line: LINE.retryMaxBelowBase, when: 'always', code: ErrorCode.CONFIG_INVALID },
  { line: LINE.ageBeyondTtl, when: 'always', code: ErrorCode.CONFIG_INVALID },
  { line: LINE.degradedBeyondFailing, when: 'always', code: ErrorCode.CONFIG_INVALID },
  { line: LINE.tablestoreUnaddressed, when: 'always', code: ErrorCode.CONFIG_INVALID },
  { line: LINE.ephemeralStore('<kind>'), when: 'deployed', code: ErrorCode.CONFIG_INVALID },
  { line: LINE.noTokens, when: 'deployed alert-webhook', code: ErrorCode.CONFIG_NO_TOKENS },
  { line: LINE.sharedHealthKey, when: 'always', code: ErrorCode.CONFIG_INVALID },
  { line: LINE.noRoutingKey, when: 'deployed (locally: dry-run instead)', code: ErrorCode.CONFIG_NO_ROUTING_KEY },
];

export {
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
};
