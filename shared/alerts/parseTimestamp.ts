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

const THIRTY_DAY_MONTHS: readonly number[] = [4, 6, 9, 11];

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return THIRTY_DAY_MONTHS.includes(month) ? 30 : 31;
}

/** The instant of validated-as-text fields, or undefined when a field is out of range or it is not after 1970. */
function instantOf(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
  millis: number,
  offsetMs: number,
): number | undefined {
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  const epochMs = Date.UTC(year, month - 1, day, hour, minute, second, millis) - offsetMs;
  return Number.isFinite(epochMs) && epochMs > 0 ? epochMs : undefined;
}

/** The digits of `value` from `start` to `end` as a number, or -1 when one of them is not a digit. */
function digitsAt(value: string, start: number, end: number): number {
  let number = 0;
  for (let i = start; i < end; i++) {
    const digit = value.charCodeAt(i) - 0x30;
    if (digit < 0 || digit > 9) return -1;
    number = number * 10 + digit;
  }
  return number;
}

/** `parseCommonShape` of a value of another shape. Never an instant: every instant returned is after 1970. */
const OTHER_SHAPE = -1;

/**
 * The shape every sender writes, `YYYY-MM-DDTHH:MM:SS[.fraction]Z`, read without a regex (two per alert, and a match
 * array each): the same instant (or undefined) as the pattern gives, or `OTHER_SHAPE` for the pattern to read.
 */
function parseCommonShape(value: string): number | undefined {
  const last = value.length - 1;
  if (last < 19 || value.charCodeAt(last) !== 0x5a /* Z */) return OTHER_SHAPE;
  if (value[4] !== '-' || value[7] !== '-' || value[10] !== 'T' || value[13] !== ':' || value[16] !== ':') {
    return OTHER_SHAPE;
  }
  let millis = 0;
  if (last > 19) {
    // `.` and 1 to 32 digits, of which the first three count (truncated).
    const digits = last - 20;
    if (value[19] !== '.' || digits < 1 || digits > 32 || digitsAt(value, 20, last) < 0) return OTHER_SHAPE;
    millis = digitsAt(value, 20, Math.min(23, last)) * 10 ** Math.max(0, 3 - digits);
  }
  const year = digitsAt(value, 0, 4);
  const month = digitsAt(value, 5, 7);
  const day = digitsAt(value, 8, 10);
  const hour = digitsAt(value, 11, 13);
  const minute = digitsAt(value, 14, 16);
  const second = digitsAt(value, 17, 19);
  if (year < 0 || month < 0 || day < 0 || hour < 0 || minute < 0 || second < 0) return OTHER_SHAPE;
  return instantOf(year, month, day, hour, minute, second, millis, 0);
}

/** {@link parseTimestamp} by the RFC 3339 pattern alone: the reference the common-shape reader must agree with. */
function parseTimestampByPattern(value: unknown): number | undefined {
  if (typeof value !== 'string' || value.length > 64) return undefined;
  const match = RFC3339.exec(value.trim());
  if (match === null) return undefined;
  const [, y, mo, d, h, mi, s, fraction, zulu, sign, offsetHours, offsetMinutes] = match;
  let offset = 0;
  if (zulu === undefined) {
    const oh = Number(offsetHours);
    const om = Number(offsetMinutes);
    if (oh > 23 || om > 59) return undefined;
    offset = (sign === '-' ? -1 : 1) * (oh * 60 + om) * 60_000;
  }
  const millis = Number((fraction ?? '').slice(0, 3).padEnd(3, '0'));
  return instantOf(Number(y), Number(mo), Number(d), Number(h), Number(mi), Number(s), millis, offset);
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
  const common = parseCommonShape(value);
  return common === OTHER_SHAPE ? parseTimestampByPattern(value) : common;
}

export { parseTimestamp, parseTimestampByPattern };
