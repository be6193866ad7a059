import { describe, expect, it } from 'vitest';
import { Deadline } from '../../../shared/fc/deadline';

describe('Class: Deadline', () => {
  it('cuts each call to the time left', () => {
    // Prepare
    let clock = 1_000;
    const deadline = new Deadline(4_000, () => clock);

    // Act / Assess
    expect(deadline.callTimeoutMs(2_500)).toBe(2_500);
    clock += 3_000;
    expect(deadline.remainingMs()).toBe(1_000);
    expect(deadline.callTimeoutMs(2_500)).toBe(1_000);
    clock += 5_000;
    expect(deadline.expired()).toBe(true);
    expect(deadline.callTimeoutMs(2_500)).toBe(1);
  });
});
