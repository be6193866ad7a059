/**
 * RFC 3339 timestamps → epoch milliseconds. ARMS writes 9 fractional digits (`2021-02-22T07:18:15.578000000Z`,
 * `reference/arms-and-fc.md` §1.3) and `Date.parse` is only specified for the ECMAScript date-time format (3 digits):
 * V8 happens to accept more, other engines and future versions need not. So the bridge parses the format itself.
 */

/**
 * `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`. RFC 3339 §5.6 allows `t`/`z` and (NOTE in §5.6) a space for `T`.
 * Any number of fraction digits is read; digits after the third are dropped (truncated, not rounded), so
 * `.578`, `.578000000` and `.578999999` are the same millisecond.
 */
const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,32}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/**
 * Parses an RFC 3339 timestamp to epoch milliseconds.
 *
 * @returns the instant, or undefined when the value is missing, not RFC 3339, out of range (month 13, Feb 30,
 *   second 60 …), or not after 1970-01-01T00:00:00Z: Go's zero time `0001-01-01T00:00:00Z` (ARMS's "unresolved")
 *   and the Unix epoch both mean "no time", and no real alert predates 1970.
 * @example parseTimestamp('2021-02-22T07:18:15.578000000Z') // 1613978295578
 */
function parseTimestamp(value: unknown): number | undefined {
  if (typeof value !== 'string' || value.length > 64) return undefined;
  const match = RFC3339.exec(value.trim());
  if (match === null) return undefined;
  const [, y, mo, d, h, mi, s, fraction, zulu, sign, offsetHours, offsetMinutes] = match;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  let offset = 0;
  if (zulu === undefined) {
    const oh = Number(offsetHours);
    const om = Number(offsetMinutes);
    if (oh > 23 || om > 59) return undefined;
    offset = (sign === '-' ? -1 : 1) * (oh * 60 + om) * 60_000;
  }
  const millis = Number((fraction ?? '').slice(0, 3).padEnd(3, '0'));
  const epochMs = Date.UTC(year, month - 1, day, hour, minute, second, millis) - offset;
  return Number.isFinite(epochMs) && epochMs > 0 ? epochMs : undefined;
}

export { parseTimestamp };
