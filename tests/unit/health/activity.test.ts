/**
 * The counters each invocation adds for the health report. The names are spelled out, not taken from `Counters.ts`:
 * they are stored in the counter rows and read back by every later health run, so a rename is a change of the stored
 * format this test should show.
 */
import { describe, expect, it } from 'vitest';
import { type DeliverySummary, emptySummary } from '../../../shared/delivery/CallbackDelivery';
import { emptyResult, type RelayResult } from '../../../shared/delivery/relay';
import { callbackActivity, recordActivity, refusalActivity, relayActivity } from '../../../shared/health/activity';
import { Logger } from '../../../shared/logger';
import { MemoryStore } from '../../../shared/store/MemoryStore';
import { makeAlert, makeGroup } from '../../support/alerts';

const NOW = Date.parse('2026-03-01T12:00:00.000Z');

function summary(overrides: Partial<DeliverySummary> = {}): DeliverySummary {
  return { ...emptySummary(0, []), ...overrides };
}

function relayResult(overrides: Partial<RelayResult> = {}): RelayResult {
  return { ...emptyResult(), passes: 1, ...overrides };
}

const ZERO_CALLBACK = {
  callbacks: 1,
  'alerts.received': 0,
  'alerts.rejected': 0,
  'deliveries.delivered': 0,
  'deliveries.dead': 0,
  'deliveries.superseded': 0,
};

describe('Function: callbackActivity', () => {
  it.each([
    {
      why: 'a callback nothing of which was delivered: counted, its time kept, no delivery time',
      summary: summary({ received: 2, queued: 2 }),
      counts: { ...ZERO_CALLBACK, 'alerts.received': 2 },
      latest: { lastCallbackAt: NOW },
    },
    {
      why: 'delivered alerts: the delivery time too',
      summary: summary({ received: 3, delivered: 3 }),
      counts: { ...ZERO_CALLBACK, 'alerts.received': 3, 'deliveries.delivered': 3 },
      latest: { lastCallbackAt: NOW, lastDeliveredAt: NOW },
    },
    {
      why: 'rejected, dead and superseded alerts, and failures by reason',
      summary: summary({
        received: 6,
        failed: 1,
        superseded: 2,
        rejected: [{ index: 4, reason: 'no identity' }],
        failures: { server: 2, 'rate-limited': 1 },
      }),
      counts: {
        ...ZERO_CALLBACK,
        'alerts.received': 6,
        'alerts.rejected': 1,
        'deliveries.dead': 1,
        'deliveries.superseded': 2,
        'deliveries.failed.server': 2,
        'deliveries.failed.rate-limited': 1,
      },
      latest: { lastCallbackAt: NOW },
    },
  ])('$why', ({ summary, counts, latest }) => {
    // Act
    const delta = callbackActivity(summary, makeGroup(), NOW);

    // Assess
    expect(delta).toEqual({ counts, latest });
  });

  it.each([
    { watchdog: undefined, alertnames: ['Watchdog'], seen: false, why: 'no WATCHDOG_ALERTNAME: never seen' },
    { watchdog: 'Watchdog', alertnames: ['CPU high'], seen: false, why: 'another alert: not seen' },
    { watchdog: 'Watchdog', alertnames: ['CPU high', 'Watchdog'], seen: true, why: 'the Watchdog among others' },
    { watchdog: 'Watchdog', alertnames: ['watchdog'], seen: false, why: 'the name matches exactly' },
  ])('$why', ({ watchdog, alertnames, seen }) => {
    // Prepare
    const alerts = alertnames.map((alertname) => makeAlert({ labels: { alertname } }));

    // Act
    const delta = callbackActivity(summary({ received: alerts.length }), makeGroup({ alerts }), NOW, watchdog);

    // Assess
    expect(delta.latest?.watchdogSeenAt).toBe(seen ? NOW : undefined);
  });
});

describe('Function: refusalActivity', () => {
  it.each([
    { code: 'unauthorized', name: 'callbacks.rejected.unauthorized', why: 'a 401: by its code (a rotated token)' },
    { code: 'invalid_json', name: 'callbacks.rejected.invalid_json', why: 'a bad body: by its code' },
    { code: undefined, name: 'callbacks.console-test', why: 'an ARMS console test: counted apart' },
  ])('$why', ({ code, name }) => {
    expect(refusalActivity(code, NOW)).toEqual({ counts: { [name]: 1 }, latest: { lastCallbackAt: NOW } });
  });
});

describe('Function: relayActivity', () => {
  it.each([
    {
      why: 'a run that delivered: counts and the delivery time',
      result: relayResult({ due: 4, attempted: 4, delivered: 3, dead: 1, failures: { client: 1 } }),
      counts: {
        'deliveries.delivered': 3,
        'deliveries.dead': 1,
        'deliveries.superseded': 0,
        'deliveries.failed.client': 1,
      },
      latest: { lastDeliveredAt: NOW },
    },
    {
      why: 'a run that delivered nothing: no delivery time (the report would think PagerDuty took one)',
      result: relayResult({ due: 2, attempted: 2, retrying: 2, superseded: 1, failures: { network: 2 } }),
      counts: {
        'deliveries.delivered': 0,
        'deliveries.dead': 0,
        'deliveries.superseded': 1,
        'deliveries.failed.network': 2,
      },
      latest: {},
    },
  ])('$why', ({ result, counts, latest }) => {
    expect(relayActivity(result, NOW)).toEqual({ counts, latest });
  });
});

describe('Function: recordActivity', () => {
  it('adds the delta to the store, where the health run reads it back', async () => {
    // Prepare
    const store = new MemoryStore({ now: () => NOW });
    const logger = new Logger({ service: 'alert-webhook', sink: () => undefined });

    // Act
    await recordActivity(store, refusalActivity('unauthorized', NOW), 3_600, logger);
    await recordActivity(store, refusalActivity('unauthorized', NOW), 3_600, logger);

    // Assess
    const totals = await store.readCounters(NOW - 60_000);
    expect(totals.counts['callbacks.rejected.unauthorized']).toBe(2);
    expect(totals.latest.lastCallbackAt).toBe(NOW);
  });

  it('never throws when the store cannot take it: the counter is logged and dropped', async () => {
    // Prepare: a store whose counter write fails (the alert matters, the statistic does not).
    class CountersDown extends MemoryStore {
      public override async addCounters(): Promise<void> {
        throw new Error('OTSServerBusy (test fault)');
      }
    }
    const lines: string[] = [];
    const logger = new Logger({ service: 'alert-webhook', sink: (line) => lines.push(line) });

    // Act
    const recorded = recordActivity(new CountersDown(), refusalActivity(undefined, NOW), 3_600, logger);

    // Assess
    await expect(recorded).resolves.toBeUndefined();
    expect(lines.join('\n')).toContain('activity counters not recorded');
  });
});
