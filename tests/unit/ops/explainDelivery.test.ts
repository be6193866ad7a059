/** The rows of the table in `scripts/ops/explainDelivery.ts`, each alone, and the optional circuit capability. */
import { describe, expect, it } from 'vitest';
import { readCircuits } from '../../../scripts/ops/circuitState';
import { explainDelivery, pagerDutyAnswerOf } from '../../../scripts/ops/explainDelivery';
import { Secret } from '../../../shared/config/Secret';
import { DeliveryStatus, EventAction } from '../../../shared/constants';
import { keyIdOf } from '../../../shared/delivery/keyIdOf';
import type { DeliveryRecord } from '../../../shared/store/DeliveryRecord';
import { MemoryStore } from '../../../shared/store/MemoryStore';
import { deliveryRecord } from '../../support/deliveryRecords';

const NOW = 1_800_000_000_000;
const record = (overrides: Partial<DeliveryRecord>) => deliveryRecord('k', NOW - 60_000, overrides);
const CLIENT_400 =
  "client: PagerDuty rejected the event (400 Bad Request), not retried: Event object is invalid: 'payload.summary' is missing";

describe('Function: explainDelivery', () => {
  it.each([
    [
      'delivered',
      { status: DeliveryStatus.DELIVERED, attempts: 2, deliveredAt: NOW - 1_000 },
      /^sent: PagerDuty accepted it at .* after 2 attempts; repeat notifications of this occurrence are duplicates/,
    ],
    ['dry-run', { status: DeliveryStatus.DRY_RUN }, /^dry-run: stored and logged, never sent/],
    [
      'superseded',
      { status: DeliveryStatus.SUPERSEDED, lastError: 'resolved before its trigger was delivered' },
      /^superseded: resolved before its trigger was delivered; not sent$/,
    ],
    [
      'superseded',
      { status: DeliveryStatus.SUPERSEDED, attempts: 1, lastError: 'its resolve arrived first' },
      /an earlier attempt may have reached PagerDuty$/,
    ],
    [
      'dead',
      { status: DeliveryStatus.DEAD, attempts: 1, lastError: CLIENT_400 },
      /^dead: PagerDuty rejected the event/,
    ],
    [
      'dead',
      {
        status: DeliveryStatus.DEAD,
        attempts: 1,
        lastError: 'auth: PagerDuty answered 403 Forbidden: check the routing key',
      },
      /^dead: PagerDuty refused the routing key or the events URL/,
    ],
    [
      'dead',
      { status: DeliveryStatus.DEAD, lastError: 'no routing key for route "db"' },
      /^dead: no routing key for route "db"; fix the cause/,
    ],
    [
      'dead',
      { status: DeliveryStatus.DEAD, attempts: 20, lastError: 'server: PagerDuty answered 500 Internal Server Error' },
      /^dead: gave up after 20 attempts \(MAX_ATTEMPTS or MAX_DELIVERY_AGE_SECONDS\)/,
    ],
    [
      'waiting-for-trigger',
      { action: EventAction.RESOLVE, nextAttemptAt: NOW + 20_000 },
      /^waiting: held until .* while its trigger is being sent$/,
    ],
    [
      'retrying',
      { status: DeliveryStatus.RETRY, attempts: 3, nextAttemptAt: NOW + 30_000, lastError: 'network: no response' },
      /^waiting: next attempt at .* after 3 failed attempts$/,
    ],
    ['due', { nextAttemptAt: NOW - 1 }, /^due now: the next delivery-health run/],
    ['sending', { status: DeliveryStatus.SENDING, leaseUntil: NOW + 10_000 }, /^being sent now \(lease until /],
    ['lease-expired', { status: DeliveryStatus.SENDING, leaseUntil: NOW - 1 }, /^its sender stopped mid-send/],
  ] as const)('%s: %j', (reason, overrides, why) => {
    // Act
    const explanation = explainDelivery(record(overrides), { now: NOW });

    // Assess
    expect(explanation.reason).toBe(reason);
    expect(explanation.sent).toBe(reason === 'delivered');
    expect(explanation.why).toMatch(why);
  });

  it('circuit-open: a waiting delivery whose route the store reports paused, until when and why', () => {
    // Act
    const explanation = explainDelivery(record({ status: DeliveryStatus.RETRY, routeName: 'db', nextAttemptAt: NOW }), {
      now: NOW,
      circuit: { open: true, until: NOW + 120_000, reason: 'rate-limited: PagerDuty answered 429' },
    });

    // Assess
    expect(explanation).toMatchObject({ reason: 'circuit-open', sent: false, nextAttemptAt: NOW + 120_000 });
    expect(explanation.why).toBe(
      `waiting: circuit open on route db until ${new Date(NOW + 120_000).toISOString()} (rate-limited: PagerDuty answered 429)`,
    );
  });

  it('a closed circuit changes nothing', () => {
    // Act
    const explanation = explainDelivery(record({ nextAttemptAt: NOW - 1 }), { now: NOW, circuit: { open: false } });

    // Assess
    expect(explanation.reason).toBe('due');
  });
});

describe('Function: pagerDutyAnswerOf', () => {
  it.each([
    [CLIENT_400, { status: 400, message: "Event object is invalid: 'payload.summary' is missing" }],
    [
      'rate-limited: PagerDuty answered 429 Too Many Requests: rate limit of the routing key reached, event not ingested',
      { status: 429, message: 'rate limit of the routing key reached, event not ingested' },
    ],
    ['server: PagerDuty answered 502 Bad Gateway', { status: 502, message: 'PagerDuty answered 502 Bad Gateway' }],
    ['network: network error: fetch failed (ECONNREFUSED)', { message: 'network error: fetch failed (ECONNREFUSED)' }],
    ['resolved before its trigger was delivered', undefined],
    ['no routing key for route "db"', undefined],
    [undefined, undefined],
  ])('%j → %j', (lastError, answer) => {
    expect(pagerDutyAnswerOf(lastError)).toEqual(answer);
  });
});

describe('Function: readCircuits', () => {
  it("reads the circuit of each route's key from its key state", async () => {
    // Prepare: the default route's key has an open circuit; the store holds it under the key's id.
    const store = new MemoryStore();
    const key = new Secret('CIRCU1TR0UT1NGKEY000000000000001');
    const router = {
      select: () => ({ name: 'default', routingKey: key, mode: 'per-alert' as const }),
      byName: (name: string) =>
        name === 'default' ? { name, routingKey: key, mode: 'per-alert' as const } : undefined,
      all: () => [],
    };
    const circuit = {
      openedAt: 1,
      failedProbes: 2,
      nextProbeAt: 5_000,
      probeUntil: 0,
      lastError: 'server: 500',
      route: 'default',
    };
    await store.putKeyStates([
      { keyId: keyIdOf(key), version: 1, updatedAt: 1, expiresAt: Date.now() + 60_000, data: { circuit } },
    ]);

    // Act
    const circuits = await readCircuits(store, router as never, ['default', 'db']);

    // Assess
    expect(circuits.get('default')).toEqual({ open: true, until: 5_000, reason: 'server: 500' });
    expect(circuits.has('db')).toBe(false);
  });
});
