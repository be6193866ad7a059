/**
 * `Retry-After` (RFC 9110 §10.2.3: delay-seconds or an HTTP-date) in milliseconds, or undefined when absent or
 * unreadable. PagerDuty does not document the header on Events API 429s (reference §1.5); when it does send one,
 * the outbox waits at least that long.
 *
 * @example
 * parseRetryAfter('30', Date.now()); // 30000
 * parseRetryAfter('Wed, 21 Oct 2015 07:28:00 GMT', Date.parse('Wed, 21 Oct 2015 07:27:00 GMT')); // 60000
 */
function parseRetryAfter(value: string | null | undefined, now: number): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // An HTTP-date always names a weekday or month; without this, Date.parse would also accept bare numbers like "1.5".
  if (!/[a-z]/i.test(text)) return undefined;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

export { parseRetryAfter };
