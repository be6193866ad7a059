/**
 * FC entry of delivery-health (timer trigger, every minute). Built once per instance at cold start; each run:
 *
 *   invocationLog    per-invocation log keys (request id)
 *   contextCredentials  the FC context's rotating STS credentials → the store (and the logger's scrub list)
 *   fcTimerEvent     Buffer → {triggerTime, triggerName, payload}; any other payload means "run now"
 *   deliveryHealth   relay due deliveries, report
 */
import middy from '@middy/core';
import { invocationLog } from '../../shared/fc/invocationLog';
import { fcTimerEvent } from '../../shared/fc/timerEvent';
import type { FcTimerEvent, MiddyFcContext } from '../../shared/fc/types';
import { type BridgeInstance, createInstance } from '../../shared/instance';
import { contextCredentials } from '../../shared/middleware/contextCredentials';
import { warmUp } from '../../shared/warmUp';
import { createDeliveryHealth } from './deliveryHealth';

function buildHandler(instance: BridgeInstance) {
  return middy<FcTimerEvent, unknown, Error, MiddyFcContext>(createDeliveryHealth(instance))
    .use(invocationLog(instance.logger))
    .use(
      contextCredentials({
        addSecrets: (secrets) => instance.logger.addSecrets(secrets),
        useCredentials: instance.ok ? (credentials) => instance.store.useCredentials(credentials) : undefined,
      }),
    )
    .use(fcTimerEvent());
}

const instance = createInstance('delivery-health', process.env, { codeDir: __dirname });

const handler = buildHandler(instance);

// The first invocation's connections and the store's SDK, started during init (FC bills init too).
if (instance.ok) warmUp(instance.config);

export { buildHandler, handler };
