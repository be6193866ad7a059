import { describe, expect, it } from 'vitest';
import { CronError, matches, nextFire, parseSchedule } from '../../../scripts/local-runtime/cron';

const at = (iso: string) => new Date(iso);

/** Each calendar field as a fire shows it (UTC), and a span that visits every value of the field once. */
const FIELDS = {
  seconds: { of: (date: Date) => date.getUTCSeconds(), spanMs: 60_000 },
  minutes: { of: (date: Date) => date.getUTCMinutes(), spanMs: 3_600_000 },
  hours: { of: (date: Date) => date.getUTCHours(), spanMs: 86_400_000 },
  daysOfMonth: { of: (date: Date) => date.getUTCDate(), spanMs: 31 * 86_400_000 },
  months: { of: (date: Date) => date.getUTCMonth() + 1, spanMs: 366 * 86_400_000 },
  daysOfWeek: { of: (date: Date) => date.getUTCDay(), spanMs: 7 * 86_400_000 },
} as const;

/** The values one field takes over the fires of a span starting 2024-01-01T00:00:00Z (a Monday), sorted. */
function firedValues(expression: string, field: keyof typeof FIELDS): number[] {
  const schedule = parseSchedule(expression);
  const start = at('2024-01-01T00:00:00Z').getTime();
  const values = new Set<number>();
  let cursor = new Date(start - 1);
  for (;;) {
    const next = nextFire(schedule, cursor);
    if (next === null || next.getTime() >= start + FIELDS[field].spanMs) break;
    values.add(FIELDS[field].of(next));
    cursor = next;
  }
  return [...values].sort((a, b) => a - b);
}

describe('Function: parseSchedule', () => {
  it('reads the 6-field cron of the delivery-health timer (seconds first)', () => {
    // Act
    const schedule = parseSchedule('0 * * * * *');

    // Assess
    expect(schedule).toMatchObject({ kind: 'cron', timeZone: 'UTC' });
    expect(firedValues('0 * * * * *', 'seconds')).toEqual([0]);
    expect(firedValues('0 * * * * *', 'minutes')).toHaveLength(60);
  });

  it.each([
    ['*/15 * * * * *', 'seconds', [0, 15, 30, 45]],
    ['0 5-10/2 * * * *', 'minutes', [5, 7, 9]],
    ['0 0 1,13,22 * * *', 'hours', [1, 13, 22]],
    ['0 0 0 ? JAN,jul *', 'months', [1, 7]],
    ['0 0 0 ? * MON-FRI', 'daysOfWeek', [1, 2, 3, 4, 5]],
    // 7 is Sunday too.
    ['0 0 0 ? * 7', 'daysOfWeek', [0]],
    // `a/n` runs from a to the end of the field, as in Vixie cron.
    ['0 0 0 ? * 5/1', 'daysOfWeek', [5, 6]],
    ['0 0 0 20/5 * *', 'daysOfMonth', [20, 25, 30]],
  ] as const)('fires %s on the %s %j only', (expression, field, expected) => {
    // Act
    const values = firedValues(expression, field);

    // Assess
    expect(values).toEqual(expected);
  });

  it.each([
    ['@every 30s', 30_000],
    ['@every 5m', 300_000],
    ['@every 1h', 3_600_000],
    ['@every 1h30m', 5_400_000],
  ])('reads %s as an interval of %i ms', (expression, everyMs) => {
    // Act
    const schedule = parseSchedule(expression);

    // Assess
    expect(schedule).toMatchObject({ kind: 'every', everyMs });
  });

  it('reads a CRON_TZ prefix as the time zone', () => {
    // Act
    const schedule = parseSchedule('CRON_TZ=Asia/Shanghai 0 0 4 * * *');

    // Assess
    expect(schedule).toMatchObject({ kind: 'cron', timeZone: 'Asia/Shanghai' });
  });

  it.each([
    ['', /empty/],
    ['* * * * *', /5 fields/],
    ['0 * * * * * *', /7 fields/],
    ['60 * * * * *', /"60 \* \* \* \* \*": Invalid value for second/],
    ['0 0 24 * * *', /Invalid value for hour/],
    ['0 0 0 0 * *', /Invalid value for day/],
    ['0 0 0 * 13 *', /Invalid value for month/],
    ['0 5-2 * * * *', /From value is larger than to value/],
    ['*/0 * * * * *', /illegal stepping/],
    ['0 0 0 L * *', /Quartz extension/],
    ['0 0 0 1W * *', /Quartz extension/],
    ['0 0 0 ? * MON#2', /Quartz extension/],
    ['x * * * * *', /illegal characters/],
    ['@every 0s', /at least 1 second/],
    ['@every five minutes', /expected "@every <duration>"/],
    ['@daily', /expected "@every <duration>"/],
    ['CRON_TZ=Nowhere/Special 0 * * * * *', /unknown time zone/],
  ])('rejects %j', (expression, message) => {
    // Act
    const parse = () => parseSchedule(expression);

    // Assess
    expect(parse).toThrow(CronError);
    expect(parse).toThrow(message);
  });
});

