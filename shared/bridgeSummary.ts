/**
 * The configuration a bridge runs with, as plain data with every secret masked: the local runtime prints it at
 * start (the banner) and `npm run check-config` prints the same values, so an operator sees what the bridge believes
 * without reading env vars. Secret settings show as their masked id (`****ab12`); every other value, the routing
 * rules' JSON included, has each configured secret scrubbed out (`scrubSecrets`), valid configuration or not.
 */

import type { Bridge, BuiltBridge } from './app';
import type { Env } from './config/config';
import { Secret } from './config/Secret';
import { scrubSecrets } from './config/scrubSecrets';
import { SETTINGS } from './config/settings';
import type { DeliveryMode, Severity } from './constants';
import { createRouter } from './delivery/createRouter';
import { FALLBACK_ROUTE_NAME } from './pagerduty/routes';

/** One routing rule as the banner shows it: never its key, only the key's masked id and where it comes from. */
interface RouteSummary {
  name: string;
  /** The matchers as written; empty: matches every alert. */
  matchers: string[];
  /** The masked id of the key the route sends with (`****ab12`), or null when it has none. */
  key: string | null;
  /** `route` (its own: inline or `routingKeyEnv`), `fallback` (PAGERDUTY_ROUTING_KEY) or `none`. */
  keySource: 'route' | 'fallback' | 'none';
  /** The variable holding its own key, when it names one. */
  keyEnv?: string;
  mode: DeliveryMode;
  defaultSeverity?: Severity;
}

interface BridgeSummary {
  ok: boolean;
  problems: string[];
  /** Each setting's effective value (secrets masked; unset without default: null). */
  settings: Record<string, string | number | boolean | null>;
  /** The variables set in the environment (non-empty), in settings order. */
  configured: string[];
  /** The rules in order, then the fallback route `default` (empty when the configuration is invalid). */
  routes: RouteSummary[];
  dryRun: boolean;
  dryRunReason?: string;
  unauthenticated: boolean;
}

function maskedId(key: Secret | undefined): string | null {
  return key === undefined ? null : key.masked();
}

function routesOf(bridge: Bridge, env: Env): RouteSummary[] {
  const { config } = bridge;
  const fallback = config.pagerduty.routingKey;
  const summaries: RouteSummary[] = createRouter(config, env).routes.map((route) => {
    const key = route.routingKey ?? fallback;
    const summary: RouteSummary = {
      name: route.name,
      matchers: route.matchers.map((matcher) => matcher.text),
      key: maskedId(key),
      keySource: route.routingKey !== undefined ? 'route' : key !== undefined ? 'fallback' : 'none',
      mode: route.mode ?? config.pagerduty.mode,
    };
    if (route.routingKeyEnv !== undefined) summary.keyEnv = route.routingKeyEnv;
    if (route.defaultSeverity !== undefined) summary.defaultSeverity = route.defaultSeverity;
    return summary;
  });
  summaries.push({
    name: FALLBACK_ROUTE_NAME,
    matchers: [],
    key: maskedId(fallback),
    keySource: fallback === undefined ? 'none' : 'fallback',
    mode: config.pagerduty.mode,
  });
  return summaries;
}

/**
 * @example
 * const summary = describeBridge(createBridge('alert-webhook', process.env), process.env);
 * summary.settings.PAGERDUTY_ROUTING_KEY; // '****ab12'
 */
function describeBridge(built: BuiltBridge, env: Env = process.env): BridgeSummary {
  const secrets = built.ok ? built.bridge.secrets : built.secrets;
  const scrub = (text: string) => scrubSecrets(text, secrets);
  const settings: BridgeSummary['settings'] = {};
  const configured: string[] = [];
  for (const setting of SETTINGS) {
    const raw = env[setting.env]?.trim();
    const value = raw === undefined || raw === '' ? undefined : raw;
    if (value !== undefined) configured.push(setting.env);
    if (setting.type === 'secret' || setting.type === 'secret-url') {
      settings[setting.env] = value === undefined ? null : new Secret(value).masked();
    } else if (setting.type === 'secret-list') {
      const count = value?.split(',').filter((token) => token.trim() !== '').length ?? 0;
      settings[setting.env] = count === 0 ? null : `<${count} token${count === 1 ? '' : 's'}>`;
    } else {
      settings[setting.env] = value === undefined ? (setting.default ?? null) : scrub(value);
    }
  }
  if (!built.ok) {
    return {
      ok: false,
      problems: built.error.problems.map(scrub),
      settings,
      configured,
      routes: [],
      dryRun: false,
      unauthenticated: false,
    };
  }
  const { config } = built.bridge;
  settings.STORE = config.store.kind;
  settings.STORE_PATH = config.store.path;
  const summary: BridgeSummary = {
    ok: true,
    problems: [],
    settings,
    configured,
    routes: routesOf(built.bridge, env),
    dryRun: config.pagerduty.dryRun,
    unauthenticated: config.webhook.tokens.length === 0,
  };
  if (config.pagerduty.dryRunReason !== undefined) summary.dryRunReason = config.pagerduty.dryRunReason;
  return summary;
}

export type { BridgeSummary, RouteSummary };
export { describeBridge };
