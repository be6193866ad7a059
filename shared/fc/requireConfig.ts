/**
 * Answers every request with the instance's configuration error (503 and a `config_*` code) instead of crashing at
 * init; `createInstance` logged the problems once. Runs right after the FC adapter, before authentication, because
 * a deployed function without tokens must answer 503 to everyone (CONTRACT.md §3.2).
 */
import type { MiddlewareObj } from '@middy/core';
import type { BridgeInstance } from '../instance';
import type { MiddyFcContext } from './types';

function requireConfig(instance: BridgeInstance): MiddlewareObj<unknown, unknown, Error, MiddyFcContext> {
  const requireConfigBefore = (): void => {
    if (!instance.ok) throw instance.error;
  };
  return { before: requireConfigBefore, name: 'requireConfig' };
}

export { requireConfig };
