/**
 * FC entry of the webhook (HTTP trigger). Built once per instance at cold start; then each invocation runs:
 *
 *   errorEdge       first, so its onError runs last and renders every error as {"error":{"code","message"}}
 *   countRefusals   counts each 4xx by error.code for the health report (its onError runs just before the edge's)
 *   fcHttpEvent     Buffer → FcHttpRequest; guarantees the full FC response struct
 *   invocationLog   per-invocation log keys (request id)
 *   requireConfig   invalid configuration → 503 for every request (never a crash at init)
 *   contextCredentials  the FC context's rotating STS credentials → the store (and the logger's scrub list)
 *   authenticate    WEBHOOK_TOKENS → 401
 *   alertWebhook    read, deliver, answer
 */
import middy from '@middy/core';
import { errorEdge } from '../../shared/fc/errorEdge';
import { fcHttpEvent } from '../../shared/fc/httpEvent';
import { invocationLog } from '../../shared/fc/invocationLog';
import type { FcHttpRequest, FcHttpResponse, MiddyFcContext } from '../../shared/fc/types';
import { refusalRecorder } from '../../shared/health/activity';
import { type BridgeInstance, createInstance } from '../../shared/instance';
import { describeInstance } from '../../shared/instanceSummary';
import { authenticate } from '../../shared/middleware/authenticate';
import { contextCredentials } from '../../shared/middleware/contextCredentials';
import { countRefusals } from '../../shared/middleware/countRefusals';
import { requireConfig } from '../../shared/middleware/requireConfig';
import { warmUp } from '../../shared/warmUp';
import { createAlertWebhook } from './alertWebhook';

function buildHandler(instance: BridgeInstance) {
  return middy<FcHttpRequest, FcHttpResponse, Error, MiddyFcContext>(createAlertWebhook(instance))
    .use(errorEdge({ logger: instance.logger }))
    .use(
      countRefusals({
        record: instance.ok
          ? refusalRecorder(instance.store, instance.config.store.ttlSeconds, instance.logger)
          : undefined,
      }),
    )
    .use(fcHttpEvent())
    .use(invocationLog(instance.logger))
    .use(requireConfig({ error: instance.ok ? undefined : instance.error }))
    .use(
      contextCredentials({
        addSecrets: (secrets) => instance.logger.addSecrets(secrets),
        useCredentials: instance.ok ? (credentials) => instance.store.useCredentials(credentials) : undefined,
      }),
    )
    .use(authenticate({ tokens: () => (instance.ok ? instance.config.webhook.tokens : []) }));
}

const instance = createInstance('alert-webhook', process.env, { codeDir: __dirname });

const handler = buildHandler(instance);

// The first invocation's connections and the store's SDK, started during init (FC bills init too).
if (instance.ok) warmUp(instance.config);

/** The configuration this instance runs with, secrets masked: the local runtime prints it at start. */
const describeConfig = () => describeInstance(instance);

export { buildHandler, describeConfig, handler };
