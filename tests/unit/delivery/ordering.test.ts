import { describe, expect, it } from 'vitest';
import { DeliveryStatus, EventAction, Severity } from '../../../shared/constants';
import { deliveryKeyOf, NO_OCCURRENCE } from '../../../shared/delivery/deliveryKey';
import { olderResolveKeyOf, orderVerdict, RESOLVED_BEFORE_DELIVERY } from '../../../shared/delivery/ordering';
import type { DeliveryRecord } from '../../../shared/store/DeliveryRecord';

const NOW = 1_000_000;
const O1 = 100_000;
const O2 = 200_000;
const marker = (latestOccurrence: number) => ({
  dedupKey: 'k',
  latestOccurrence,
  version: 1,
  updatedAt: 0,
  expiresAt: NOW * 2,
});

function trigger(overrides: Partial<DeliveryRecord> = {}): DeliveryRecord {
  return {
    deliveryKey: 't',
    dedupKey: 'k',
    occurrence: O1,
    action: EventAction.TRIGGER,
    routeName: 'default',
    status: DeliveryStatus.DELIVERED,
    version: 2,
    event: {
      event_action: 'trigger',
      dedup_key: 'k',
      payload: { summary: 's', source: 'x', severity: Severity.ERROR },
    },
    attempts: 1,
    createdAt: 0,
    updatedAt: 0,
    expiresAt: NOW * 2,
    ...overrides,
  };
}

