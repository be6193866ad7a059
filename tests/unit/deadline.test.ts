import { describe, expect, it } from 'vitest';
import { Deadline } from '../../shared/deadline';

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

  describe('Method: reserving', () => {
    it.each([
      { budget: 4_000, reserve: 1_750, left: 2_250 },
      { budget: 4_000, reserve: 100, left: 3_900 },
      // A deadline shorter than the reserve still lets the call run, on half of what is left.
      { budget: 500, reserve: 1_750, left: 250 },
      { budget: 0, reserve: 100, left: 0 },
    ])('$budget ms less $reserve ms leaves $left ms', ({ budget, reserve, left }) => {
      const clock = 1_000;
      expect(new Deadline(budget, () => clock).reserving(reserve).remainingMs()).toBe(left);
    });
  });
});
