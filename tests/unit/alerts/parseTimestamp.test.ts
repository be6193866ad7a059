import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseTimestamp, parseTimestampByPattern } from '../../../shared/alerts/parseTimestamp';

describe('parseTimestamp', () => {
  it.each([
    ['ARMS, 9 fractional digits', '2021-02-22T07:18:15.578000000Z', 1613978295578],
    ['3 fractional digits', '2021-02-22T07:18:15.578Z', 1613978295578],
    ['no fraction', '2021-02-22T07:18:15Z', 1613978295000],
    ['one fractional digit', '2021-02-22T07:18:15.5Z', 1613978295500],
    ['sub-millisecond digits are truncated, not rounded', '2021-02-22T07:18:15.578999999Z', 1613978295578],
    ['Go nanoseconds', '2024-05-14T09:31:27.123456789Z', 1715679087123],
    ['a positive offset', '2021-02-22T15:18:15.578+08:00', 1613978295578],
    ['a negative offset', '2021-02-22T02:18:15.578-05:00', 1613978295578],
    ['lower-case t and z', '2021-02-22t07:18:15.578z', 1613978295578],
    ['a space instead of T', '2021-02-22 07:18:15.578Z', 1613978295578],
    ['a leap day', '2024-02-29T00:00:00Z', 1709164800000],
  ])('parses %s', (_name, value, expected) => {
    // Act & Assess
    expect(parseTimestamp(value)).toBe(expected);
  });

  it.each([
    ['Go zero time (ARMS "unresolved")', '0001-01-01T00:00:00Z'],
    ['the Unix epoch', '1970-01-01T00:00:00Z'],
    ['before the epoch', '1969-12-31T23:59:59Z'],
    ['a year below 100 (Date.UTC would read 19xx)', '0050-01-01T00:00:00Z'],
    ['no time zone', '2021-02-22T07:18:15.578'],
    ['a date only', '2021-02-22'],
    ['month 13', '2021-13-01T00:00:00Z'],
    ['February 29 of a common year', '2023-02-29T00:00:00Z'],
    ['April 31', '2021-04-31T00:00:00Z'],
    ['hour 24', '2021-02-22T24:00:00Z'],
    ['a leap second', '2016-12-31T23:59:60Z'],
    ['offset hour 24', '2021-02-22T07:18:15+24:00'],
    ['an empty fraction', '2021-02-22T07:18:15.Z'],
    ['the ECMAScript extended year', '+002021-02-22T07:18:15Z'],
    ['free text', 'yesterday'],
    ['an empty string', ''],
    ['a very long string', `2021-02-22T07:18:15.${'0'.repeat(100)}Z`],
  ])('treats %s as absent', (_name, value) => {
    // Act & Assess
    expect(parseTimestamp(value)).toBeUndefined();
  });

  it.each([[undefined], [null], [1613978295578], [{}]])('treats the non-string %j as absent', (value) => {
    // Act & Assess
    expect(parseTimestamp(value)).toBeUndefined();
  });

  it('reads the common shape exactly as the RFC 3339 pattern does (property)', () => {
    // Prepare: timestamps of the common shape with every field near and past its range, and mutations of them
    // Two digits: mostly inside the field's range (so most instants are valid), sometimes anything up to 99.
    const two = (min: number, max: number) =>
      fc
        .oneof({ arbitrary: fc.integer({ min, max }), weight: 4 }, fc.integer({ min: 0, max: 99 }))
        .map((n) => String(n).padStart(2, '0'));
    const shaped = fc
      .record({
        year: fc.integer({ min: 0, max: 9999 }).map((n) => String(n).padStart(4, '0')),
        month: two(1, 12),
        day: two(1, 31),
        hour: two(0, 23),
        minute: two(0, 59),
        second: two(0, 59),
        fraction: fc.option(fc.stringMatching(/^[0-9]{0,34}$/)),
        separator: fc.constantFrom('T', 't', ' ', 'x'),
        zone: fc.constantFrom('Z', 'z', '+08:00', '-05:30', '', 'Z '),
        lead: fc.constantFrom('', ' ', '\t'),
      })
      .map(
        ({ year, month, day, hour, minute, second, fraction, separator, zone, lead }) =>
          `${lead}${year}-${month}-${day}${separator}${hour}:${minute}:${second}${fraction === null ? '' : `.${fraction}`}${zone}`,
      );
    const mutated = fc
      .tuple(shaped, fc.nat(), fc.string({ unit: 'binary', maxLength: 2 }))
      .map(
        ([text, at, insert]) =>
          text.slice(0, at % (text.length + 1)) + insert + text.slice((at % (text.length + 1)) + 1),
      );

    // Act & Assess
    fc.assert(
      fc.property(fc.oneof(shaped, mutated), (value) => {
        expect(parseTimestamp(value)).toBe(parseTimestampByPattern(value));
      }),
      { numRuns: 5_000 },
    );
  });
});
