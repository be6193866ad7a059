/**
 * Counts every callback the webhook refuses with a 4xx, by `error.code`, for the health report (401s mean a wrong
 * or rotated token; a burst of 4xx means a misconfigured ARMS template). Used right after the error edge, so its
 * `onError` runs just before the edge renders the response. Never changes the response.
 */
import type { MiddlewareObj, Request } from '@middy/core';
import { BridgeError } from '../errors';
import type { MiddyFcContext } from '../fc/types';

interface CountRefusalsOptions {
  /** Records one refusal by its error code (the health report's activity counters). */
  record: (code: string) => Promise<void>;
}

function countRefusals(options: CountRefusalsOptions): MiddlewareObj<unknown, unknown, Error, MiddyFcContext> {
  const countRefusalsOnError = async (request: Request<unknown, unknown, Error, MiddyFcContext>): Promise<void> => {
    const { error } = request;
    if (!(error instanceof BridgeError) || error.statusCode >= 500) return;
    await options.record(error.code);
  };
  return { onError: countRefusalsOnError, name: 'countRefusals' };
}

export type { CountRefusalsOptions };
export { countRefusals };
