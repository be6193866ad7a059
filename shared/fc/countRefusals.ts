/**
 * Counts every callback the webhook refuses with a 4xx, by `error.code`, for the health report (401s mean a wrong
 * or rotated token; a burst of 4xx means a misconfigured ARMS template). Used right after the error edge, so its
 * `onError` runs just before the edge renders the response. Never changes the response.
 */
import type { MiddlewareObj, Request } from '@middy/core';
import { BridgeError } from '../errors';
import { recordActivity, refusalActivity } from '../health/activity';
import type { BridgeInstance } from '../instance';
import type { MiddyFcContext } from './types';

function countRefusals(instance: BridgeInstance): MiddlewareObj<unknown, unknown, Error, MiddyFcContext> {
  const countRefusalsOnError = async (request: Request<unknown, unknown, Error, MiddyFcContext>): Promise<void> => {
    const { error } = request;
    if (!instance.ok || !(error instanceof BridgeError) || error.statusCode >= 500) return;
    const { store, config, logger } = instance;
    await recordActivity(store, refusalActivity(error.code, Date.now()), config.store.ttlSeconds, logger);
  };
  return { onError: countRefusalsOnError, name: 'countRefusals' };
}

export { countRefusals };
