import { describe, expect, it } from 'vitest';
import { relayBlockMax } from '../../../shared/delivery/relayBlock';

describe('Function: relayBlockMax', () => {
  it.each([
    { leaseMs: 30_000, sendTimeoutMs: 2_500, block: 192, why: 'defaults: six rounds of 32 fit in half the lease' },
    { leaseMs: 900_000, sendTimeoutMs: 2_500, block: 200, why: 'never more than one BatchWriteRow leases' },
    { leaseMs: 5_000, sendTimeoutMs: 2_500, block: 32, why: 'a short lease: one round' },
    { leaseMs: 5_000, sendTimeoutMs: 30_000, block: 32, why: 'a send longer than the lease: still one round' },
    { leaseMs: 20_000, sendTimeoutMs: 5_000, block: 64, why: 'two rounds' },
  ])('$why → $block', ({ leaseMs, sendTimeoutMs, block }) => {
    expect(relayBlockMax(leaseMs, sendTimeoutMs)).toBe(block);
  });
});
