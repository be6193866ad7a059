/**
 * The webhook's business logic, after the middlewares have adapted FC's event and authenticated the caller: read the callback, deliver its alerts, answer. Reads as the steps it takes; each lives in
 * `shared/`.
 */
import { readCallback } from '../../shared/alerts/readCallback';
import type { AlertGroup } from '../../shared/alerts/types';
import type { Bridge } from '../../shared/app';
import { KICK_TIMEOUT_MS, REPLAY_BODY_MAX_BYTES, STORE_ANSWER_RESERVE_MS } from '../../shared/constants';
import { Deadline } from '../../shared/deadline';
import type { CallbackActivity } from '../../shared/delivery/CallbackDelivery';
import { deliverCallback } from '../../shared/delivery/deliverCallback';
import { FailOpenTraces } from '../../shared/delivery/FailOpenTraces';
import { sendRecord } from '../../shared/delivery/sendRecord';
import { BridgeError, ErrorCode, MethodNotAllowedError } from '../../shared/errors';
import { jsonResponse } from '../../shared/fc/httpEvent';
import type { FcContext, FcHttpRequest, FcHttpResponse } from '../../shared/fc/types';
import { callbackActivity, recordActivity, refusalActivity } from '../../shared/health/activity';
import { createKicker } from '../../shared/kick/createKicker';

function createAlertWebhook(bridge: Bridge) {
  const { config, logger, router, store, gate, now } = bridge;
  // Once per instance; the FC SDK itself loads on the first kick only, off the cold start.
  const kicker = createKicker({
    functionName: config.webhook.healthFunctionName,
    endpoint: config.webhook.functionComputeEndpoint,
    credentials: config.credentials,
    logger,
  });

  // Resolves this instance sent while the store was down, recorded at its next invocation that reaches the store.
  const traces = new FailOpenTraces();

  const alertWebhook = async function alertWebhook(
    request: FcHttpRequest,
    context: FcContext,
  ): Promise<FcHttpResponse> {
    const deadline = new Deadline(config.webhook.deadlineMs, now);
    // Every store call of this invocation ends inside its deadline (deliverCallback narrows it around the claim).
    store.useDeadline(deadline.reserving(STORE_ANSWER_RESERVE_MS));
    try {
      return await answer(request, context, deadline);
    } finally {
      store.useDeadline(undefined);
    }
  };

  async function answer(request: FcHttpRequest, context: FcContext, deadline: Deadline): Promise<FcHttpResponse> {
    if (request.method !== 'POST') throw new MethodNotAllowedError(request.method);

    const reading = readCallback(request.bodyText ?? request.body, request.header('content-type'), config.webhook, {
      identityExcludedLabels: config.webhook.identityExcludedLabels,
    });
    if (reading.kind === 'console-test') {
      logger.info('ARMS console test received; nothing forwarded', { detail: reading.detail });
      await recordActivity(store, refusalActivity(undefined, now()), config.store.ttlSeconds, logger);
      return jsonResponse(200, {
        status: 'test',
        message:
          'ARMS console test received: the webhook is reachable and authenticated; nothing was sent to PagerDuty',
      });
    }

    const { group } = reading;
    // One line for the callback's rejected alerts, however many (the answer lists them too).
    if (group.rejected.length > 0) logger.warn('alerts rejected', { rejected: group.rejected });
    // Written with the callback's last outcomes when those are its last store write (one round trip), else below.
    const activity: CallbackActivity = {
      delta: (done) => callbackActivity(done, group, now(), config.health.watchdogAlertname),
      ttlSeconds: config.store.ttlSeconds,
      carried: false,
    };
    const summary = await deliverCallback(group, {
      config,
      router,
      store,
      logger,
      deadline,
      gate,
      traces,
      send: sendRecord,
      now,
      activity,
    });
    if (summary.lost === 0 && (summary.unrecordedResolves ?? 0) > 0) {
      // Delivered, but a resolve is recorded nowhere yet: this line is its durable trace (`npm run replay` records it).
      logger.error('resolves sent while the store was down: replay this callback once the store is back', {
        replay: replayOf(request, group),
        summary,
      });
    }
    if (summary.lost > 0) {
      // ARMS does not retry: this line is the last record of the callback. `npm run replay` feeds it back.
      logger.error('callback neither delivered nor stored: replay it when PagerDuty or the store is back', {
        replay: replayOf(request, group),
        summary,
      });
      throw new BridgeError('delivery and store both unavailable', 503, ErrorCode.DELIVERY_UNAVAILABLE);
    }
    logger.info('callback accepted', { format: group.format, ...summary, rejected: summary.rejected.length });
    if (!activity.carried) await recordActivity(store, activity.delta(summary), config.store.ttlSeconds, logger);
    if (summary.queued > 0) {
      // Leftovers (deadline, pacing, 429): ask FC to run delivery-health now rather than at the next tick.
      const reason = summary.failures['rate-limited'] ? 'rate-limited' : 'queued';
      await kicker.kick(reason, context, { timeoutMs: KICK_TIMEOUT_MS });
    }
    const status = summary.dryRun > 0 ? 'dry-run' : summary.queued > 0 ? 'queued' : 'accepted';
    return jsonResponse(summary.queued > 0 ? 202 : 200, { status, ...summary });
  }

  return alertWebhook;
}

/**
 * The replay field of the last-resort log line: the whole body while it is small enough for one log line (SLS caps a
 * line well under 1 MB), else the identities of its alerts, so the operator knows what to look for in ARMS.
 */
function replayOf(request: FcHttpRequest, group: AlertGroup) {
  const contentType = request.header('content-type');
  if (request.body.length <= REPLAY_BODY_MAX_BYTES) return { contentType, bodyBase64: request.body.toString('base64') };
  return {
    contentType,
    truncated: `body of ${request.body.length} bytes not logged (over ${REPLAY_BODY_MAX_BYTES}); its alerts:`,
    alerts: group.alerts.map((alert) => ({ identity: alert.identity, status: alert.status, startsAt: alert.startsAt })),
  };
}

export { createAlertWebhook };
