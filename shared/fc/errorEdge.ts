/**
 * The one error edge of the webhook, after Middy's `http-error-handler`: every error becomes the FC response struct
 * with `{"error":{"code","message"}}`. Messages of client errors (< 500) are shown, since they name what to fix; a 5xx
 * shows a fixed text per code and the real error goes to the log only. Use it FIRST so its `onError` runs last.
 */
import type { MiddlewareObj, Request } from '@middy/core';
import { BridgeError, ErrorCode } from '../errors';
import type { Logger } from '../logger';
import { jsonResponse } from './httpEvent';
import type { FcHttpResponse, MiddyFcContext } from './types';

/** What a caller reads for each server-side code: what happened, never how. */
const SERVER_MESSAGES: Partial<Record<ErrorCode, string>> = {
  [ErrorCode.CONFIG_INVALID]:
    'the bridge is misconfigured; its operator must fix the configuration (see the function log)',
  [ErrorCode.CONFIG_NO_TOKENS]: 'the bridge has no WEBHOOK_TOKENS configured; its operator must set them',
  [ErrorCode.CONFIG_NO_ROUTING_KEY]: 'the bridge has no PagerDuty routing key configured; its operator must set one',
  [ErrorCode.DELIVERY_UNAVAILABLE]: 'the alerts could not be delivered or stored; retry later',
  [ErrorCode.INTERNAL]: 'internal error',
};

/** Renders any thrown value as the FC response the caller gets. Pure, so tests can table it. */
function errorResponse(error: unknown): FcHttpResponse {
  const bridgeError =
    error instanceof BridgeError ? error : new BridgeError('internal error', 500, ErrorCode.INTERNAL, { cause: error });
  const { statusCode, code } = bridgeError;
  const message = bridgeError.expose ? bridgeError.message : (SERVER_MESSAGES[code] ?? 'internal error');
  const body: { error: { code: string; message: string; details?: unknown } } = { error: { code, message } };
  if (bridgeError.expose && bridgeError.details !== undefined) body.error.details = bridgeError.details;
  const headers: Record<string, string> = statusCode === 405 ? { allow: 'POST' } : {};
  if (statusCode === 503) headers['retry-after'] = '60';
  return jsonResponse(statusCode, body, headers);
}

function errorEdge(options: { logger: Logger }): MiddlewareObj<unknown, FcHttpResponse, Error, MiddyFcContext> {
  const { logger } = options;
  const errorEdgeOnError = (request: Request<unknown, FcHttpResponse, Error, MiddyFcContext>): void => {
    const { error } = request;
    const response = errorResponse(error);
    if (response.statusCode >= 500) {
      // Config errors are logged once per instance, where the bridge is built (createBridge); the rest here, in full.
      if (!(error instanceof BridgeError && error.code.startsWith('config_'))) {
        logger.error('request failed', { statusCode: response.statusCode, error });
      }
    } else {
      logger.warn('request refused', {
        statusCode: response.statusCode,
        code: (error as BridgeError).code,
        reason: error?.message,
      });
    }
    request.response = response;
  };
  return { onError: errorEdgeOnError, name: 'errorEdge' };
}

export { errorEdge, errorResponse };
