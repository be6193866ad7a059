/**
 * FC entry of delivery-health (timer trigger, every minute). Built once per instance at cold start; each run:
 *
 *   invocationLog    per-invocation log keys (request id)
 *   contextCredentials  the FC context's rotating STS credentials → the store (and the logger's scrub list)
 *   fcTimerEvent     Buffer → {triggerTime, triggerName, payload}; any other payload means "run now"
 *   healthRun        relay due deliveries, report, self-alert, heartbeat (shared/health/healthRun.ts)
 *
 * With a configuration that does not load, the instance serves `configFailureHandler` instead: every run answers
 * `{ ok: false, error: { code, problems } }`, so the FC console shows what the log said once at cold start.
 */
import middy from '@middy/core';
import { type Bridge, type BridgeFailure, type BuiltBridge, createBridge } from '../../shared/app';
import { invocationLog } from '../../shared/fc/invocationLog';
import { fcTimerEvent } from '../../shared/fc/timerEvent';
import type { FcTimerEvent, MiddyFcContext } from '../../shared/fc/types';
import { createHealthRun } from '../../shared/health/healthRun';
import { createKicker } from '../../shared/kick/createKicker';
import { contextCredentials } from '../../shared/middleware/contextCredentials';
import { settleStore } from '../../shared/middleware/settleStore';
import { warmUp } from '../../shared/warmUp';

function buildHandler(bridge: Bridge) {
  const { config, logger, store } = bridge;
  // A relay run that ends with due work left starts the next one at once (continuous drain); the timer is the backstop.
  const chain = createKicker({
    functionName: config.functionName ?? config.webhook.healthFunctionName,
    endpoint: config.webhook.functionComputeEndpoint,
    credentials: config.credentials,
    logger,
    minIntervalMs: 0,
  });
  return middy<FcTimerEvent, unknown, Error, MiddyFcContext>(createHealthRun({ ...bridge, chain }))
    .use(settleStore({ settle: () => store.settle() }))
    .use(invocationLog(logger))
    .use(
      contextCredentials({
        addSecrets: (secrets) => logger.useRotatingSecrets(secrets),
        useCredentials: (credentials) => store.useCredentials(credentials),
      }),
    )
    .use(fcTimerEvent());
}

/** The result every run of an instance whose configuration does not load returns. */
interface ConfigFailureResult {
  ok: false;
  error: { code: string; problems: readonly string[] };
}

function configFailureHandler(failure: BridgeFailure) {
  const { code, problems } = failure.error;
  const refuse = async function configFailure(): Promise<ConfigFailureResult> {
    return { ok: false, error: { code, problems } };
  };
  return middy<FcTimerEvent, unknown, Error, MiddyFcContext>(refuse)
    .use(invocationLog(failure.logger))
    .use(fcTimerEvent());
}

/** The handler an instance serves for what `createBridge` built. */
function handlerFor(built: BuiltBridge) {
  return built.ok ? buildHandler(built.bridge) : configFailureHandler(built);
}

const built = createBridge('delivery-health', process.env, { codeDir: __dirname });

const handler = handlerFor(built);

// The first invocation's connections and the store's SDK, started during init (FC bills init too).
if (built.ok) warmUp(built.bridge.config);

export { handler, handlerFor };
