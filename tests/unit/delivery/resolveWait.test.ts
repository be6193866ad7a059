import { describe, expect, it } from 'vitest';
import { RESOLVE_RECHECK_MS } from '../../../shared/constants';
import { resolveWaitUntil } from '../../../shared/delivery/resolveWait';

const NOW = Date.parse('2026-03-01T12:00:00.000Z');

describe('Function: resolveWaitUntil', () => {
  it.each([
    { leaseUntil: NOW + 30_000, until: NOW + RESOLVE_RECHECK_MS, why: 'a long lease: looked at again at the recheck' },
    { leaseUntil: NOW + 500, until: NOW + 500, why: 'the lease ends before the recheck: due when it ends' },
    { leaseUntil: NOW + RESOLVE_RECHECK_MS, until: NOW + RESOLVE_RECHECK_MS, why: 'both at once' },
    { leaseUntil: NOW - 1_000, until: NOW - 1_000, why: 'an expired lease (a crashed sender): due at once' },
  ])('$why', ({ leaseUntil, until }) => {
    expect(resolveWaitUntil(leaseUntil, NOW)).toBe(until);
  });
});
