/**
 * The kick: an ASYNCHRONOUS invocation of another function (the webhook asks FC to run `delivery-health` now, so
 * deliveries left queued by a deadline or a 429 do not wait for the next timer tick). Best effort: the timer stays the
 * guarantee, so a kick never throws and never fails the caller.
 *
 * The call goes through `@alicloud/fc2`, which speaks the 2016-08-15 service-based API: its `invokeFunction` builds
 * `/services/{service}/functions/{fn}/invocations`, which FC 3.0 does not have. Its generic signed `post()` prefixes
 * `/${client.version}` to the path and signs that full path, so with `version = '2023-03-30'` it sends FC 3.0's
 * `POST /2023-03-30/functions/{name}/invocations` (the override fc3 itself uses for `instanceExec`;
 * `reference/arms-and-fc.md` §4.1). What fc2 puts on the wire (lib/client.js `request`, lib/helper.js):
 *
 *   POST {endpoint}/2023-03-30/functions/{name}/invocations
 *   accept: application/json              date: <RFC 1123 now>        host: <endpoint host, no port>
 *   user-agent: Node.js(...) SDK(@alicloud/fc2@v2.6.6)                x-fc-account-id: <account id>
 *   x-fc-invocation-type: Async           x-fc-security-token: <STS token>   (only with a token)
 *   content-type: application/octet-stream   content-length   content-md5: base64(hex md5 of the body)
 *   connection: close                     (ours: no keep-alive socket is left for FC to freeze)
 *   authorization: FC <accessKeyId>:base64(HMAC-SHA256(secret,
 *     "POST\n<content-md5>\n<content-type>\n<date>\n<x-fc-* headers, lower-case, sorted, name:value\n>/2023-03-30/functions/{name}/invocations"))
 *
 * The SDK is `require`d on the first kick, never at module load: it loads ali-oss, urllib and axios (≈ 0.5 s
 * unbundled), which the webhook's cold start must not pay for.
 */
import type { CredentialsConfig } from '../config/config';
import { REDACTED, Secret } from '../config/Secret';
import type { FcContext } from './types';

/** FC 3.0's API version: the path prefix fc2 adds and signs (`/${client.version}${path}`). */
const FC3_API_VERSION = '2023-03-30';
/** Default bound of one kick. FC's async invoke only enqueues (202), typically well under 100 ms. */
const KICK_TIMEOUT_MS = 1_000;
/** Default per-instance gate: one kick per instance per this many ms (the kicked run drains every due row anyway). */
const KICK_MIN_INTERVAL_MS = 15_000;
/** Extra wait beyond `timeoutMs` before the hard bound fires, so fc2's own timeout (same value) normally ends the
 * request first and closes its socket, instead of leaving it open after the caller moved on. */
const HARD_BOUND_SLACK_MS = 50;
/** Longest wait, after the answer, for fc2's socket to close (`connection: close`): see `socketsClosed`. */
const SOCKET_CLOSE_WAIT_MS = 100;

/** AccessKey or STS credentials, as `Secret`s until the SDK client is built. */
interface FcApiCredentials {
  accessKeyId: Secret;
  accessKeySecret: Secret;
  securityToken?: Secret;
}

interface KickLogger {
  debug(message: string, extra?: Record<string, unknown>): void;
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
}

interface KickFunctionOptions {
  /** The function to run (`HEALTH_FUNCTION_NAME`, default `delivery-health`). */
  functionName: string;
  /** `FUNCTION_COMPUTE_ENDPOINT` (the local runtime sets its own URL). @default `https://<accountId>.<region>.fc.aliyuncs.com` */
  endpoint?: string;
  /** FC's `context.accountId` (or `FC_ACCOUNT_ID`). */
  accountId: string;
  /** FC's `context.region` (or `FC_REGION`). */
  region: string;
  /** Use `<region>-internal` when deriving the endpoint (region-internal network; UNCONFIRMED for FC 3.0 invokes). @default false */
  internal?: boolean;
  credentials: FcApiCredentials | undefined;
  /** Hard bound of the whole call. @default 1000 */
  timeoutMs?: number;
  /** The event's `payload` (the health run logs it). @default 'kick' */
  reason?: string;
  logger: KickLogger;
}

