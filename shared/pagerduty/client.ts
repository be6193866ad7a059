/**
 * The PagerDuty Events API v2 client: one POST per event over a keep-alive connection (`httpPost.ts`: one agent per
 * host), a per-request timeout combined with the caller's deadline, no redirects, and a verdict instead of a throw,
 * which also says whether the request may have reached PagerDuty (`onWire`). The routing key enters the request body
 * here and nowhere else, and never appears in a result.
 */

import type { Secret } from '../config/Secret';
import { scrubSecrets } from '../config/scrubSecrets';
import { SUMMARY_MAX_CODE_POINTS } from '../constants';
import { ConfigError, DeliveryFailureReason } from '../errors';
import { classifyResponse } from './classifyResponse';
import { eventProblems } from './eventProblems';
import { httpPost } from './httpPost';
import { parseRetryAfter } from './parseRetryAfter';
import { truncateCodePoints } from './truncateCodePoints';
import type { PagerDutyChangeEventBody, PagerDutyEventBody, SendResult } from './types';

/** PagerDuty's answers are a few hundred bytes; reading more than this from a misbehaving endpoint is pointless. */
const MAX_RESPONSE_BYTES = 64 * 1024;
const USER_AGENT = 'arms-pagerduty-bridge';
const ALERT_EVENTS_PATH = '/v2/enqueue';
const CHANGE_EVENTS_PATH = '/v2/change/enqueue';

/** Options of {@link sendEvent}. */
interface SendEventOptions {
  /** The enqueue URL (`PAGERDUTY_EVENTS_URL`). */
  url: string;
  /** The route's integration key; revealed only into the request body. */
  routingKey: Secret;
  /** The stored event body (without routing key). */
  event: PagerDutyEventBody;
  /** Budget of this one request, including reading the answer. */
  timeoutMs: number;
  /** The invocation's deadline (or any other reason to stop); either signal ends the request. */
  signal?: AbortSignal;
  /**
   * Called once the whole request has been handed to the network: from then on PagerDuty may act on the event even if
   * the answer is lost, so a caller should let the send finish rather than cut it. Not called for an event that is
   * not sent (schema, routing key) or a request that fails before being written. Must not throw.
   */
  onSent?: () => void;
}

/** Options of {@link sendChangeEvent}: as for alert events, with a change event. */
interface SendChangeEventOptions extends Omit<SendEventOptions, 'event'> {
  /** The alert enqueue URL (`PAGERDUTY_EVENTS_URL`); the change URL is derived from it. */
  url: string;
  event: PagerDutyChangeEventBody;
}

/** POSTs `body` (which holds the routing key) and classifies whatever happens. Never throws. */
async function post(
  url: string,
  body: Record<string, unknown>,
  secret: string,
  options: { timeoutMs: number; signal?: AbortSignal; onSent?: () => void },
): Promise<SendResult> {
  const started = performance.now();
  const answer = await httpPost(url, {
    headers: { 'content-type': 'application/json', accept: 'application/json', 'user-agent': USER_AGENT },
    body: Buffer.from(JSON.stringify(body), 'utf8'),
    timeoutMs: options.timeoutMs,
    maxResponseBytes: MAX_RESPONSE_BYTES,
    signal: options.signal,
    onSent: options.onSent,
  });
  let result: SendResult;
  if (answer.ok) {
    // A 3xx is an answer like any other: never followed, since a redirect would carry the routing key to whatever
    // host it names; the verdict says "check PAGERDUTY_EVENTS_URL" instead.
    const retryAfterMs = parseRetryAfter(answer.headers['retry-after'], Date.now());
    result = {
      ...classifyResponse(answer.status, answer.body),
      statusCode: answer.status,
      latencyMs: 0,
      onWire: true,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    };
  } else {
    result = { ...classifyResponse(undefined, '', answer.error), latencyMs: 0, onWire: answer.onWire };
  }
  result.latencyMs = Math.round(performance.now() - started);
  // In case an endpoint echoed the request body.
  if (!result.ok) result.message = scrubSecrets(result.message, [secret]);
  return result;
}

/** A verdict for an event that was not sent at all (latency 0, no status). */
function notSent(reason: DeliveryFailureReason, message: string): SendResult {
  return { ok: false, retryable: false, reason, message, latencyMs: 0, onWire: false };
}

