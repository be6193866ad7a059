/**
 * Hands the FC context's credentials (the function role's STS set, which rotates) to the store at the start of each
 * invocation, and registers them with the logger so no line can print them. Absent locally and in tests.
 */
import type { MiddlewareObj, Request } from '@middy/core';
import type { BridgeInstance } from '../instance';
import { credentialsFromContext } from '../store/tablestoreClient';
import type { MiddyFcContext } from './types';

function contextCredentials(instance: BridgeInstance): MiddlewareObj<unknown, unknown, Error, MiddyFcContext> {
  const contextCredentialsBefore = (request: Request<unknown, unknown, Error, MiddyFcContext>): void => {
    if (!instance.ok) return;
    const credentials = credentialsFromContext(request.context);
    if (credentials === undefined) return;
    instance.logger.addSecrets(
      [credentials.accessKeyId, credentials.accessKeySecret, credentials.securityToken].filter(
        (secret) => secret !== undefined,
      ),
    );
    instance.store.useCredentials(credentials);
  };
  return { before: contextCredentialsBefore, name: 'contextCredentials' };
}

export { contextCredentials };
