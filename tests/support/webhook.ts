/**
 * Builds the webhook's real handler chain (`functions/alert-webhook/index.ts` `handlerFor`) on a given environment,
 * capturing its log lines, so integration tests invoke exactly what FC invokes: a Buffer event in, the FC response
 * struct out.
 */
import { handlerFor as webhookFor } from '../../functions/alert-webhook/index';
import { handlerFor as healthFor } from '../../functions/delivery-health/index';
import { createBridge } from '../../shared/app';
import type { FcHttpResponse } from '../../shared/fc/types';
import type { DeliveryStore } from '../../shared/store/DeliveryStore';
import { MemoryStore } from '../../shared/store/MemoryStore';
import { fcContext, httpEvent, timerEvent } from './fcEvents';

/** A parsed JSON body; tests read whichever fields their case is about. */
// biome-ignore lint/suspicious/noExplicitAny: response bodies differ per case; each test asserts their fields.
type Json = any;

interface Harness {
  /** POSTs a body through the full chain. */
  post(body: string | Buffer, init?: Parameters<typeof httpEvent>[0]): Promise<FcHttpResponse & { json: Json }>;
  /** Runs delivery-health once on the same store. */
  tick(): Promise<Json>;
  store: DeliveryStore;
  /** Every log line both functions wrote. */
  lines: string[];
}

function webhookHarness(
  env: Record<string, string | undefined>,
  store: DeliveryStore = new MemoryStore(),
  now?: () => number,
): Harness {
  const lines: string[] = [];
  const logSink = (line: string) => lines.push(line);
  const webhook = webhookFor(createBridge('alert-webhook', env, { logSink, store, now }));
  const health = healthFor(createBridge('delivery-health', env, { logSink, store, now }));
  return {
    async post(body, init = {}) {
      const response = (await webhook(httpEvent({ ...init, body }) as never, fcContext())) as FcHttpResponse;
      return { ...response, json: JSON.parse(response.body) };
    },
    tick: () => health(timerEvent() as never, fcContext('delivery-health')),
    store,
    lines,
  };
}

export type { Harness };
export { webhookHarness };
