import { describe, expect, it } from 'vitest';
import { mayProbe, nextProbeAt, probeIntervalMs, recordFailure, takeProbe } from '../../../shared/delivery/circuit';

const TIMING = { baseMs: 1_000, maxMs: 5_000 };
const T0 = 1_000_000;
const failure = (overrides: Partial<{ now: number; probe: boolean; error: string }> = {}) => ({
  now: T0,
  error: 'server: PagerDuty answered 500',
  route: 'default',
  probe: false,
  ...overrides,
});

describe('Function: recordFailure', () => {
  it('opens a closed circuit, first probe one base interval later', () => {
    expect(recordFailure(undefined, failure(), TIMING)).toEqual({
      openedAt: T0,
      failedProbes: 0,
      nextProbeAt: T0 + 1_000,
      probeUntil: 0,
      lastError: 'server: PagerDuty answered 500',
      route: 'default',
    });
  });

  it('leaves an open circuit alone when a send already in flight fails', () => {
    const open = recordFailure(undefined, failure(), TIMING);
    expect(recordFailure(open, failure({ now: T0 + 10 }), TIMING)).toBe(open);
  });

  it.each([
    { failedProbes: 1, interval: 2_000 },
    { failedProbes: 2, interval: 4_000 },
    { failedProbes: 3, interval: 5_000 },
    { failedProbes: 30, interval: 5_000 },
  ])('after $failedProbes failed probes the next is $interval ms later (capped)', ({ failedProbes, interval }) => {
    // Prepare
    let circuit = recordFailure(undefined, failure(), TIMING);
    // Act
    for (let probe = 1; probe <= failedProbes; probe++) {
      circuit = recordFailure(takeProbe(circuit, T0, 2_500), failure({ now: T0, probe: true }), TIMING);
    }
    // Assess
    expect(circuit.failedProbes).toBe(failedProbes);
    expect(circuit.nextProbeAt).toBe(T0 + interval);
    expect(probeIntervalMs(failedProbes, TIMING)).toBe(interval);
  });
});

describe('Function: mayProbe', () => {
  it.each([
    { case: 'before the interval', at: T0 + 999, taken: false, may: false },
    { case: 'at the interval', at: T0 + 1_000, taken: false, may: true },
    { case: 'while another probe is in flight', at: T0 + 1_500, taken: true, may: false },
    { case: 'after the other probe’s lease', at: T0 + 3_501, taken: true, may: true },
  ])('$case', ({ at, taken, may }) => {
    const open = recordFailure(undefined, failure(), TIMING);
    const circuit = taken ? takeProbe(open, T0 + 1_000, 2_500) : open;
    expect(mayProbe(circuit, at)).toBe(may);
    if (!may) expect(nextProbeAt(circuit)).toBeGreaterThan(at);
  });
});
