/**
 * The one conversion of Alibaba Cloud credentials: FC's `context.credentials` (the function role's STS triple, plain
 * strings, rotated by FC) or the configured `ALIBABA_CLOUD_*` variables, into `Secret`s. The store (Tablestore) and
 * the kick (FC's invoke API) sign with the same set.
 */
import type { CredentialsConfig } from '../config/config';
import { Secret } from '../config/Secret';
import type { FcContext } from './types';

/** AccessKey or STS credentials, as `Secret`s until a client is built. */
interface CloudCredentials {
  accessKeyId: Secret;
  accessKeySecret: Secret;
  securityToken?: Secret;
}

/** FC's `context.credentials` as `CloudCredentials`; undefined when absent or without a key pair (locally, tests). */
function credentialsFromContext(context: Pick<FcContext, 'credentials'> | undefined): CloudCredentials | undefined {
  const c = context?.credentials;
  if (!c?.accessKeyId || !c.accessKeySecret) return undefined;
  return {
    accessKeyId: new Secret(c.accessKeyId),
    accessKeySecret: new Secret(c.accessKeySecret),
    securityToken: c.securityToken ? new Secret(c.securityToken) : undefined,
  };
}

/** The configured `ALIBABA_CLOUD_*` credentials, or undefined when the key pair is incomplete. */
function credentialsFromConfig(config: CredentialsConfig | undefined): CloudCredentials | undefined {
  if (config?.accessKeyId === undefined || config.accessKeySecret === undefined) return undefined;
  return {
    accessKeyId: config.accessKeyId,
    accessKeySecret: config.accessKeySecret,
    securityToken: config.securityToken,
  };
}

/**
 * The credentials to sign with: the FC context's (they rotate, and they are the function role's), else the configured
 * ones; undefined when neither holds a key pair.
 *
 * @example
 * const credentials = resolveCredentials(context, config.credentials);
 */
function resolveCredentials(
  context: Pick<FcContext, 'credentials'> | undefined,
  configured: CredentialsConfig | undefined,
): CloudCredentials | undefined {
  return credentialsFromContext(context) ?? credentialsFromConfig(configured);
}

export type { CloudCredentials };
export { credentialsFromConfig, credentialsFromContext, resolveCredentials };
