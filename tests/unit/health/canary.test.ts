import { describe, expect, it } from 'vitest';
import { readCallback } from '../../../shared/alerts/readCallback';
import { deliveryKeyOf } from '../../../shared/delivery/deliveryKey';
import { canaryCallback, canaryDeliveryKey, canaryFingerprint } from '../../../shared/health/canary';

const LIMITS = { maxBodyBytes: 8 * 1024 * 1024, maxAlerts: 5_000, maxJsonDepth: 32 };
const STARTS_AT = Date.parse('2026-03-01T12:00:00.000Z');

/** The one alert of a canary body, as the webhook reads it. */
function readCanary(body: string) {
  const reading = readCallback(Buffer.from(body), 'application/json', LIMITS);
  if (reading.kind !== 'callback') throw new Error(`expected a callback, got ${reading.kind}`);
  expect(reading.group.alerts).toHaveLength(1);
  expect(reading.group.rejected).toEqual([]);
  return reading.group.alerts[0];
}

describe('Function: canaryCallback', () => {
  it('is a valid ARMS callback of one info alert BridgeCanary labelled bridge_canary="true"', () => {
    // Act
    const alert = readCanary(canaryCallback(STARTS_AT));

    // Assess
    expect(alert).toMatchObject({
      status: 'firing',
      identity: canaryFingerprint(STARTS_AT),
      identitySource: 'fingerprint',
      startsAt: STARTS_AT,
      severity: 'info',
      labels: { alertname: 'BridgeCanary', bridge_canary: 'true', severity: 'info' },
    });
  });

  it('resolves the same alert and occurrence', () => {
    // Act
    const alert = readCanary(canaryCallback(STARTS_AT, STARTS_AT + 60_000));

    // Assess
    expect(alert).toMatchObject({
      status: 'resolved',
      identity: canaryFingerprint(STARTS_AT),
      startsAt: STARTS_AT,
      endsAt: STARTS_AT + 60_000,
    });
  });

  it('gives every canary a fresh identity and occurrence, hence a new delivery key', () => {
    // Act
    const first = readCanary(canaryCallback(STARTS_AT));
    const next = readCanary(canaryCallback(STARTS_AT + 3_600_000));

    // Assess
    expect(next?.identity).not.toBe(first?.identity);
    expect(next?.startsAt).not.toBe(first?.startsAt);
    expect(canaryDeliveryKey(STARTS_AT)).toBe(
      deliveryKeyOf({ dedupKey: `bridge-canary-${STARTS_AT}`, action: 'trigger', occurrence: STARTS_AT }),
    );
    expect(canaryDeliveryKey(STARTS_AT + 3_600_000)).not.toBe(canaryDeliveryKey(STARTS_AT));
  });
});
