import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { truncateCodePoints } from '../../../shared/pagerduty/truncateCodePoints';

/** `String.prototype.isWellFormed` (ES2024, outside this project's `lib`): no lone surrogate. */
function isWellFormed(text: string): boolean {
  return !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(text);
}

describe('Function: truncateCodePoints', () => {
  it.each([
    { text: 'abc', max: 3, expected: 'abc', cut: false },
    { text: 'abcd', max: 3, expected: 'ab…', cut: true },
    { text: '数据库连接失败', max: 4, expected: '数据库…', cut: true },
    { text: '🔥🔥🔥', max: 3, expected: '🔥🔥🔥', cut: false },
    { text: '🔥🔥🔥🔥', max: 3, expected: '🔥🔥…', cut: true },
    { text: '', max: 1, expected: '', cut: false },
  ])('$text to $max → $expected', ({ text, max, expected, cut }) => {
    // Act
    const result = truncateCodePoints(text, max);

    // Assess
    expect(result.text).toBe(expected);
    expect(result.cut).toBe(cut);
  });

  it('never exceeds the limit, never splits a surrogate pair, and keeps a prefix (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), fc.integer({ min: 1, max: 200 }), (text, max) => {
        const { text: result, cut } = truncateCodePoints(text, max);
        const points = Array.from(result);
        expect(points.length).toBeLessThanOrEqual(max);
        expect(isWellFormed(result)).toBe(isWellFormed(text));
        if (cut) expect(text.startsWith(result.slice(0, -1))).toBe(true);
        else expect(result).toBe(text);
      }),
    );
  });
});
