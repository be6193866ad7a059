/**
 * Hands the FC context's credentials (the function role's STS set, which rotates) to the store at the start of each
 * invocation, and registers them with the logger first so no line can print them. Absent locally and in tests.
 */
import type { MiddlewareObj, Request } from '@middy/core';
import type { Secret } from '../config/Secret';
import { type CloudCredentials, credentialsFromContext } from '../fc/credentials';
import type { MiddyFcContext } from '../fc/types';

interface ContextCredentialsOptions {
  /** Masks these in every log line (the logger keeps the last few sets: `Logger.useRotatingSecrets`). */
  addSecrets: (secrets: readonly Secret[]) => void;
  /** Gives the store the invocation's credentials. */
  useCredentials: (credentials: CloudCredentials) => void;
}

function contextCredentials(
  options: ContextCredentialsOptions,
): MiddlewareObj<unknown, unknown, Error, MiddyFcContext> {
  const contextCredentialsBefore = (request: Request<unknown, unknown, Error, MiddyFcContext>): void => {
    const credentials = credentialsFromContext(request.context);
    if (credentials === undefined) return;
    options.addSecrets(
      [credentials.accessKeyId, credentials.accessKeySecret, credentials.securityToken].filter(
        (secret) => secret !== undefined,
      ),
    );
    options.useCredentials(credentials);
  };
  return { before: contextCredentialsBefore, name: 'contextCredentials' };
}

export type { ContextCredentialsOptions };
export { contextCredentials };
