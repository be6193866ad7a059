/**
 * Answers every request with the configuration's error (503 and a `config_*` code) instead of crashing at init; the
 * composition root logged the problems once. Runs right after the FC adapter, before authentication, because a
 * deployed function without tokens must answer 503 to everyone (CONTRACT.md §3.2).
 */
import type { MiddlewareObj } from '@middy/core';
import type { ConfigError } from '../errors';
import type { MiddyFcContext } from '../fc/types';

interface RequireConfigOptions {
  /** What is wrong with the configuration; undefined when it is valid (the middleware then does nothing). */
  error: ConfigError | undefined;
}

function requireConfig(options: RequireConfigOptions): MiddlewareObj<unknown, unknown, Error, MiddyFcContext> {
  const requireConfigBefore = (): void => {
    if (options.error !== undefined) throw options.error;
  };
  return { before: requireConfigBefore, name: 'requireConfig' };
}

export type { RequireConfigOptions };
export { requireConfig };
