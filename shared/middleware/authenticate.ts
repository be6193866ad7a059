/**
 * Webhook authentication by shared secret. ARMS can only send static headers or query parameters (it cannot sign), so
 * the HTTP trigger is `anonymous` and the function checks a token itself: `Authorization: Bearer <t>`,
 * `X-Webhook-Token: <t>` or `?token=<t>` (CONTRACT.md §3.2). A request is authenticated when any presented token equals
 * any configured one. Comparison is constant-time: both sides are hashed to fixed-length digests, and every configured
 * token is compared, so neither the length nor the position of a match shows in the timing.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareObj, Request } from '@middy/core';
import type { Secret } from '../config/Secret';
import { UnauthorizedError } from '../errors';
import type { FcHttpRequest, MiddyFcContext } from '../fc/types';

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/** Every token the request presents, in the order they are tried: header, bearer, query. */
function presentedTokens(request: FcHttpRequest): string[] {
  const tokens: string[] = [];
  const header = request.header('x-webhook-token')?.trim();
  if (header) tokens.push(header);
  const authorization = request.header('authorization')?.trim();
  const bearer = authorization?.match(/^Bearer\s+(\S+)$/i)?.[1];
  if (bearer) tokens.push(bearer);
  const query = request.query('token')?.trim();
  if (query) tokens.push(query);
  return tokens;
}

/** The digests a presented token's is compared with: one per configured token, made once per instance. */
function tokenDigests(accepted: readonly Secret[]): Buffer[] {
  return accepted.map((secret) => digest(secret.reveal()));
}

/** Whether any presented token's digest equals any accepted digest, every pair compared (no early exit). */
function matchesAny(presented: readonly string[], acceptedDigests: readonly Buffer[]): boolean {
  let authorized = false;
  for (const token of presented) {
    const candidate = digest(token);
    for (const expected of acceptedDigests) {
      // No early exit: every pair is compared.
      authorized = timingSafeEqual(candidate, expected) || authorized;
    }
  }
  return authorized;
}

/** True when one of the presented tokens is one of the accepted ones. */
function isAuthorized(presented: readonly string[], accepted: readonly Secret[]): boolean {
  return matchesAny(presented, tokenDigests(accepted));
}

/**
 * Refuses requests without a valid token with 401 (no hint which part failed). With no tokens configured it lets
 * everything through: `loadConfig` only allows that locally or with ALLOW_UNAUTHENTICATED=true.
 */
function authenticate(options: {
  /** `WEBHOOK_TOKENS`. */
  tokens: readonly Secret[];
}): MiddlewareObj<FcHttpRequest, unknown, Error, MiddyFcContext> {
  // The configuration is the instance's: its tokens are hashed here once, not on every request.
  const accepted = tokenDigests(options.tokens);
  const authenticateBefore = (request: Request<FcHttpRequest, unknown, Error, MiddyFcContext>): void => {
    if (accepted.length === 0) return;
    if (!matchesAny(presentedTokens(request.event), accepted)) throw new UnauthorizedError();
  };
  return { before: authenticateBefore, name: 'authenticate' };
}

export { authenticate, isAuthorized, presentedTokens };