interface KickResult {
  /** True when FC accepted the invocation (a 2xx), or when a kick was skipped because one was just sent. */
  ok: boolean;
  /** HTTP status of a refused call (fc2 does not expose the status of a 2xx; the async invoke answers 202). */
  status?: number;
  /** Why it failed: an error message with any credential value removed. */
  error?: string;
  /** `x-fc-request-id` of an accepted invocation (find the kicked run in the logs with it). */
  requestId?: string;
  /** Set when no call was made: `invocation` (this invocation kicked already), `interval` (this instance kicked recently). */
  skipped?: 'invocation' | 'interval';
}

/** The few members of fc2's `Client` used here (it ships no types for `request`). */
interface Fc2Client {
  version: string;
  securityToken?: string;
  post(
    path: string,
    body: string,
    headers: Record<string, string>,
    queries: Record<string, string> | null,
  ): Promise<{ headers: Record<string, string | string[] | undefined>; data: unknown }>;
}
type Fc2ClientConstructor = new (
  accountId: string,
  config: {
    accessKeyID: string;
    accessKeySecret: string;
    securityToken?: string;
    region: string;
    secure?: boolean;
    internal?: boolean;
    endpoint?: string;
    timeout?: number;
  },
) => Fc2Client;

let Fc2: Fc2ClientConstructor | undefined;

/** fc2, required on first use (a static `require` string, so esbuild bundles it and evaluates it only here). */
function loadFc2(): Fc2ClientConstructor {
  Fc2 ??= require('@alicloud/fc2') as Fc2ClientConstructor;
  return Fc2;
}

/** FC's public invoke endpoint of an account and region (`reference/arms-and-fc.md` §4.1). */
function defaultEndpoint(accountId: string, region: string, internal = false): string {
  return `https://${accountId}.${region}${internal ? '-internal' : ''}.fc.aliyuncs.com`;
}

/**
 * The credentials to sign with: FC's `context.credentials` (the function role's STS triple, rotated by FC), else the
 * configured `ALIBABA_CLOUD_*` variables; undefined when neither holds a key pair.
 */
function resolveFcCredentials(
  context: Pick<FcContext, 'credentials'> | undefined,
  configured: CredentialsConfig | undefined,
): FcApiCredentials | undefined {
  const c = context?.credentials;
  if (c?.accessKeyId && c.accessKeySecret) {
    return {
      accessKeyId: new Secret(c.accessKeyId),
      accessKeySecret: new Secret(c.accessKeySecret),
      securityToken: c.securityToken ? new Secret(c.securityToken) : undefined,
    };
  }
  if (configured?.accessKeyId && configured.accessKeySecret) {
    return {
      accessKeyId: configured.accessKeyId,
      accessKeySecret: configured.accessKeySecret,
      securityToken: configured.securityToken,
    };
  }
  return undefined;
}

/** Removes every credential value from a text (an SDK or socket error message) before it is logged or returned. */
function scrub(text: string, credentials: FcApiCredentials | undefined): string {
  let out = text;
  const values = [credentials?.accessKeyId, credentials?.accessKeySecret, credentials?.securityToken]
    .map((secret) => secret?.reveal() ?? '')
    .filter((value) => value.length >= 4)
    .sort((a, b) => b.length - a.length);
  for (const value of values) out = out.replaceAll(value, REDACTED);
  return out;
}

/** Open TCP sockets of this process (Node's own resource accounting). */
function openSockets(): number {
  return process.getActiveResourcesInfo().filter((type) => type === 'TCPSocketWrap').length;
}

