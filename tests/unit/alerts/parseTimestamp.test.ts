import { describe, expect, it } from 'vitest';
import { parseTimestamp } from '../../../shared/alerts/parseTimestamp';

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
});
