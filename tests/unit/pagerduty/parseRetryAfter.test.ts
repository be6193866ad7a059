import { describe, expect, it } from 'vitest';
import { parseRetryAfter } from '../../../shared/pagerduty/parseRetryAfter';

const NOW = Date.parse('Wed, 21 Oct 2015 07:27:00 GMT');

describe('Function: parseRetryAfter', () => {
  it.each([
    { value: '30', expected: 30_000 },
    { value: ' 0 ', expected: 0 },
    { value: 'Wed, 21 Oct 2015 07:28:00 GMT', expected: 60_000 },
    { value: 'Wed, 21 Oct 2015 07:26:00 GMT', expected: 0 },
    { value: '1.5', expected: undefined },
    { value: '-5', expected: undefined },
    { value: 'soon', expected: undefined },
    { value: '', expected: undefined },
    { value: null, expected: undefined },
    { value: undefined, expected: undefined },
  ])('$value → $expected', ({ value, expected }) => {
    // Act / Assess
    expect(parseRetryAfter(value, NOW)).toBe(expected);
  });
});
