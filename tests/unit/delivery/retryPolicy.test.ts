import { describe, expect, it } from 'vitest';
import type { RetryConfig } from '../../../shared/config/config';
import { retryDueAt, shouldGiveUp } from '../../../shared/delivery/retryPolicy';

const NOW = Date.parse('2026-03-01T12:00:00.000Z');
const RETRY: RetryConfig = { maxAttempts: 20, maxAgeSeconds: 86_400, baseSeconds: 1, maxSeconds: 5 };
const DAY_MS = 86_400_000;

describe('Function: shouldGiveUp', () => {
  it.each([
    { attempts: 1, probe: false, ageMs: 0, giveUp: false, why: 'a first failure is retried' },
    { attempts: 19, probe: false, ageMs: 0, giveUp: false, why: 'one attempt short of MAX_ATTEMPTS: retried' },
    { attempts: 20, probe: false, ageMs: 0, giveUp: true, why: 'MAX_ATTEMPTS failed attempts: DEAD' },
    { attempts: 25, probe: false, ageMs: 0, giveUp: true, why: 'past MAX_ATTEMPTS (a lowered setting): DEAD' },
    { attempts: 20, probe: true, ageMs: 0, giveUp: false, why: 'a probe of an open circuit never exhausts the count' },
    { attempts: 500, probe: true, ageMs: DAY_MS - 1, giveUp: false, why: 'an outage: probes go on while young' },
    { attempts: 1, probe: false, ageMs: DAY_MS - 1, giveUp: false, why: 'just under MAX_DELIVERY_AGE_SECONDS' },
    { attempts: 1, probe: false, ageMs: DAY_MS, giveUp: true, why: 'MAX_DELIVERY_AGE_SECONDS old: DEAD' },
    { attempts: 1, probe: true, ageMs: DAY_MS, giveUp: true, why: 'only the age bounds a probe' },
  ])('$why', ({ attempts, probe, ageMs, giveUp }) => {
    // Act
    const result = shouldGiveUp({ attempts, probe }, NOW - ageMs, NOW, RETRY);

    // Assess
    expect(result).toBe(giveUp);
  });

  it('reads both bounds from the configuration', () => {
    // Prepare
    const strict: RetryConfig = { ...RETRY, maxAttempts: 2, maxAgeSeconds: 60 };

    // Assess
    expect(shouldGiveUp({ attempts: 2, probe: false }, NOW, NOW, strict)).toBe(true);
    expect(shouldGiveUp({ attempts: 1, probe: false }, NOW - 60_000, NOW, strict)).toBe(true);
    expect(shouldGiveUp({ attempts: 1, probe: false }, NOW - 59_999, NOW, strict)).toBe(false);
  });
});

describe('Function: retryDueAt', () => {
  it.each([
    { retryAfterMs: undefined, dueAt: NOW, why: 'no Retry-After: due at once (the key’s gate decides when it goes)' },
    { retryAfterMs: 0, dueAt: NOW, why: 'Retry-After 0: at once' },
    { retryAfterMs: 30_000, dueAt: NOW + 30_000, why: 'PagerDuty’s Retry-After is kept' },
    { retryAfterMs: -5_000, dueAt: NOW, why: 'a negative Retry-After never makes it due in the past' },
  ])('$why', ({ retryAfterMs, dueAt }) => {
    expect(retryDueAt(NOW, retryAfterMs)).toBe(dueAt);
  });
});
