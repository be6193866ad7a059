/**
 * The kick's call: an ASYNCHRONOUS invocation of another function (the webhook asks FC to run `delivery-health` now,
 * so deliveries left queued by a deadline or a 429 do not wait for the next timer tick). Best effort: the timer stays
 * the guarantee, so a kick never throws and never fails the caller. How often it is called is `KickGate`'s business.
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
import type { Secret } from '../config/Secret';
import { scrubSecrets } from '../config/scrubSecrets';
import { KICK_TIMEOUT_MS } from '../constants';
import type { CloudCredentials } from '../fc/credentials';

/** FC 3.0's API version: the path prefix fc2 adds and signs (`/${client.version}${path}`). */
const FC3_API_VERSION = '2023-03-30';
/** Extra wait beyond `timeoutMs` before the hard bound fires, so fc2's own timeout (same value) normally ends the
 * request first and closes its socket, instead of leaving it open after the caller moved on. */
const HARD_BOUND_SLACK_MS = 50;
/** Longest wait, after the answer, for fc2's socket to close (`connection: close`): see `socketsClosed`. */
const SOCKET_CLOSE_WAIT_MS = 100;

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
  /** FC's `context.accountId`. */
  accountId: string;
  /** FC's `context.region`. */
  region: string;
  credentials: CloudCredentials | undefined;
  /** Hard bound of the whole call. @default KICK_TIMEOUT_MS */
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
function defaultEndpoint(accountId: string, region: string): string {
  return `https://${accountId}.${region}.fc.aliyuncs.com`;
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

/** The credential values an error message could quote (an SDK or socket error), for `scrubSecrets`. */
function credentialValues(credentials: CloudCredentials): Secret[] {
  const { accessKeyId, accessKeySecret, securityToken } = credentials;
  return securityToken === undefined ? [accessKeyId, accessKeySecret] : [accessKeyId, accessKeySecret, securityToken];
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
  credentials: CloudCredentials;
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
 *   credentials: resolveCredentials(context, config.credentials),
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
  const endpoint = (options.endpoint || defaultEndpoint(accountId, region)).replace(/\/+$/, '');
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
    const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    const message = scrubSecrets(text, credentialValues(credentials));
    result = { ok: false, status: statusOf(message), error: message };
  } finally {
    clearTimeout(timer);
  }
  // A late rejection after the hard bound won the race must not surface as an unhandled rejection.
  call.catch(() => undefined);
  if (result.ok) logger.info('kicked function', { function: functionName, fcRequestId: result.requestId });
  return result;
}

export type { KickFunctionOptions, KickLogger, KickResult };
export { kickFunction };
