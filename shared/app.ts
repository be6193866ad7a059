/**
 * The composition root: what one FC instance builds once, at cold start, and reuses for every invocation (the
 * configuration, the logger, the router, the store and the routing keys' gate). A configuration problem never throws
 * here (FC may answer an init failure with HTTP 200, and the alert would be lost): it is logged once and returned, and
 * each function then serves its configuration-failure handler (the webhook answers every request 503) instead of its
 * chain. So every middleware and run receives a bridge known to be valid.
 */
import { applyRoutingKeyRule, type BridgeConfig, type Env, loadConfig } from './config/config';
import { configuredSecrets } from './config/configuredSecrets';
import { healthKeyIsSeparate } from './config/rules';
import type { Secret } from './config/Secret';
import { scrubSecrets } from './config/scrubSecrets';
import type { FunctionName } from './config/settings';
import { StoreKind } from './constants';
import { createRouter } from './delivery/createRouter';
import { KeyGate } from './delivery/KeyGate';
import type { Router } from './delivery/Router';
import { ConfigError } from './errors';
import { Logger, type LogSink } from './logger';
import type { DeliveryStore } from './store/DeliveryStore';
import { FileStore } from './store/FileStore';
import { MemoryStore } from './store/MemoryStore';
import { TablestoreStore } from './store/TablestoreStore';

/** A routing key's state outlives its last write by a day (then a quiet key starts afresh). */
const KEY_STATE_TTL_MS = 86_400_000;

/** A bridge built from a valid configuration: what the functions' middlewares and runs work with. */
interface Bridge {
  logger: Logger;
  config: BridgeConfig;
  router: Router;
  store: DeliveryStore;
  /** The routing keys' shared pacing budget, circuits and drain leases (in the store). */
  gate: KeyGate;
  now: () => number;
  /** Every secret the environment configures (`configuredSecrets`), for outputs beyond the logger. */
  secrets: readonly Secret[];
}

/** What a configuration that does not load leaves: its error (problems scrubbed), and what still prints safely. */
interface BridgeFailure {
  logger: Logger;
  error: ConfigError;
  /** Every secret the environment configures, so no output quotes one. */
  secrets: readonly Secret[];
}

type BuiltBridge = { ok: true; bridge: Bridge } | ({ ok: false } & BridgeFailure);

interface BridgeOptions {
  /** Where relative file settings resolve. @default the bundle's directory, else the working directory */
  codeDir?: string;
  /** Log destination (tests capture lines). @default process.stdout */
  logSink?: LogSink;
  /** A store to use instead of the configured one (tests, benchmarks). */
  store?: DeliveryStore;
  /** The clock the functions read (tests move it; the store's own clock is set where the store is made). */
  now?: () => number;
}

function createStore(config: BridgeConfig): DeliveryStore {
  switch (config.store.kind) {
    case StoreKind.MEMORY:
      return new MemoryStore();
    case StoreKind.FILE:
      return new FileStore({ path: config.store.path });
    case StoreKind.TABLESTORE:
      // Credentials: the ALIBABA_CLOUD_* variables (FC sets them for the function's role).
      return TablestoreStore.fromConfig(config);
  }
}

/**
 * @example
 * const built = createBridge('alert-webhook', process.env, { codeDir: __dirname });
 * const handler = built.ok ? buildHandler(built.bridge) : configFailureHandler(built);
 */
function createBridge(service: FunctionName, env: Env = process.env, options: BridgeOptions = {}): BuiltBridge {
  const logger = new Logger({ service, sink: options.logSink });
  // Read from the raw environment first, so even the lines about a configuration that does not load hide its keys.
  const secrets = configuredSecrets(env, { codeDir: options.codeDir });
  logger.addSecrets(secrets);
  try {
    let config = loadConfig(env, { codeDir: options.codeDir, service });
    logger.setLevel(config.logLevel);
    logger.addSecrets(config.secrets);
    const { router, routeKeys, problems, warnings } = createRouter(config, env);
    logger.addSecrets(routeKeys);
    if (problems.length > 0) throw new ConfigError(problems);
    for (const warning of warnings) logger.warn(`routing: ${warning}`);
    const sharedHealthKey = healthKeyIsSeparate(config, routeKeys);
    if (sharedHealthKey.length > 0) throw new ConfigError(sharedHealthKey);
    config = applyRoutingKeyRule(config, routeKeys.length > 0);
    // Every configured secret, route keys included: what is stored (a delivery's `lastError`) is scrubbed of them all.
    config = { ...config, secrets: [...config.secrets, ...secrets] };
    const store = options.store ?? createStore(config);
    if (config.pagerduty.dryRun) {
      logger.warn(`DRY-RUN: nothing will be sent to PagerDuty (${config.pagerduty.dryRunReason})`);
    }
    // The gate's state is in the store, shared by every instance; the gate object only caches what it last saw.
    const gate = new KeyGate({
      store,
      ratePerMinute: config.pagerduty.ratePerMinute,
      probe: { baseMs: config.retry.baseSeconds * 1000, maxMs: config.retry.maxSeconds * 1000 },
      ttlMs: KEY_STATE_TTL_MS,
      now: options.now,
      onStoreError: (error, operation) =>
        logger.warn(`routing key state unavailable (${operation}): sending without the shared budget`, { error }),
    });
    return { ok: true, bridge: { logger, config, router, store, gate, now: options.now ?? Date.now, secrets } };
  } catch (error) {
    // The problems reach the 503 answer's log, the health report and the banner: none may quote a key.
    const problems =
      error instanceof ConfigError ? error.problems : [`configuration cannot be loaded: ${(error as Error).message}`];
    const configError = new ConfigError(
      problems.map((problem) => scrubSecrets(problem, secrets)),
      error instanceof ConfigError ? error.code : undefined,
    );
    // Once per instance: every request will answer 503 with this code.
    logger.error('configuration invalid: every request will be answered 503 until it is fixed', {
      code: configError.code,
      problems: configError.problems,
    });
    return { ok: false, logger, error: configError, secrets };
  }
}

export type { Bridge, BridgeFailure, BuiltBridge };
export { createBridge };