/**
 * Sends one alert event. Never throws: every outcome is a {@link SendResult} whose `retryable` and `reason` come from
 * `classifyResponse`, plus the status, the latency and PagerDuty's `Retry-After` if any.
 *
 * Before sending, the event (with its routing key) is checked against the bridge's Events v2 schema; a failure is a
 * bug, answered as a non-retryable verdict naming the field, never sent to earn a 400. An empty routing key is not
 * sent either (reason `auth`).
 *
 * @example
 * const result = await sendEvent({ url: config.eventsUrl, routingKey: route.routingKey, event, timeoutMs: 2_000, signal });
 * if (!result.ok && result.retryable) scheduleRetry(result.retryAfterMs);
 */
async function sendEvent(options: SendEventOptions): Promise<SendResult> {
  const secret = options.routingKey.reveal();
  if (secret.trim() === '') return notSent(DeliveryFailureReason.AUTH, 'no routing key for this event: not sent');
  const body = { routing_key: secret, ...options.event };
  const problems = eventProblems(body);
  if (problems.length > 0) {
    const keyProblem = problems.some((problem) => problem.startsWith('routing_key'));
    return notSent(
      keyProblem ? DeliveryFailureReason.AUTH : DeliveryFailureReason.CLIENT,
      `not sent: the event fails the Events v2 schema (a bug in the bridge or its configuration): ${problems.join('; ')}`,
    );
  }
  return post(options.url, body, secret, options);
}

/**
 * The Change Events URL that goes with an alert enqueue URL: `…/v2/enqueue` → `…/v2/change/enqueue` on the same host
 * (so the EU region and test servers work without another setting).
 *
 * @throws ConfigError when the URL is not a URL or its path does not end in `/v2/enqueue`.
 *
 * @example
 * changeEventsUrl('https://events.eu.pagerduty.com/v2/enqueue'); // 'https://events.eu.pagerduty.com/v2/change/enqueue'
 */
function changeEventsUrl(eventsUrl: string): string {
  let url: URL;
  try {
    url = new URL(eventsUrl);
  } catch {
    throw new ConfigError([`PAGERDUTY_EVENTS_URL ${JSON.stringify(eventsUrl)} is not a URL`]);
  }
  const path = url.pathname.replace(/\/+$/, '');
  if (path.endsWith(CHANGE_EVENTS_PATH)) return url.toString();
  if (!path.endsWith(ALERT_EVENTS_PATH)) {
    throw new ConfigError([
      `PAGERDUTY_EVENTS_URL path ${url.pathname} does not end in ${ALERT_EVENTS_PATH}: cannot derive the Change Events URL`,
    ]);
  }
  url.pathname = path.slice(0, -ALERT_EVENTS_PATH.length) + CHANGE_EVENTS_PATH;
  return url.toString();
}

/**
 * Sends one Change Event (reference §1.3) to the change URL derived from `url`. The summary is cut to 1024 code
 * points like an alert's; change events cannot go to ruleset (`R…`) keys, which PagerDuty answers with a 4xx.
 *
 * @example
 * await sendChangeEvent({ url: config.eventsUrl, routingKey, timeoutMs: 2_000,
 *   event: { payload: { summary: 'HighCPU fired and resolved before delivery', source: 'arms' } } });
 */
async function sendChangeEvent(options: SendChangeEventOptions): Promise<SendResult> {
  const secret = options.routingKey.reveal();
  if (secret.trim() === '')
    return notSent(DeliveryFailureReason.AUTH, 'no routing key for this change event: not sent');
  let url: string;
  try {
    url = changeEventsUrl(options.url);
  } catch (error) {
    return notSent(DeliveryFailureReason.CLIENT, (error as Error).message);
  }
  const { payload, links } = options.event;
  const summary = truncateCodePoints(payload.summary, SUMMARY_MAX_CODE_POINTS).text;
  const body = { routing_key: secret, payload: { ...payload, summary }, ...(links ? { links } : {}) };
  return post(url, body, secret, options);
}

export type { SendChangeEventOptions, SendEventOptions };
export { changeEventsUrl, sendChangeEvent, sendEvent };
