/**
 * The retry verdict on one PagerDuty answer, as a pure function of the status and body (Alertmanager's
 * `Retrier.Check` plus `errDetails`, reference §2.3), following PagerDuty's own table (reference §1.5):
 *
 * | Answer | ok | retryable | reason |
 * |---|---|---|---|
 * | 2xx | yes | – | – |
 * | 400 and other 4xx, 3xx | no | no | `client` |
 * | 401, 403, 404 | no | **no** | `auth` |
 * | 408, network error, timeout, abort | no | yes | `network` |
 * | 429 | no | yes | `rate-limited` |
 * | 5xx (and anything unknown) | no | yes | `server` |
 *
 * 401/403/404 are not retried: the Events API authenticates by the routing key in the body only, so these mean a
 * revoked or mistyped key, or a wrong `PAGERDUTY_EVENTS_URL`, and sending again cannot fix either. They must not be
 * quiet, though: the `auth` reason feeds the health report and its self-alert, and the events stay stored for a replay
 * once the configuration is fixed.
 */
import { DeliveryFailureReason } from '../errors';
import type { ResponseVerdict } from './types';

/** Longest excerpt of a non-JSON body quoted in a message. */
const BODY_EXCERPT_MAX = 300;

const STATUS_TEXT: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  408: 'Request Timeout',
  413: 'Payload Too Large',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

function statusLine(status: number): string {
  const text = STATUS_TEXT[status];
  return text ? `${status} ${text}` : String(status);
}

function parseJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}

/**
 * PagerDuty's error body `{status, message, errors[]}` as one line (`Event object is invalid: 'payload.source' is
 * missing or blank`), or an excerpt of a body that is not PagerDuty's JSON (a proxy's HTML page, `429 - Request Limit
 * Exceeded`).
 */
function bodyDetails(body: string): string {
  const parsed = parseJson(body);
  if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
    const { message, errors, status } = parsed as { message?: unknown; errors?: unknown; status?: unknown };
    const head = typeof message === 'string' ? message : typeof status === 'string' ? status : undefined;
    const list = Array.isArray(errors) ? errors.map((item) => String(item)).join('; ') : undefined;
    const joined = [head, list].filter((part) => part !== undefined && part !== '').join(': ');
    if (joined !== '') return joined;
  }
  const text = body.replace(/\s+/g, ' ').trim();
  return text.length > BODY_EXCERPT_MAX ? `${text.slice(0, BODY_EXCERPT_MAX)}…` : text;
}

function withDetails(prefix: string, body: string): string {
  const details = bodyDetails(body);
  return details === '' ? prefix : `${prefix}: ${details}`;
}

/** A one-line description of a failed request: the client keeps the socket error (`ECONNRESET`…) in `cause`. */
function describeNetworkError(error: Error | undefined): string {
  if (!error) return 'no response from PagerDuty';
  if (error.name === 'TimeoutError') return 'no response from PagerDuty before the request timeout';
  if (error.name === 'AbortError') return 'request to PagerDuty aborted (invocation deadline)';
  const cause = error.cause as { code?: unknown; message?: unknown } | undefined;
  const causeText = [cause?.code, cause?.message].filter((part) => typeof part === 'string' && part !== '').join(' ');
  return causeText && !error.message.includes(causeText)
    ? `network error: ${error.message} (${causeText})`
    : `network error: ${error.message}`;
}

/**
 * Decides what a PagerDuty answer means for the delivery.
 *
 * @param status - the HTTP status, or undefined when no response arrived
 * @param body - the response body as text ('' when none)
 * @param networkError - the request's error when no response arrived (timeouts are `TimeoutError`s)
 *
 * @example
 * classifyResponse(202, '{"status":"success","message":"Event processed","dedup_key":"k"}'); // { ok: true, dedupKey: 'k' }
 * classifyResponse(429, ''); // { ok: false, retryable: true, reason: 'rate-limited', message: 'PagerDuty answered 429 …' }
 */
function classifyResponse(status: number | undefined, body: string, networkError?: Error): ResponseVerdict {
  if (status === undefined || networkError) {
    return {
      ok: false,
      retryable: true,
      reason: DeliveryFailureReason.NETWORK,
      message: describeNetworkError(networkError),
    };
  }
  if (status >= 200 && status < 300) {
    const parsed = parseJson(body) as { dedup_key?: unknown } | undefined;
    const dedupKey = parsed && typeof parsed === 'object' ? parsed.dedup_key : undefined;
    return typeof dedupKey === 'string' ? { ok: true, dedupKey } : { ok: true };
  }
  const line = statusLine(status);
  if (status === 429) {
    return {
      ok: false,
      retryable: true,
      reason: DeliveryFailureReason.RATE_LIMITED,
      message: withDetails(
        `PagerDuty answered ${line}: rate limit of the routing key reached, event not ingested`,
        body,
      ),
    };
  }
  if (status === 401 || status === 403 || status === 404) {
    return {
      ok: false,
      retryable: false,
      reason: DeliveryFailureReason.AUTH,
      message: withDetails(
        `PagerDuty answered ${line}: check the routing key and PAGERDUTY_EVENTS_URL (not retried; replay after fixing)`,
        body,
      ),
    };
  }
  if (status === 408) {
    return {
      ok: false,
      retryable: true,
      reason: DeliveryFailureReason.NETWORK,
      message: withDetails(`PagerDuty answered ${line}`, body),
    };
  }
  if (status >= 300 && status < 400) {
    return {
      ok: false,
      retryable: false,
      reason: DeliveryFailureReason.CLIENT,
      message: `PagerDuty answered ${line}, a redirect, which the bridge never follows: check PAGERDUTY_EVENTS_URL`,
    };
  }
  if (status >= 400 && status < 500) {
    return {
      ok: false,
      retryable: false,
      reason: DeliveryFailureReason.CLIENT,
      message: withDetails(`PagerDuty rejected the event (${line}), not retried`, body),
    };
  }
  // 5xx, and anything outside HTTP's classes: PagerDuty says to retry server errors "after some time".
  return {
    ok: false,
    retryable: true,
    reason: DeliveryFailureReason.SERVER,
    message: withDetails(`PagerDuty answered ${line}`, body),
  };
}

export { bodyDetails, classifyResponse, describeNetworkError };
