/**
 * The end-to-end canary (`CANARY_URL`, optional, off by default): every `CANARY_INTERVAL_SECONDS` delivery-health
 * posts a synthetic ARMS callback through the deployed webhook's HTTP trigger, exactly as ARMS would (with the first
 * of `WEBHOOK_TOKENS` as `X-Webhook-Token`), then checks in the store that its delivery row became `DELIVERED`, and
 * posts the same alert resolved so no PagerDuty incident stays open. A canary not delivered within one interval is
 * `missing`: the verdict's `canary` rule (failing). It stays `missing` until a later canary is delivered.
 *
 * The canary carries the label `bridge_canary="true"`: operators route it with a `PAGERDUTY_ROUTES` rule to a
 * low-urgency service (per-alert mode: its delivery key is looked up as a per-alert key).
 *
 * Its state (the last canary sent, whether it still awaits confirmation) is kept by the caller per instance: a cold
 * start forgets it and sends a fresh canary on its first run.
 *
 * The URL is a `Secret` (an HTTP trigger URL is the webhook's address): no result, error or log line names it.
 */
import type { Secret } from '../config/Secret';
import { DeliveryStatus } from '../constants';
import { deliveryKeyOf } from '../delivery/deliveryKey';
import type { DeliveryStore } from '../store/DeliveryStore';

const CANARY_ALERTNAME = 'BridgeCanary';
const CANARY_LABEL = 'bridge_canary';
const FINGERPRINT_PREFIX = 'bridge-canary-';
const USER_AGENT = 'arms-pagerduty-bridge-canary';

/** What the report says about the canary. */
interface CanaryResult {
  /**
   * `off`: configured but not run (dry-run); `sent`: a canary is on its way (not yet confirmed, within its interval);
   * `delivered`: the last canary reached PagerDuty; `missing`: a canary was not delivered within one interval.
   */
  state: 'off' | 'sent' | 'delivered' | 'missing';
  /** ISO time the last canary was sent (its `startsAt`). */
  lastSentAt?: string;
  /** Why it is missing, or what went wrong with a request. Never names the URL. */
  detail?: string;
}

/** Carried from one run to the next by the caller (per instance). */
interface CanaryState {
  /** Epoch ms the last canary was sent: its `startsAt` and its identity. */
  lastSentAt?: number;
  /** True while the last canary is neither confirmed delivered and resolved, nor given up as missing. */
  awaiting: boolean;
  /** True from a missing canary until a later one is delivered. */
  missing: boolean;
}

const INITIAL_CANARY_STATE: CanaryState = { awaiting: false, missing: false };

/** `bridge-canary-<startsAt epoch ms>`: a new identity per canary, so each is a new occurrence. */
function canaryFingerprint(startsAt: number): string {
  return `${FINGERPRINT_PREFIX}${startsAt}`;
}

/** The delivery key of a canary's trigger (per-alert: the fingerprint is the dedup key, `startsAt` the occurrence). */
function canaryDeliveryKey(startsAt: number): string {
  return deliveryKeyOf({ dedupKey: canaryFingerprint(startsAt), action: 'trigger', occurrence: startsAt });
}

/**
 * The canary as an ARMS `$alertmanager_content` callback: one alert `BridgeCanary`, severity info, label
 * `bridge_canary="true"`, fingerprint `bridge-canary-<startsAt>`. `resolvedAt` makes it the resolve of the same alert.
 *
 * @example
 * canaryCallback(Date.now()); // '{"receiver":"bridge-canary","status":"firing","alerts":[…]}'
 */
function canaryCallback(startsAt: number, resolvedAt?: number): string {
  const status = resolvedAt === undefined ? 'firing' : 'resolved';
  const labels = { alertname: CANARY_ALERTNAME, severity: 'info', [CANARY_LABEL]: 'true' };
  const annotations = {
    summary: 'Bridge canary: a synthetic alert checking the ARMS → PagerDuty bridge end to end; no action needed',
  };
  const alert = {
    status,
    labels,
    annotations,
    startsAt: new Date(startsAt).toISOString(),
    ...(resolvedAt === undefined ? {} : { endsAt: new Date(resolvedAt).toISOString() }),
    fingerprint: canaryFingerprint(startsAt),
  };
  return JSON.stringify({
    receiver: 'bridge-canary',
    status,
    alerts: [alert],
    groupLabels: { alertname: CANARY_ALERTNAME },
    commonLabels: labels,
    commonAnnotations: annotations,
    externalURL: '',
  });
}

/** The socket error's code (`ECONNREFUSED`…) or the error's name: never its message (it could quote the URL). */
function networkCode(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown } } | undefined)?.cause;
  if (typeof cause?.code === 'string' && /^[A-Z0-9_]+$/.test(cause.code)) return cause.code;
  return error instanceof Error ? error.name : 'error';
}