describe('Function: matches', () => {
  it.each([
    ['0 * * * * *', '2024-05-01T10:20:00Z', true],
    ['0 * * * * *', '2024-05-01T10:20:01Z', false],
    ['0 30 9 * * MON-FRI', '2024-05-03T09:30:00Z', true], // a Friday
    ['0 30 9 * * MON-FRI', '2024-05-04T09:30:00Z', false], // a Saturday
    // Both day fields restricted: either matches (Vixie cron).
    ['0 0 12 13 * FRI', '2024-05-13T12:00:00Z', true], // the 13th, a Monday
    ['0 0 12 13 * FRI', '2024-05-17T12:00:00Z', true], // a Friday
    ['0 0 12 13 * FRI', '2024-05-14T12:00:00Z', false],
    // Only one day field restricted: both must match.
    ['0 0 12 13 * *', '2024-05-14T12:00:00Z', false],
    ['CRON_TZ=Asia/Shanghai 0 0 4 * * *', '2024-05-01T20:00:00Z', true], // 04:00 in Shanghai (UTC+8)
    ['CRON_TZ=Asia/Shanghai 0 0 4 * * *', '2024-05-01T04:00:00Z', false],
  ])('%s at %s is %s', (expression, iso, expected) => {
    // Act
    const result = matches(parseSchedule(expression), at(iso));

    // Assess
    expect(result).toBe(expected);
  });

  it('ignores milliseconds', () => {
    // Act
    const result = matches(parseSchedule('0 * * * * *'), at('2024-05-01T10:20:00.999Z'));

    // Assess
    expect(result).toBe(true);
  });
});

describe('Function: nextFire', () => {
  it.each([
    ['0 * * * * *', '2024-01-01T00:00:30Z', '2024-01-01T00:01:00.000Z'],
    // Strictly after: a matching instant is not its own next fire.
    ['0 * * * * *', '2024-01-01T00:01:00Z', '2024-01-01T00:02:00.000Z'],
    ['0 * * * * *', '2024-01-01T00:00:59.500Z', '2024-01-01T00:01:00.000Z'],
    ['*/15 * * * * *', '2024-01-01T00:00:14.999Z', '2024-01-01T00:00:15.000Z'],
    ['0 0 0 1 1 *', '2024-01-01T00:00:00Z', '2025-01-01T00:00:00.000Z'],
    ['0 0 0 29 2 *', '2024-03-01T00:00:00Z', '2028-02-29T00:00:00.000Z'],
    ['0 0 12 * * MON-FRI', '2024-01-06T00:00:00Z', '2024-01-08T12:00:00.000Z'],
    ['CRON_TZ=Asia/Shanghai 0 0 4 * * *', '2024-01-01T00:00:00Z', '2024-01-01T20:00:00.000Z'],
    // 02:30 does not exist in New York on 2024-03-10 (clocks jump from 02:00 to 03:00): a fixed-time job runs once at
    // the jump (03:00 EDT), as Vixie cron does; the next day it is back at 02:30 EDT.
    ['CRON_TZ=America/New_York 0 30 2 * * *', '2024-03-10T00:00:00Z', '2024-03-10T07:00:00.000Z'],
    ['CRON_TZ=America/New_York 0 30 2 * * *', '2024-03-10T07:00:00Z', '2024-03-11T06:30:00.000Z'],
    ['@every 5m', '2024-01-01T00:00:00Z', '2024-01-01T00:05:00.000Z'],
  ])('%s after %s is %s', (expression, after, expected) => {
    // Act
    const next = nextFire(parseSchedule(expression), at(after));

    // Assess
    expect(next?.toISOString()).toBe(expected);
  });

  it('returns null for a date that never comes', () => {
    // Act
    const next = nextFire(parseSchedule('0 0 0 30 2 *'), at('2024-01-01T00:00:00Z'));

    // Assess
    expect(next).toBeNull();
  });

  it('agrees with matches() on every fire of a day of a busy schedule', () => {
    // Prepare
    const schedule = parseSchedule('10,40 */7 1-23/2 * * *');
    let cursor = at('2024-02-28T23:00:00Z');
    const fires: Date[] = [];

    // Act
    for (let i = 0; i < 200; i += 1) {
      const next = nextFire(schedule, cursor);
      if (!next) break;
      fires.push(next);
      cursor = next;
    }

    // Assess
    expect(fires).toHaveLength(200);
    for (const fire of fires) expect(matches(schedule, fire)).toBe(true);
    // Consecutive fires leave no matching second between them.
    for (let i = 1; i < 20; i += 1) {
      const previous = fires[i - 1] as Date;
      const current = fires[i] as Date;
      for (let t = previous.getTime() + 1000; t < current.getTime(); t += 1000) {
        expect(matches(schedule, new Date(t))).toBe(false);
      }
    }
  });
});