/**
 * Waits (bounded) until the process has no more sockets open than `baseline`. fc2 hides its socket, and with
 * `connection: close` that socket closes a few event-loop turns after the answer is read: without this wait the
 * handler could return, and FC freeze the instance, with the socket still closing (the local runtime reports that
 * as work left running). Other sockets opened meanwhile only make the wait run to its bound.
 */
async function socketsClosed(baseline: number, maxMs: number): Promise<void> {
  const until = Date.now() + maxMs;
  while (openSockets() > baseline && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 1));
}

/** The status in fc2's error message (`POST /functions/x/invocations failed with 403. requestid: …`). */
function statusOf(message: string): number | undefined {
  const match = / failed with (\d{3})\b/.exec(message);
  return match ? Number(match[1]) : undefined;
}

/** One signed `POST /2023-03-30{path}` through fc2 with `x-fc-invocation-type: Async`; throws fc2's errors. */
async function postAsyncInvocation(call: {
  accountId: string;
  region: string;
  endpoint: string;
  path: string;
  event: string;
  credentials: FcApiCredentials;
  timeoutMs: number;
}): Promise<KickResult> {
  const { credentials } = call;
  const Client = loadFc2();
  const client = new Client(call.accountId || 'local', {
    accessKeyID: credentials.accessKeyId.reveal(),
    accessKeySecret: credentials.accessKeySecret.reveal(),
    securityToken: credentials.securityToken?.reveal(),
    region: call.region || 'local',
    endpoint: call.endpoint,
    timeout: call.timeoutMs,
  });
  // fc2 keeps the token only when the key id starts with "STS" (FC role keys do); a token given is always sent.
  if (credentials.securityToken) client.securityToken = credentials.securityToken.reveal();
  client.version = FC3_API_VERSION;
  // connection: close, so no keep-alive socket of fc2's module-level agent (httpx) outlives the call into a freeze.
  const response = await client.post(
    call.path,
    call.event,
    { 'x-fc-invocation-type': 'Async', connection: 'close' },
    null,
  );
  const requestId = response.headers['x-fc-request-id'];
  return { ok: true, requestId: typeof requestId === 'string' ? requestId : undefined };
}

/**
 * Asks FC to run `functionName` now, asynchronously (`x-fc-invocation-type: Async`: FC queues the event and answers
 * 202 without waiting for the run). Never throws; bounded by `timeoutMs`.
 *
 * The event is a timer-shaped JSON object, `{"triggerTime","triggerName":"kick","payload":<reason>}`, so the health
 * function's timer adapter reads it like a tick and its log says why it ran.
 *
 * @example
 * const result = await kickFunction({
 *   functionName: 'delivery-health',
 *   accountId: context.accountId, region: context.region,
 *   credentials: resolveFcCredentials(context, config.credentials),
 *   logger,
 * });
 * if (!result.ok) logger.warn('kick failed; the timer will run it', { error: result.error });
 */
async function kickFunction(options: KickFunctionOptions): Promise<KickResult> {
  const { functionName, accountId, region, credentials, logger } = options;
  const timeoutMs = Math.max(1, Math.floor(options.timeoutMs ?? KICK_TIMEOUT_MS));
  if (credentials === undefined) {
    return { ok: false, error: 'no credentials (no FC context credentials and no ALIBABA_CLOUD_ACCESS_KEY_*)' };
  }
  if (!functionName || (!options.endpoint && (!accountId || !region))) {
    return { ok: false, error: 'no function name, or no endpoint and no account id/region to derive one' };
  }
  const endpoint = (options.endpoint || defaultEndpoint(accountId, region, options.internal)).replace(/\/+$/, '');
  const path = `/functions/${encodeURIComponent(functionName)}/invocations`;
  const event = JSON.stringify({
    triggerTime: new Date().toISOString(),
    triggerName: 'kick',
    payload: options.reason ?? 'kick',
  });

  let timer: NodeJS.Timeout | undefined;
  const call = (async (): Promise<KickResult> => {
    const baseline = openSockets();
    try {
      return await postAsyncInvocation({ accountId, region, endpoint, path, event, credentials, timeoutMs });
    } finally {
      await socketsClosed(baseline, SOCKET_CLOSE_WAIT_MS);
    }
  })();
  const bound = new Promise<KickResult>((resolve) => {
    timer = setTimeout(
      () => resolve({ ok: false, error: `no answer within ${timeoutMs} ms` }),
      timeoutMs + HARD_BOUND_SLACK_MS,
    );
  });

  let result: KickResult;
  try {
    result = await Promise.race([call, bound]);
  } catch (error) {
    const message = scrub(error instanceof Error ? `${error.name}: ${error.message}` : String(error), credentials);
    result = { ok: false, status: statusOf(message), error: message };
  } finally {
    clearTimeout(timer);
  }
  // A late rejection after the hard bound won the race must not surface as an unhandled rejection.
  call.catch(() => undefined);
  if (result.ok) logger.info('kicked function', { function: functionName, fcRequestId: result.requestId });
  return result;
}

