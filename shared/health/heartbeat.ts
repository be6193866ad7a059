/**
 * The outbound dead man's switch (`HEARTBEAT_URL`, reference `pagerduty.md` §6): each run pings the URL when the
 * bridge is healthy and its `/fail` form otherwise, Healthchecks-style (`https://hc-ping.com/<uuid>` and
 * `https://hc-ping.com/<uuid>/fail`). The service pages when pings stop or a fail arrives, so a bridge that stops
 * running at all is noticed outside it.
 *
 * The URL embeds the check's token: it stays a `Secret`, and no result, error or log line names more than its host.
 * Credentials in the URL (`https://user:pass@host/…`) are sent as a Basic `Authorization` header (fetch refuses them
 * in the URL).
 */
import type { Secret } from '../config/Secret';
import { scrubSecrets } from '../config/scrubSecrets';

const USER_AGENT = 'arms-pagerduty-bridge';
/** Healthchecks' failure suffix (https://healthchecks.io/docs/signaling_failures/). */
const FAIL_SUFFIX = '/fail';
/** Longest body sent with a ping; Healthchecks keeps the first 100 kB of a ping's body, a few lines are enough. */
const MAX_BODY_CHARS = 10_000;

/** Options of {@link pingHeartbeat}. */
interface PingHeartbeatOptions {
  /** `HEARTBEAT_URL`. */
  url: Secret;
  /** Ping the URL itself when true, its `/fail` form when false. */
  healthy: boolean;
  /** Budget of the one request. */
  timeoutMs: number;
  /** The run's deadline (or any other reason to stop); either signal ends the request. */
  signal?: AbortSignal;
  /**
   * Text to send with the ping (POST; Healthchecks shows it in the check's log), e.g. the verdict and its reasons.
   * Never a secret. Without it the ping is a GET.
   */
  body?: string;
}

/** What one ping did. Never contains the URL or its token. */
interface HeartbeatResult {
  /** True when the endpoint answered 2xx. */
  ok: boolean;
  /** The HTTP status, when an answer arrived. */
  status?: number;
  /** Why it did not work; names the host at most. */
  error?: string;
}

/**
 * The URL to ping: `url` itself when healthy, else `url` with `/fail` appended to its path (before any query, which is
 * kept). A trailing slash does not double (`…/abc/` → `…/abc/fail`).
 *
 * @throws TypeError when `url` is not a URL (the message names no part of it)
 *
 * @example
 * heartbeatTarget('https://hc-ping.com/uuid?rid=1', false).toString(); // 'https://hc-ping.com/uuid/fail?rid=1'
 */
function heartbeatTarget(url: string, healthy: boolean): URL {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    throw new TypeError('HEARTBEAT_URL is not a URL');
  }
  if (target.protocol !== 'https:' && target.protocol !== 'http:') throw new TypeError('HEARTBEAT_URL is not http(s)');
  if (!healthy) target.pathname = target.pathname.replace(/\/+$/, '') + FAIL_SUFFIX;
  return target;
}

/** Every piece of the URL that may carry its token (belt and braces: messages are built from the host). */
function urlPieces(url: URL, raw: string): string[] {
  return [raw, url.href, url.pathname, url.search, url.username, url.password];
}

/** The socket error's code (`ECONNREFUSED`…) undici hides in `cause`, or the error's name: never its message. */
function networkCode(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown } } | undefined)?.cause;
  if (typeof cause?.code === 'string' && /^[A-Z0-9_]+$/.test(cause.code)) return cause.code;
  return error instanceof Error ? error.name : 'error';
}

/**
 * Pings the heartbeat: the URL when healthy, its `/fail` form otherwise. Never throws; follows redirects; reads no
 * more of the answer than its status.
 *
 * @example
 * const beat = await pingHeartbeat({ url: config.health.heartbeatUrl, healthy: verdict.verdict !== 'failing',
 *   timeoutMs: 2_000, body: verdict.reasons.join('\n') });
 * if (!beat.ok) logger.warn('heartbeat ping failed', { error: beat.error });
 */
async function pingHeartbeat(options: PingHeartbeatOptions): Promise<HeartbeatResult> {
  const raw = options.url.reveal();
  let target: URL;
  try {
    target = heartbeatTarget(raw, options.healthy);
  } catch (error) {
    return { ok: false, error: (error as Error).message };
  }
  const host = target.host;
  const headers: Record<string, string> = { 'user-agent': USER_AGENT };
  if (target.username !== '' || target.password !== '') {
    const user = decodeURIComponent(target.username);
    const password = decodeURIComponent(target.password);
    headers.authorization = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  }
  const requestUrl = new URL(target);
  requestUrl.username = '';
  requestUrl.password = '';
  if (options.body !== undefined) headers['content-type'] = 'text/plain; charset=utf-8';

  const timeout = AbortSignal.timeout(options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([timeout, options.signal]) : timeout;
  let error: string;
  try {
    const response = await fetch(requestUrl, {
      method: options.body === undefined ? 'GET' : 'POST',
      headers,
      ...(options.body === undefined ? {} : { body: options.body.slice(0, MAX_BODY_CHARS) }),
      signal,
    });
    // Only the status matters; cancelling frees the connection without waiting for a body.
    await response.body?.cancel().catch(() => undefined);
    if (response.ok) return { ok: true, status: response.status };
    error = `heartbeat endpoint ${host} answered ${response.status}`;
    return { ok: false, status: response.status, error: scrubSecrets(error, urlPieces(target, raw)) };
  } catch (thrown) {
    if (timeout.aborted) error = `heartbeat ping to ${host} timed out after ${options.timeoutMs} ms`;
    else if (options.signal?.aborted) error = `heartbeat ping to ${host} aborted (invocation deadline)`;
    else error = `heartbeat ping to ${host} failed: ${networkCode(thrown)}`;
    return { ok: false, error: scrubSecrets(error, urlPieces(target, raw)) };
  }
}

export type { HeartbeatResult, PingHeartbeatOptions };
export { heartbeatTarget, pingHeartbeat };
