/**
 * FC entry of the webhook (HTTP trigger). Built once per instance at cold start; then each invocation runs:
 *
 *   errorEdge       first, so its onError runs last and renders every error as {"error":{"code","message"}}
 *   countRefusals   counts each 4xx by error.code for the health report (its onError runs just before the edge's)
 *   fcHttpEvent     Buffer → FcHttpRequest; guarantees the full FC response struct
 *   invocationLog   per-invocation log keys (request id)
 *   contextCredentials  the FC context's rotating STS credentials → the store (and the logger's scrub list)
 *   authenticate    WEBHOOK_TOKENS → 401
 *   alertWebhook    read, deliver, answer
 *
 * With a configuration that does not load, the instance serves `configFailureHandler` instead: the same edge and FC
 * adapter, and every request answered 503 with the configuration's error code (never a crash at init), before any
 * authentication, because a deployed function without tokens must answer 503 to everyone (CONTRACT.md §3.2).
 */
import middy from '@middy/core';
import { type Bridge, type BridgeFailure, type BuiltBridge, createBridge } from '../../shared/app';
import { describeBridge } from '../../shared/bridgeSummary';
import { errorEdge } from '../../shared/fc/errorEdge';
import { fcHttpEvent } from '../../shared/fc/httpEvent';
import { invocationLog } from '../../shared/fc/invocationLog';
import type { FcHttpRequest, FcHttpResponse, MiddyFcContext } from '../../shared/fc/types';
import { refusalRecorder } from '../../shared/health/activity';
import { authenticate } from '../../shared/middleware/authenticate';
import { contextCredentials } from '../../shared/middleware/contextCredentials';
import { countRefusals } from '../../shared/middleware/countRefusals';
import { settleStore } from '../../shared/middleware/settleStore';
import { warmUp } from '../../shared/warmUp';
import { createAlertWebhook } from './alertWebhook';

function buildHandler(bridge: Bridge) {
  const { config, logger, store } = bridge;
  return middy<FcHttpRequest, FcHttpResponse, Error, MiddyFcContext>(createAlertWebhook(bridge))
    .use(errorEdge({ logger }))
    .use(settleStore({ settle: () => store.settle() }))
    .use(countRefusals({ record: refusalRecorder(store, config.store.ttlSeconds, logger) }))
    .use(fcHttpEvent())
    .use(invocationLog(logger))
    .use(
      contextCredentials({
        addSecrets: (secrets) => logger.useRotatingSecrets(secrets),
        useCredentials: (credentials) => store.useCredentials(credentials),
      }),
    )
    .use(authenticate({ tokens: config.webhook.tokens }));
}

function configFailureHandler(failure: BridgeFailure) {
  // The problems were logged once, when the bridge was built; the edge renders the error's 503 and code.
  const refuse = async function configFailure(): Promise<FcHttpResponse> {
    throw failure.error;
  };
  return middy<FcHttpRequest, FcHttpResponse, Error, MiddyFcContext>(refuse)
    .use(errorEdge({ logger: failure.logger }))
    .use(fcHttpEvent())
    .use(invocationLog(failure.logger));
}

/** The handler an instance serves for what `createBridge` built. */
function handlerFor(built: BuiltBridge) {
  return built.ok ? buildHandler(built.bridge) : configFailureHandler(built);
}

const built = createBridge('alert-webhook', process.env, { codeDir: __dirname });

const handler = handlerFor(built);

// The first invocation's connections and the store's SDK, started during init (FC bills init too).
if (built.ok) warmUp(built.bridge.config);

/** The configuration this instance runs with, secrets masked: the local runtime prints it at start. */
const describeConfig = () => describeBridge(built);

export { buildHandler, describeConfig, handler, handlerFor };
