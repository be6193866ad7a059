import { describe, expect, it } from 'vitest';
import { DeliveryStatus } from '../../../shared/constants';
import {
  markDead,
  markDelivered,
  markPending,
  markRetry,
  markSending,
  markSuperseded,
  unleased,
  withChanges,
} from '../../../shared/delivery/transitions';
import type { DeliveryRecord } from '../../../shared/store/DeliveryRecord';
import { deliveryRecord } from '../../support/deliveryRecords';

const CREATED = Date.parse('2026-03-01T12:00:00.000Z');
const NOW = CREATED + 5_000;

/** A record read from the store: version 3, two attempts so far, a due time, a lease and a last error. */
function stored(overrides: Partial<DeliveryRecord> = {}): DeliveryRecord {
  return deliveryRecord('k1', CREATED, {
    status: DeliveryStatus.RETRY,
    version: 3,
    attempts: 2,
    nextAttemptAt: CREATED + 1_000,
    leaseUntil: CREATED + 2_000,
    lastError: 'server: 500',
    ...overrides,
  });
}

describe('Functions: the state changes of a delivery record', () => {
  it.each([
    {
      name: 'markSending',
      change: (r: DeliveryRecord) => markSending(r, NOW, 30_000),
      expected: { status: DeliveryStatus.SENDING, attempts: 2, leaseUntil: NOW + 30_000, lastError: 'server: 500' },
    },
    {
      name: 'markDelivered',
      change: (r: DeliveryRecord) => markDelivered(r, NOW),
      expected: { status: DeliveryStatus.DELIVERED, attempts: 3, deliveredAt: NOW, lastError: undefined },
    },
    {
      name: 'markRetry',
      change: (r: DeliveryRecord) => markRetry(r, NOW, 'server: 503', 7_000),
      expected: { status: DeliveryStatus.RETRY, attempts: 3, nextAttemptAt: NOW + 7_000, lastError: 'server: 503' },
    },
    {
      name: 'markDead',
      change: (r: DeliveryRecord) => markDead(r, NOW, 'client: 400'),
      expected: { status: DeliveryStatus.DEAD, attempts: 3, lastError: 'client: 400' },
    },
    {
      name: 'markDead, the attempt never sent',
      change: (r: DeliveryRecord) => markDead(r, NOW, 'too old', false),
      expected: { status: DeliveryStatus.DEAD, attempts: 2, lastError: 'too old' },
    },
    {
      name: 'markPending',
      change: (r: DeliveryRecord) => markPending(r, NOW),
      expected: { status: DeliveryStatus.PENDING, attempts: 2, nextAttemptAt: NOW },
    },
    {
      name: 'markPending, due later',
      change: (r: DeliveryRecord) => markPending(r, NOW, NOW + 60_000),
      expected: { status: DeliveryStatus.PENDING, attempts: 2, nextAttemptAt: NOW + 60_000 },
    },
  ])('$name: the next status, its attempts and times, version + 1, updatedAt now', ({ change, expected }) => {
    // Prepare
    const before = stored();
    const copy = structuredClone(before);

    // Act
    const after = change(before);

    // Assess
    expect(after).toMatchObject({ ...expected, version: 4, updatedAt: NOW });
    // What the change is not about stays as it was; the record read is left untouched (the store compares it).
    expect(after).toMatchObject({
      deliveryKey: 'k1',
      createdAt: CREATED,
      event: before.event,
      dedupKey: before.dedupKey,
    });
    expect(before).toEqual(copy);
  });

  it.each([
    { name: 'markSending', change: (r: DeliveryRecord) => markSending(r, NOW, 30_000), kept: ['leaseUntil'] },
    { name: 'markDelivered', change: (r: DeliveryRecord) => markDelivered(r, NOW), kept: [] },
    { name: 'markRetry', change: (r: DeliveryRecord) => markRetry(r, NOW, 'e', 1), kept: ['nextAttemptAt'] },
    { name: 'markDead', change: (r: DeliveryRecord) => markDead(r, NOW, 'e'), kept: [] },
    { name: 'markSuperseded', change: (r: DeliveryRecord) => markSuperseded(r, NOW, 'stale'), kept: [] },
    { name: 'markPending', change: (r: DeliveryRecord) => markPending(r, NOW), kept: ['nextAttemptAt'] },
  ])('$name drops the old due time and lease unless it sets its own ($kept)', ({ change, kept }) => {
    // Act
    const after = change(stored());

    // Assess
    for (const field of ['nextAttemptAt', 'leaseUntil'] as const) {
      if (kept.includes(field)) expect(after[field]).toBeGreaterThanOrEqual(NOW);
      else expect(after).not.toHaveProperty(field);
    }
  });
});

describe('Function: markSuperseded', () => {
  it.each([
    { status: DeliveryStatus.SENDING, mayHaveBeenSent: undefined, attempts: 3, why: 'stopped while SENDING: counted' },
    { status: DeliveryStatus.PENDING, mayHaveBeenSent: undefined, attempts: 2, why: 'never taken for sending' },
    { status: DeliveryStatus.RETRY, mayHaveBeenSent: undefined, attempts: 2, why: 'waiting for a retry' },
    { status: DeliveryStatus.SENDING, mayHaveBeenSent: false, attempts: 2, why: 'SENDING, the caller knows not sent' },
    { status: DeliveryStatus.PENDING, mayHaveBeenSent: true, attempts: 3, why: 'the caller knows it may be out' },
  ])('$why → attempts $attempts', ({ status, mayHaveBeenSent, attempts }) => {
    // Act
    const after = markSuperseded(stored({ status }), NOW, 'resolved before it was sent', mayHaveBeenSent);

    // Assess
    expect(after).toMatchObject({
      status: DeliveryStatus.SUPERSEDED,
      attempts,
      lastError: 'resolved before it was sent',
      version: 4,
      updatedAt: NOW,
    });
  });
});

describe('Function: unleased', () => {
  it('queues a claim for the relay, due now, without its lease, in the same version', () => {
    // Prepare
    const claimed = stored({ status: DeliveryStatus.SENDING, nextAttemptAt: undefined, leaseUntil: NOW + 30_000 });

    // Act
    const queued = unleased(claimed, NOW);

    // Assess
    expect(queued).toEqual({ ...claimed, status: DeliveryStatus.PENDING, nextAttemptAt: NOW, leaseUntil: undefined });
    expect(queued).not.toHaveProperty('leaseUntil');
    expect(queued.version).toBe(claimed.version);
    expect(claimed.status).toBe(DeliveryStatus.SENDING);
  });
});

describe('Function: withChanges', () => {
  it.each([
    { name: 'an existing key changed', changes: { status: DeliveryStatus.DRY_RUN } },
    { name: 'a key added', changes: { status: DeliveryStatus.SENDING, leaseUntil: NOW } },
  ])('gives a new record with $name, the original untouched', ({ changes }) => {
    // Prepare
    const record = stored({ leaseUntil: undefined });
    const copy = structuredClone(record);

    // Act
    const changed = withChanges(record, changes);

    // Assess
    expect(changed).toEqual({ ...record, ...changes });
    expect(changed).not.toBe(record);
    expect(record).toEqual(copy);
  });
});
