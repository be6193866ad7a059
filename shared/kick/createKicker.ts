/**
 * The kick as the functions use it (the webhook: run `delivery-health` now for what it left queued; delivery-health:
 * start its next run at once while due work is left). Best effort: the timer stays the guarantee, so a kick never
 * throws and never fails the caller.
 */
import type { CredentialsConfig } from '../config/config';
import { KICK_TIMEOUT_MS } from '../constants';
import { resolveCredentials } from '../fc/credentials';
import type { FcContext } from '../fc/types';
import { KickGate } from './KickGate';
import { type KickFunctionOptions, type KickLogger, type KickResult, kickFunction } from './kickFunction';

interface KickerOptions {
  /** `HEALTH_FUNCTION_NAME`. */
  functionName: string;
  /** `FUNCTION_COMPUTE_ENDPOINT`. @default derived from the context's account id and region */
  endpoint?: string;
  /** The configured `ALIBABA_CLOUD_*` credentials, used when the FC context carries none. */
  credentials?: CredentialsConfig;
  /** Per-instance gate between two kicks (`KickGate`). @default KICK_MIN_INTERVAL_MS */
  minIntervalMs?: number;
  logger: KickLogger;
  /** Clock (tests). @default Date.now */
  now?: () => number;
  /** The call itself (tests). @default kickFunction */
  invoke?: (options: KickFunctionOptions) => Promise<KickResult>;
}

interface Kicker {
  /**
   * Kicks unless this invocation (`context.requestId`) already did, or this instance kicked less than
   * `minIntervalMs` ago. Starts the call at once and resolves within the timeout; AWAIT it before the handler returns
   * (FC freezes the instance when the handler returns, so an un-awaited request may never leave).
   */
  kick(reason: string, context: FcContext, options?: { timeoutMs?: number }): Promise<KickResult>;
}

/**
 * The kick as the functions use it: `kickFunction` behind this instance's `KickGate`, signed with the FC context's
 * credentials (else the configured ones), a failure logged once per distinct error.
 *
 * @example
 * const kicker = createKicker({ functionName: config.webhook.healthFunctionName,
 *   endpoint: config.webhook.functionComputeEndpoint, credentials: config.credentials, logger });
 * // in the handler, when deliveries stay queued:
 * await kicker.kick('queued', context, { timeoutMs: KICK_TIMEOUT_MS });
 */
function createKicker(options: KickerOptions): Kicker {
  const invoke = options.invoke ?? kickFunction;
  const gate = new KickGate({ minIntervalMs: options.minIntervalMs, now: options.now });
  let lastError: string | undefined;

  async function kick(reason: string, context: FcContext, callOptions: { timeoutMs?: number } = {}) {
    const skipped = gate.admit(context.requestId);
    if (skipped !== undefined) return { ok: true, skipped };
    const result = await invoke({
      functionName: options.functionName,
      endpoint: options.endpoint,
      accountId: context.accountId ?? '',
      region: context.region ?? '',
      credentials: resolveCredentials(context, options.credentials),
      timeoutMs: callOptions.timeoutMs ?? KICK_TIMEOUT_MS,
      reason,
      logger: options.logger,
    });
    if (result.ok) {
      lastError = undefined;
    } else if (result.error !== lastError) {
      // Once per distinct error: a misconfigured role would otherwise log on every invocation.
      lastError = result.error;
      options.logger.warn('kick failed; the timer runs the function anyway', {
        function: options.functionName,
        reason,
        status: result.status,
        error: result.error,
      });
    } else {
      options.logger.debug('kick failed again', { function: options.functionName, status: result.status });
    }
    return result;
  }

  return { kick };
}

export { createKicker };
