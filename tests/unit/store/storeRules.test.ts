import { describe, expect, it } from 'vitest';
import { DeliveryStatus } from '../../../shared/constants';
import type { DeliveryRecord } from '../../../shared/store/DeliveryRecord';
import { dueAmong, dueTimeOf, followsVersion, isDue, summaryOf } from '../../../shared/store/storeRules';
import { deliveryRecord } from '../../support/deliveryRecords';

const AT = 1_000_000;

function record(key: string, overrides: Partial<DeliveryRecord> = {}): DeliveryRecord {
  return { ...deliveryRecord(key, AT), ...overrides };
}

describe('Module: storeRules', () => {
  describe('Function: dueTimeOf', () => {
    it.each([
      [DeliveryStatus.PENDING, { nextAttemptAt: AT + 5 }, AT + 5],
      [DeliveryStatus.PENDING, { nextAttemptAt: undefined }, 0],
      [DeliveryStatus.RETRY, { nextAttemptAt: AT + 7 }, AT + 7],
      [DeliveryStatus.SENDING, { leaseUntil: AT + 30 }, AT + 30],
      [DeliveryStatus.SENDING, { leaseUntil: undefined }, 0],
      [DeliveryStatus.DELIVERED, { nextAttemptAt: AT }, undefined],
      [DeliveryStatus.DEAD, { nextAttemptAt: AT }, undefined],
      [DeliveryStatus.SUPERSEDED, { leaseUntil: AT }, undefined],
    ])('%s with %o is due at %s', (status, fields, expected) => {
      // Prepare
      const row = record('k', { status, ...fields });

      // Act
      const dueAt = dueTimeOf(row);

      // Assess
      expect(dueAt).toBe(expected);
      expect(isDue(row, AT + 100)).toBe(expected !== undefined && expected <= AT + 100);
    });
  });

  describe('Function: dueAmong', () => {
    it('returns the live rows due by the time given, oldest-created first, at most the limit', () => {
      // Prepare
      const rows = [
        record('late', { nextAttemptAt: AT + 50, createdAt: 1 }),
        record('b', { nextAttemptAt: AT, createdAt: 3 }),
        record('a', { nextAttemptAt: AT - 10, createdAt: 2 }),
        record('expired', { nextAttemptAt: AT, createdAt: 0, expiresAt: AT }),
        record('done', { status: DeliveryStatus.DELIVERED, createdAt: 0 }),
        record('c', { nextAttemptAt: AT, createdAt: 4 }),
      ];

      // Act
      const due = dueAmong(rows, AT, AT, 2);
      const within = dueAmong(rows, AT, AT + 50, 10);

      // Assess
      expect(due.map((row) => row.deliveryKey)).toEqual(['a', 'b']);
      expect(within.map((row) => row.deliveryKey)).toEqual(['late', 'a', 'b', 'c']);
    });
  });

  describe('Function: summaryOf', () => {
    it('counts the waiting rows by status and dates the oldest', () => {
      // Prepare
      const rows = [
        record('p', { createdAt: 5 }),
        record('r', { status: DeliveryStatus.RETRY, createdAt: 3 }),
        record('s', { status: DeliveryStatus.SENDING, createdAt: 9 }),
        record('d', { status: DeliveryStatus.DELIVERED, createdAt: 1 }),
      ];

      // Act
      const summary = summaryOf(rows);

      // Assess
      expect(summary).toEqual({
        waiting: { [DeliveryStatus.PENDING]: 1, [DeliveryStatus.RETRY]: 1, [DeliveryStatus.SENDING]: 1 },
        oldestCreatedAt: 3,
      });
      expect(summaryOf([])).toEqual({ waiting: {}, oldestCreatedAt: undefined });
    });
  });

  describe('Function: followsVersion', () => {
    it.each([
      ['version 1 where no row is', undefined, 1, true],
      ['version 1 over an expired row', { version: 4, expiresAt: AT }, 1, true],
      ['version 1 over a live row', { version: 4, expiresAt: AT + 1 }, 1, false],
      ['version N over a live N - 1', { version: 4, expiresAt: AT + 1 }, 5, true],
      ['version N over a live N - 2', { version: 3, expiresAt: AT + 1 }, 5, false],
      ['version N over an expired N - 1', { version: 4, expiresAt: AT }, 5, false],
      ['version N where no row is', undefined, 5, false],
    ])('%s: %s', (_, existing, version, expected) => {
      // Act & Assess
      expect(followsVersion(existing, version, AT)).toBe(expected);
    });
  });
});
