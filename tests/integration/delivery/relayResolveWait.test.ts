/**
 * A resolve that a webhook holds behind a trigger the relay is sending (`ordering.ts`: defer) goes out in the same
 * relay run, after the trigger, within its recheck: the relay records its triggers without reading their resolves,
 * and waits for such a resolve before its run ends. Real webhook and relay on one memory store, a simulated clock
 * (the relay's waits advance it), real HTTP to the fake PagerDuty.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createBridge } from '../../../shared/app';
import { RESOLVE_RECHECK_MS } from '../../../shared/constants';
import { Deadline } from '../../../shared/deadline';
import { relayDue } from '../../../shared/delivery/relay';
import { sendRecord } from '../../../shared/delivery/sendRecord';
import { MemoryStore } from '../../../shared/store/MemoryStore';
import { fakePagerDutyPerFile } from '../../support/pagerDutyPerFile';
import { webhookHarness } from '../../support/webhook';

const ROUTING_KEY = 'RES0LVEWAITROUTINGKEY00000000001';
const sample = JSON.parse(readFileSync(new URL('../../fixtures/arms/sample.json', import.meta.url), 'utf8'));

function callback(status: 'firing' | 'resolved'): string {
  return JSON.stringify({ ...sample, status, alerts: [{ ...sample.alerts[0], status, fingerprint: 'wait-0' }] });
}

const fake = fakePagerDutyPerFile();

describe('relay: a resolve held behind a trigger the relay is sending', () => {
  it('is sent in the same run, after the trigger, within its recheck', async () => {
    // Prepare: the trigger is queued (no send fits the webhook's deadline).
    const clock = { now: Date.now() };
    const env = { PAGERDUTY_ROUTING_KEY: ROUTING_KEY, PAGERDUTY_EVENTS_URL: fake.pd.url };
    const store = new MemoryStore({ now: () => clock.now });
    const queuing = webhookHarness({ ...env, WEBHOOK_DEADLINE_MS: '500' }, store, () => clock.now);
    expect((await queuing.post(callback('firing'))).json).toMatchObject({ queued: 1 });
    const webhook = webhookHarness(env, store, () => clock.now);
    const built = createBridge('delivery-health', env, { store, now: () => clock.now, logSink: () => {} });
    if (!built.ok) throw built.error;
    const started = clock.now;
    let held: unknown;

    // Act: while the relay sends the trigger, the resolve arrives at a webhook, which holds it behind that send.
    const result = await relayDue({
      ...built.bridge,
      deadline: new Deadline(30_000, () => clock.now),
      send: async (record, key, options) => {
        if (record.action === 'trigger') held = (await webhook.post(callback('resolved'))).json;
        return sendRecord(record, key, options);
      },
      sleep: async (ms) => {
        clock.now += ms;
      },
    });

    // Assess
    expect(held).toMatchObject({ queued: 1, delivered: 0 });
    expect(result).toMatchObject({ delivered: 2, more: false });
    expect(fake.pd.events.map((event) => (event.body as { event_action: string }).event_action)).toEqual([
      'trigger',
      'resolve',
    ]);
    expect(clock.now - started).toBeLessThanOrEqual(RESOLVE_RECHECK_MS);
  });
});
