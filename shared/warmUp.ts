/**
 * What a function's first invocation needs and init can start: the keep-alive connections to PagerDuty and to
 * Tablestore (`preconnect`), then the Tablestore SDK, loaded while those handshakes run. Called once at module scope,
 * after the bridge is built; an invalid configuration warms nothing (every request answers 503).
 */
import type { BridgeConfig } from './config/config';
import { StoreKind } from './constants';
import { preconnect } from './preconnect';
import { loadTablestoreSdk } from './store/tablestore/sdk';

/** What init starts for `config` (a dry run sends nothing; a file or memory store has no connection). */
function warmUpPlan(config: Pick<BridgeConfig, 'pagerduty' | 'store'>): { connect: string[]; loadSdk: boolean } {
  const connect: string[] = [];
  if (!config.pagerduty.dryRun) connect.push(config.pagerduty.eventsUrl);
  const tablestore = config.store.kind === StoreKind.TABLESTORE && config.store.tablestoreEndpoint !== undefined;
  if (tablestore) connect.push(config.store.tablestoreEndpoint as string);
  return { connect, loadSdk: tablestore };
}

/**
 * @example
 * const built = createBridge('alert-webhook');
 * if (built.ok) warmUp(built.bridge.config);
 */
function warmUp(config: Pick<BridgeConfig, 'pagerduty' | 'store'>): void {
  const plan = warmUpPlan(config);
  // Sockets first: their handshakes run while the SDK is evaluated.
  for (const url of plan.connect) preconnect(url);
  if (plan.loadSdk) loadTablestoreSdk();
}

export { warmUp, warmUpPlan };
