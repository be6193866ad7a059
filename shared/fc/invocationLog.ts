/**
 * Per-invocation log keys: FC reuses an instance for many invocations, so keys are reset at the start of each one
 * (not at the end, where the error edge still logs) and the request id is added to every line.
 */
import type { MiddlewareObj, Request } from '@middy/core';
import type { Logger } from '../logger';
import type { MiddyFcContext } from './types';

function invocationLog(logger: Logger): MiddlewareObj<unknown, unknown, Error, MiddyFcContext> {
  const invocationLogBefore = (request: Request<unknown, unknown, Error, MiddyFcContext>): void => {
    logger.resetKeys();
    if (request.context?.requestId) logger.appendKeys({ requestId: request.context.requestId });
  };
  return { before: invocationLogBefore, name: 'invocationLog' };
}

export { invocationLog };
