/**
 * Every rule that checks settings against each other, in one home. Each is a pure function of the settings it
 * relates and returns its problem lines (empty when it holds), naming the variables and never quoting a value (it
 * may be a secret). Each setting alone is checked before any of these, by the schema (`schema.ts`).
 *
 * | Rule | Checked by | Error code when it fails |
 * |---|---|---|
 * | {@link oneRoutesSource} | `loadConfig`, before the rules are read | `config_invalid` |
 * | {@link ttlCoversDedupWindow}, {@link retryMaxCoversBase}, {@link tablestoreIsAddressed}, {@link deployedStoreIsShared} | `loadConfig` | `config_invalid` |
 * | {@link webhookIsAuthenticated} | `loadConfig` (the webhook only) | `config_no_webhook_tokens` |
 * | {@link healthKeyIsSeparate} | the composition root, once the route keys are known | `config_invalid` |
 * | {@link someRoutingKey} | `applyRoutingKeyRule`, once the route keys are known | `config_no_routing_key` |
 *
 * The routing rules' own checks (a `routingKeyEnv` that names an unset variable, …) live with the rules, in
 * `shared/pagerduty/routes.ts`.
 */
import { StoreKind } from '../constants';
import type { BridgeConfig } from './config';
import type { Secret } from './Secret';
import type { FunctionName, SettingValues } from './settings';

type Section = 'webhook' | 'pagerduty' | 'store' | 'retry' | 'health';
/** What a rule reads of one section: `Fields<'store', 'ttlSeconds'>` is `{ store: { ttlSeconds: number } }`. */
type Fields<S extends Section, K extends keyof BridgeConfig[S]> = { [P in S]: Pick<BridgeConfig[S], K> };
type Deployment = Pick<BridgeConfig, 'deployed'>;

/** The routing rules come inline or from a file: two sources would leave which one wins to chance. */
function oneRoutesSource(values: Partial<Pick<SettingValues, 'PAGERDUTY_ROUTES' | 'PAGERDUTY_ROUTES_FILE'>>): string[] {
  return values.PAGERDUTY_ROUTES !== undefined && values.PAGERDUTY_ROUTES_FILE !== undefined
    ? ['set at most one of PAGERDUTY_ROUTES and PAGERDUTY_ROUTES_FILE']
    : [];
}

/** A delivery record must outlive the window in which it suppresses repeats, or a repeat pages again. */
function ttlCoversDedupWindow({ store }: Fields<'store', 'ttlSeconds' | 'dedupWindowSeconds'>): string[] {
  return store.ttlSeconds < store.dedupWindowSeconds
    ? ['DELIVERY_TTL_SECONDS must be at least DEDUP_WINDOW_SECONDS (a record must outlive its window)']
    : [];
}

/** The probe interval doubles from the base up to the cap: a cap below the base has no meaning. */
function retryMaxCoversBase({ retry }: Fields<'retry', 'baseSeconds' | 'maxSeconds'>): string[] {
  return retry.maxSeconds < retry.baseSeconds ? ['RETRY_MAX_SECONDS must be at least RETRY_BASE_SECONDS'] : [];
}

/** The Tablestore store needs to know where it is: an endpoint and an instance (the table has a default). */
function tablestoreIsAddressed({
  store,
}: Fields<'store', 'kind' | 'tablestoreEndpoint' | 'tablestoreInstance'>): string[] {
  return store.kind === StoreKind.TABLESTORE && (!store.tablestoreEndpoint || !store.tablestoreInstance)
    ? ['STORE=tablestore needs TABLESTORE_ENDPOINT and TABLESTORE_INSTANCE']
    : [];
}

/** FC runs many short-lived instances: only Tablestore keeps the dedupe and the outbox across them. */
function deployedStoreIsShared({ deployed, store }: Deployment & Fields<'store', 'kind'>): string[] {
  return deployed && store.kind !== StoreKind.TABLESTORE
    ? [`STORE=${store.kind} keeps nothing across FC instances: deployed functions need STORE=tablestore`]
    : [];
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
    ? ['WEBHOOK_TOKENS is required when deployed (or set ALLOW_UNAUTHENTICATED=true)']
    : [];
}

/** A self-alert through the key that is failing reaches nobody: the health key must page another service. */
function healthKeyIsSeparate(
  { health, pagerduty }: Fields<'health', 'routingKey'> & Fields<'pagerduty', 'routingKey'>,
  routeKeys: readonly Secret[],
): string[] {
  const healthKey = health.routingKey?.reveal();
  const alertKeys = [pagerduty.routingKey, ...routeKeys].map((key) => key?.reveal());
  return healthKey !== undefined && alertKeys.includes(healthKey)
    ? ['HEALTH_ROUTING_KEY must differ from PAGERDUTY_ROUTING_KEY and from every route key']
    : [];
}

/**
 * A deployed bridge that pages nobody must not look healthy: it needs a routing key somewhere (the default or a
 * route's), unless `DRY_RUN=true` chose shadow mode. Locally the same case is dry-run (`applyRoutingKeyRule`).
 */
function someRoutingKey(
  { deployed, pagerduty }: Deployment & Fields<'pagerduty', 'dryRun' | 'routingKey'>,
  hasRouteKey: boolean,
): string[] {
  return deployed && !pagerduty.dryRun && pagerduty.routingKey === undefined && !hasRouteKey
    ? ['no PagerDuty routing key: set PAGERDUTY_ROUTING_KEY or give a route a key (or DRY_RUN=true)']
    : [];
}

export {
  deployedStoreIsShared,
  healthKeyIsSeparate,
  oneRoutesSource,
  retryMaxCoversBase,
  someRoutingKey,
  tablestoreIsAddressed,
  ttlCoversDedupWindow,
  webhookIsAuthenticated,
};