describe('Function: orderVerdict', () => {
  it.each([
    ['a trigger with nothing known', EventAction.TRIGGER, O1, undefined, undefined, { kind: 'send' }],
    ['a trigger of the latest occurrence', EventAction.TRIGGER, O2, marker(O2), undefined, { kind: 'send' }],
    ['a trigger of a newer occurrence', EventAction.TRIGGER, O2, marker(O1), undefined, { kind: 'send' }],
    ['a trigger without startsAt', EventAction.TRIGGER, NO_OCCURRENCE, marker(O2), undefined, { kind: 'send' }],
    ['a resolve whose trigger was delivered', EventAction.RESOLVE, O1, marker(O1), trigger(), { kind: 'send' }],
    ['a resolve whose trigger the bridge never saw', EventAction.RESOLVE, O1, undefined, undefined, { kind: 'send' }],
  ])('sends %s', (_name, action, occurrence, mark, counterpart, expected) => {
    expect(orderVerdict({ action, occurrence, marker: mark, counterpart, now: NOW })).toEqual(expected);
  });

  it.each([
    ['a trigger of an older occurrence', EventAction.TRIGGER, O1, marker(O2), undefined, /older trigger would reopen/],
    [
      'a trigger whose resolve arrived first',
      EventAction.TRIGGER,
      O1,
      marker(O1),
      trigger({ action: EventAction.RESOLVE }),
      /resolve arrived first/,
    ],
  ])('supersedes %s', (_name, action, occurrence, mark, counterpart, reason) => {
    // Act
    const verdict = orderVerdict({ action, occurrence, marker: mark, counterpart, now: NOW });

    // Assess
    expect(verdict.kind).toBe('supersede');
    expect(verdict.kind === 'supersede' && verdict.reason).toMatch(reason);
  });

  it('supersedes a resolve of an older occurrence when the newer trigger may have reached PagerDuty', () => {
    // Prepare
    const newer = trigger({ occurrence: O2, status: DeliveryStatus.RETRY, attempts: 1 });

    // Act
    const verdict = orderVerdict({
      action: EventAction.RESOLVE,
      occurrence: O1,
      marker: marker(O2),
      counterpart: trigger(),
      newerTrigger: newer,
      now: NOW,
    });

    // Assess
    expect(verdict).toMatchObject({ kind: 'supersede', reason: expect.stringMatching(/would close it/) });
  });

  it.each([
    ['never sent (queued)', trigger({ occurrence: O2, status: DeliveryStatus.PENDING, attempts: 0 })],
    ['itself resolved before delivery', trigger({ occurrence: O2, status: DeliveryStatus.SUPERSEDED, attempts: 0 })],
    ['unknown to the bridge', undefined],
  ])(
    'sends a resolve of an older occurrence when the newer trigger was %s (nothing newer can be open)',
    (_name, newer) => {
      const verdict = orderVerdict({
        action: EventAction.RESOLVE,
        occurrence: O1,
        marker: marker(O2),
        counterpart: trigger(),
        newerTrigger: newer,
        now: NOW,
      });
      expect(verdict).toEqual({ kind: 'send' });
    },
  );

  it.each([DeliveryStatus.PENDING, DeliveryStatus.RETRY])(
    'supersedes a resolve and its %s trigger that was never sent (no alert event for an alert already over)',
    (status) => {
      const verdict = orderVerdict({
        action: EventAction.RESOLVE,
        occurrence: O1,
        counterpart: trigger({ status, attempts: 0 }),
        now: NOW,
      });
      expect(verdict).toEqual({ kind: 'supersede', reason: RESOLVED_BEFORE_DELIVERY, supersedeTrigger: true });
    },
  );

  it.each([DeliveryStatus.DRY_RUN, DeliveryStatus.SUPERSEDED])(
    'supersedes a resolve whose trigger ended %s unsent',
    (status) => {
      const verdict = orderVerdict({
        action: EventAction.RESOLVE,
        occurrence: O1,
        counterpart: trigger({ status, attempts: 0 }),
        now: NOW,
      });
      expect(verdict).toEqual({ kind: 'supersede', reason: RESOLVED_BEFORE_DELIVERY, supersedeTrigger: false });
    },
  );

  it('sends a resolve whose trigger was attempted but not confirmed, and stops the trigger', () => {
    const verdict = orderVerdict({
      action: EventAction.RESOLVE,
      occurrence: O1,
      counterpart: trigger({ status: DeliveryStatus.RETRY, attempts: 2 }),
      now: NOW,
    });
    expect(verdict).toEqual({ kind: 'send', stopTrigger: true });
  });

  it('sends a resolve whose trigger died after an attempt (it may have landed), stopping nothing', () => {
    const verdict = orderVerdict({
      action: EventAction.RESOLVE,
      occurrence: O1,
      counterpart: trigger({ status: DeliveryStatus.DEAD, attempts: 3 }),
      now: NOW,
    });
    expect(verdict).toEqual({ kind: 'send', stopTrigger: false });
  });

  it('defers a resolve while its trigger is being sent, until the lease ends', () => {
    const verdict = orderVerdict({
      action: EventAction.RESOLVE,
      occurrence: O1,
      counterpart: trigger({ status: DeliveryStatus.SENDING, leaseUntil: NOW + 5_000, attempts: 0 }),
      now: NOW,
    });
    expect(verdict).toEqual({ kind: 'defer', until: NOW + 5_000 });
  });

  it('treats a trigger whose lease expired mid-send as attempted', () => {
    const verdict = orderVerdict({
      action: EventAction.RESOLVE,
      occurrence: O1,
      counterpart: trigger({ status: DeliveryStatus.SENDING, leaseUntil: NOW - 1, attempts: 0 }),
      now: NOW,
    });
    expect(verdict).toEqual({ kind: 'send', stopTrigger: true });
  });

  it.each([
    ['on the wire (live lease)', DeliveryStatus.SENDING, NOW + 5_000, { kind: 'defer', until: NOW + 5_000 }],
    ['SENDING under an expired lease (its sender is gone)', DeliveryStatus.SENDING, NOW - 1, { kind: 'send' }],
    ['queued for a retry', DeliveryStatus.RETRY, undefined, { kind: 'send' }],
    ['delivered', DeliveryStatus.DELIVERED, undefined, { kind: 'send' }],
    ['superseded', DeliveryStatus.SUPERSEDED, undefined, { kind: 'send' }],
  ])('judges a trigger of a newer occurrence whose older resolve is %s', (_name, status, leaseUntil, expected) => {
    // Prepare
    const olderResolve = trigger({ action: EventAction.RESOLVE, status, leaseUntil });

    // Act
    const verdict = orderVerdict({
      action: EventAction.TRIGGER,
      occurrence: O2,
      marker: marker(O1),
      olderResolve,
      now: NOW,
    });

    // Assess
    expect(verdict).toEqual(expected);
  });

  it('supersedes a trigger whose own resolve arrived first, even while the older resolve is on the wire', () => {
    const verdict = orderVerdict({
      action: EventAction.TRIGGER,
      occurrence: O2,
      marker: marker(O1),
      counterpart: trigger({ action: EventAction.RESOLVE, occurrence: O2 }),
      olderResolve: trigger({ action: EventAction.RESOLVE, status: DeliveryStatus.SENDING, leaseUntil: NOW + 5_000 }),
      now: NOW,
    });
    expect(verdict).toMatchObject({ kind: 'supersede', reason: expect.stringMatching(/resolve arrived first/) });
  });
});

describe('Function: olderResolveKeyOf', () => {
  const resolveOfO1 = deliveryKeyOf({ dedupKey: 'k', action: EventAction.RESOLVE, occurrence: O1 });

  it.each([
    ['a trigger newer than its marker', EventAction.TRIGGER, 'k', O2, marker(O1), resolveOfO1],
    ['a trigger of the marker’s occurrence', EventAction.TRIGGER, 'k', O1, marker(O1), undefined],
    ['a trigger older than its marker', EventAction.TRIGGER, 'k', O1, marker(O2), undefined],
    ['a trigger with no marker', EventAction.TRIGGER, 'k', O2, undefined, undefined],
    ['a trigger without startsAt', EventAction.TRIGGER, 'k', NO_OCCURRENCE, marker(O1), undefined],
    ['a trigger whose marker has no startsAt', EventAction.TRIGGER, 'k', O2, marker(NO_OCCURRENCE), undefined],
    ['a group trigger', EventAction.TRIGGER, 'group:v1:k', O2, marker(O1), undefined],
    ['a resolve', EventAction.RESOLVE, 'k', O2, marker(O1), undefined],
  ])('for %s', (_name, action, dedupKey, occurrence, mark, expected) => {
    expect(olderResolveKeyOf({ action, dedupKey, occurrence }, mark)).toBe(expected);
  });
});
