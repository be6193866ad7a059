/** The mark a cut string ends with, like Alertmanager's `TruncateInRunes`. */
const ELLIPSIS = '…';

/**
 * Cuts `text` to at most `max` Unicode code points, ending a cut text with `…` (so `max - 1` code points survive).
 *
 * Counting code points (not UTF-16 units) never splits a surrogate pair, so an emoji is kept whole or dropped whole;
 * ARMS text is often Chinese, which is one code point per character either way (reference §1.6).
 *
 * @example
 * truncateCodePoints('数据库连接失败', 4); // { text: '数据库…', cut: true, length: 7 }
 */
function truncateCodePoints(text: string, max: number): { text: string; cut: boolean; length: number } {
  // Fast path: a string of at most `max` UTF-16 units has at most `max` code points.
  if (text.length <= max) return { text, cut: false, length: text.length };
  const codePoints = Array.from(text);
  if (codePoints.length <= max) return { text, cut: false, length: codePoints.length };
  return { text: codePoints.slice(0, Math.max(0, max - 1)).join('') + ELLIPSIS, cut: true, length: codePoints.length };
}

export { ELLIPSIS, truncateCodePoints };