interface KickerOptions {
  /** `HEALTH_FUNCTION_NAME`. */
  functionName: string;
  /** `FUNCTION_COMPUTE_ENDPOINT`. @default derived from the context's account id and region */
  endpoint?: string;
  /** The configured `ALIBABA_CLOUD_*` credentials, used when the FC context carries none. */
  credentials?: CredentialsConfig;
  /** Account id and region when the context lacks them (`FC_ACCOUNT_ID`, `FC_REGION`). */
  accountId?: string;
  region?: string;
  /** Per-instance gate between two kicks. @default 15000 */
  minIntervalMs?: number;
  /** Bound of one kick. @default 1000 */
  timeoutMs?: number;
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
 * Coalesces kicks: at most one per invocation, and at most one per instance per `minIntervalMs` (failed attempts
 * count too, so a refused kick does not cost every later invocation its timeout). Across instances this is best
 * effort: N webhook instances may each kick once per interval. That is harmless: the kicked runs claim rows by
 * compare-and-set, so concurrent runs never deliver twice, and FC itself queues async invocations.
 *
 * @example
 * const kicker = createKicker({ functionName: config.webhook.healthFunctionName,
 *   endpoint: config.webhook.functionComputeEndpoint, credentials: config.credentials, logger });
 * // in the handler, when deliveries stay queued:
 * await kicker.kick('deadline', context, { timeoutMs: deadline.callTimeoutMs(1_000) });
 */
function createKicker(options: KickerOptions): Kicker {
  const now = options.now ?? Date.now;
  const invoke = options.invoke ?? kickFunction;
  const minIntervalMs = options.minIntervalMs ?? KICK_MIN_INTERVAL_MS;
  let lastRequestId: string | undefined;
  let lastAttemptAt = Number.NEGATIVE_INFINITY;
  let lastError: string | undefined;

  async function kick(reason: string, context: FcContext, callOptions: { timeoutMs?: number } = {}) {
    if (context.requestId && context.requestId === lastRequestId) return { ok: true, skipped: 'invocation' } as const;
    if (now() - lastAttemptAt < minIntervalMs) return { ok: true, skipped: 'interval' } as const;
    lastRequestId = context.requestId;
    lastAttemptAt = now();
    const result = await invoke({
      functionName: options.functionName,
      endpoint: options.endpoint,
      accountId: context.accountId || options.accountId || '',
      region: context.region || options.region || '',
      credentials: resolveFcCredentials(context, options.credentials),
      timeoutMs: callOptions.timeoutMs ?? options.timeoutMs ?? KICK_TIMEOUT_MS,
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

export type { FcApiCredentials, Kicker, KickerOptions, KickFunctionOptions, KickLogger, KickResult };
export {
  createKicker,
  defaultEndpoint,
  FC3_API_VERSION,
  KICK_MIN_INTERVAL_MS,
  KICK_TIMEOUT_MS,
  kickFunction,
  resolveFcCredentials,
};