/** POSTs one callback to the webhook. Never throws; a redirect counts as a failure (it is not followed). */
async function postCallback(
  url: Secret,
  token: Secret | undefined,
  body: string,
  timeoutMs: number,
): Promise<{ ok: boolean; error?: string }> {
  const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': USER_AGENT };
  if (token !== undefined) headers['x-webhook-token'] = token.reveal();
  const timeout = AbortSignal.timeout(timeoutMs);
  try {
    const response = await fetch(url.reveal(), { method: 'POST', headers, body, redirect: 'manual', signal: timeout });
    await response.body?.cancel().catch(() => undefined);
    return response.ok ? { ok: true } : { ok: false, error: `the webhook answered ${response.status}` };
  } catch (error) {
    if (timeout.aborted) return { ok: false, error: `the webhook did not answer within ${timeoutMs} ms` };
    return { ok: false, error: `the webhook could not be reached: ${networkCode(error)}` };
  }
}

/** Options of {@link runCanary}. */
interface RunCanaryOptions {
  /** `CANARY_URL`. */
  url: Secret;
  /** The first of `WEBHOOK_TOKENS`, sent as `X-Webhook-Token`; none when the webhook runs unauthenticated. */
  token?: Secret;
  now: number;
  /** What the previous run left ({@link INITIAL_CANARY_STATE} after a cold start). */
  state: CanaryState;
  /** `CANARY_INTERVAL_SECONDS`. */
  intervalSeconds: number;
  store: DeliveryStore;
  /** Budget of each request to the webhook. */
  timeoutMs: number;
}

/**
 * One run of the canary: checks the canary in flight (resolving it once delivered, or calling it missing after one
 * interval), then sends a new one when due. Never throws.
 *
 * @example
 * const { result, state } = await runCanary({ url, token, now: Date.now(), state: previous, intervalSeconds: 3600,
 *   store, timeoutMs: 8_000 });
 */
async function runCanary(options: RunCanaryOptions): Promise<{ result: CanaryResult; state: CanaryState }> {
  const { url, token, now, store, timeoutMs } = options;
  const intervalMs = options.intervalSeconds * 1000;
  let { lastSentAt, awaiting, missing } = options.state;
  let deliveredNow = false;
  let detail: string | undefined;

  if (awaiting && lastSentAt !== undefined) {
    const sentAt = lastSentAt;
    const key = canaryDeliveryKey(sentAt);
    let status: string | undefined;
    let storeError = false;
    try {
      status = (await store.get([key])).get(key)?.status;
    } catch {
      storeError = true;
    }
    if (status === DeliveryStatus.DELIVERED) {
      deliveredNow = true;
      missing = false;
      const resolved = await postCallback(url, token, canaryCallback(sentAt, now), timeoutMs);
      // Until the resolve is accepted, the next run tries again (the webhook dedupes a repeat).
      if (resolved.ok) awaiting = false;
      else detail = `delivered, but its resolve was not accepted: ${resolved.error}`;
    } else if (now - sentAt > intervalMs) {
      missing = true;
      awaiting = false;
      if (storeError) detail = 'the store could not be read to check it';
      else if (status === undefined) detail = 'the webhook recorded no delivery for it';
      else detail = `its delivery is ${status}`;
      // Withdraw it: a resolve before its trigger was delivered supersedes the trigger, so it never pages late.
      await postCallback(url, token, canaryCallback(sentAt, now), timeoutMs);
    }
  }

  let sentNow = false;
  if (!awaiting && (lastSentAt === undefined || now - lastSentAt >= intervalMs)) {
    const sent = await postCallback(url, token, canaryCallback(now), timeoutMs);
    lastSentAt = now;
    awaiting = true;
    sentNow = true;
    // Not accepted: nothing is recorded, so it goes missing after one interval; say why already.
    if (!sent.ok) detail = `the canary was not accepted: ${sent.error}`;
  }

  if (missing && detail === undefined) detail = 'an earlier canary went missing; no later one delivered yet';
  let state: CanaryResult['state'];
  if (missing) state = 'missing';
  else if (deliveredNow || (!awaiting && !sentNow)) state = 'delivered';
  else state = 'sent';
  const result: CanaryResult = {
    state,
    ...(lastSentAt === undefined ? {} : { lastSentAt: new Date(lastSentAt).toISOString() }),
    ...(detail === undefined ? {} : { detail }),
  };
  return { result, state: { lastSentAt, awaiting, missing } };
}

export type { CanaryResult, CanaryState, RunCanaryOptions };
export { canaryCallback, canaryDeliveryKey, canaryFingerprint, INITIAL_CANARY_STATE, runCanary };
