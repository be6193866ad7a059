// The schedule of an FC timer trigger, for the local runtime: `cronExpression` of TimerTriggerConfig.
//
// FC accepts a 6-field cron with seconds first (`0 0 4 * * *`, UTC unless prefixed `CRON_TZ=<zone> `) or
// `@every <duration>` (`@every 5m`): shared/reference arms-and-fc.md §2.4. This matcher covers what a trigger of this
// project can reasonably use: `*`, `?`, numbers, month and weekday names, ranges `a-b`, lists `a,b`, steps `*/n`,
// `a/n`, `a-b/n`. Quartz extras (`L`, `W`, `#`) are rejected with a clear error rather than silently mis-scheduled.

/** Field order and bounds of FC's 6-field cron (seconds first). Day of week: 0 or 7 = Sunday (`*` stops at 6). */
const FIELDS = [
  { name: 'second', min: 0, max: 59 },
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  {
    name: 'month',
    min: 1,
    max: 12,
    names: ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'],
  },
  { name: 'day of week', min: 0, max: 7, top: 6, names: ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] },
];

/** `@every` units (Go duration syntax, as FC's examples use it). */
const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/** How far ahead `nextFire` looks before deciding an expression never fires (e.g. `0 0 0 30 2 *`). */
const SEARCH_HORIZON_MS = 5 * 366 * 86_400_000;

class CronError extends Error {
  constructor(message, options) {
    super(message, options);
    this.name = 'CronError';
  }
}

/**
 * Parses a timer trigger's `cronExpression`.
 *
 * @example
 * parseSchedule('0 * * * * *');   // every minute, at second 0 (UTC)
 * parseSchedule('@every 30s');    // { kind: 'every', everyMs: 30000, … }
 * @param {string} expression
 * @returns {import('./cron.d.mts').Schedule}
 * @throws {CronError} naming the field and the reason
 */
function parseSchedule(expression) {
  if (typeof expression !== 'string' || expression.trim() === '') {
    throw new CronError('cron expression is empty');
  }
  let text = expression.trim();
  let timeZone = 'UTC';
  const tz = /^(?:CRON_TZ|TZ)=(\S+)\s+(.*)$/.exec(text);
  if (tz) {
    timeZone = tz[1];
    text = tz[2].trim();
    try {
      new Intl.DateTimeFormat('en-US', { timeZone });
    } catch (error) {
      throw new CronError(`unknown time zone ${JSON.stringify(timeZone)} in ${JSON.stringify(expression)}`, {
        cause: error,
      });
    }
  }
  if (text.startsWith('@')) {
    return { kind: 'every', expression, everyMs: parseEvery(text, expression) };
  }
  const parts = text.split(/\s+/);
  if (parts.length !== 6) {
    throw new CronError(
      `${JSON.stringify(expression)} has ${parts.length} fields; FC timer triggers take 6 (second minute hour day-of-month month day-of-week)`,
    );
  }
  const sets = parts.map((part, index) => parseField(part, FIELDS[index], expression));
  const dayOfWeek = sets[5];
  if (dayOfWeek.values.has(7)) dayOfWeek.values.add(0);
  return {
    kind: 'cron',
    expression,
    timeZone,
    seconds: sets[0].values,
    minutes: sets[1].values,
    hours: sets[2].values,
    daysOfMonth: sets[3].values,
    months: sets[4].values,
    daysOfWeek: dayOfWeek.values,
    // Vixie cron: when both day fields are restricted, a day matches if EITHER matches.
    dayOr: !sets[3].any && !dayOfWeek.any,
    domAny: sets[3].any,
    dowAny: dayOfWeek.any,
  };
}

function parseEvery(text, expression) {
  const match = /^@every\s+((?:\d+(?:ms|s|m|h))+)$/.exec(text);
  if (!match) {
    throw new CronError(
      `${JSON.stringify(expression)}: expected "@every <duration>", e.g. "@every 30s", "@every 5m", "@every 1h30m"`,
    );
  }
  let total = 0;
  for (const [, amount, unit] of match[1].matchAll(/(\d+)(ms|s|m|h)/g)) {
    total += Number(amount) * UNIT_MS[unit];
  }
  if (total < 1_000) throw new CronError(`${JSON.stringify(expression)}: the interval must be at least 1 second`);
  return total;
}

function parseField(text, field, expression) {
  const values = new Set();
  let any = false;
  for (const item of text.split(',')) {
    const fail = (why) => {
      throw new CronError(`${JSON.stringify(expression)}: ${field.name} "${item}" ${why}`);
    };
    const [rangeText, stepText, extra] = item.split('/');
    if (extra !== undefined || rangeText === '') fail('is not a valid item');
    let step = 1;
    if (stepText !== undefined) {
      if (!/^\d+$/.test(stepText) || Number(stepText) === 0) fail('has an invalid step');
      step = Number(stepText);
    }
    let low;
    let high;
    if (rangeText === '*' || rangeText === '?') {
      low = field.min;
      high = field.top ?? field.max;
      if (stepText === undefined) any = true;
    } else {
      const bounds = rangeText.split('-');
      if (bounds.length > 2) fail('is not a valid range');
      low = parseValue(bounds[0], field, fail);
      // `a/n` means from a to the end of the field, as in Vixie cron.
      high =
        bounds.length === 2
          ? parseValue(bounds[1], field, fail)
          : stepText !== undefined
            ? (field.top ?? field.max)
            : low;
      if (high < low) fail('is a range that ends before it starts');
    }
    for (let value = low; value <= high; value += step) values.add(value);
  }
  return { values, any };
}

function parseValue(text, field, fail) {
  if (/^\d+$/.test(text)) {
    const value = Number(text);
    if (value < field.min || value > field.max) fail(`is out of range ${field.min}-${field.max}`);
    return value;
  }
  const index = field.names?.indexOf(text.toUpperCase()) ?? -1;
  if (index === -1)
    fail(
      /^[LW#]|[LW#]$/i.test(text)
        ? 'uses a Quartz extension (L, W, #) this runtime does not support'
        : 'is not a number',
    );
  return field.min + index;
}

/** Calendar fields of an instant in the schedule's zone (UTC fast path; Intl for CRON_TZ). */
const formatters = new Map();
function fieldsAt(ms, timeZone) {
  if (timeZone === 'UTC') {
    const d = new Date(ms);
    return {
      second: d.getUTCSeconds(),
      minute: d.getUTCMinutes(),
      hour: d.getUTCHours(),
      day: d.getUTCDate(),
      month: d.getUTCMonth() + 1,
      weekday: d.getUTCDay(),
    };
  }
  let format = formatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      weekday: 'short',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, format);
  }
  const parts = Object.fromEntries(format.formatToParts(new Date(ms)).map(({ type, value }) => [type, value]));
  return {
    second: Number(parts.second),
    minute: Number(parts.minute),
    hour: Number(parts.hour),
    day: Number(parts.day),
    month: Number(parts.month),
    weekday: FIELDS[5].names.indexOf(parts.weekday.toUpperCase()),
  };
}

function dayMatches(schedule, f) {
  const dom = schedule.daysOfMonth.has(f.day);
  const dow = schedule.daysOfWeek.has(f.weekday);
  if (schedule.dayOr) return dom || dow;
  return (schedule.domAny || dom) && (schedule.dowAny || dow);
}

/**
 * Whether a cron schedule fires at the given second (milliseconds are ignored). `@every` schedules have no calendar
 * and never "match"; use `nextFire`.
 * @param {import('./cron.d.mts').Schedule} schedule
 * @param {Date} date
 */
function matches(schedule, date) {
  if (schedule.kind !== 'cron') return false;
  const f = fieldsAt(date.getTime(), schedule.timeZone);
  return (
    schedule.months.has(f.month) &&
    dayMatches(schedule, f) &&
    schedule.hours.has(f.hour) &&
    schedule.minutes.has(f.minute) &&
    schedule.seconds.has(f.second)
  );
}

/**
 * The first firing instant strictly after `after`, or `null` when the expression never fires within five years.
 * Cron schedules fire on whole seconds; `@every` fires `everyMs` after `after`.
 *
 * @example
 * nextFire(parseSchedule('0 * * * * *'), new Date('2024-01-01T00:00:30Z')); // 2024-01-01T00:01:00.000Z
 * @param {import('./cron.d.mts').Schedule} schedule
 * @param {Date} after
 * @returns {Date | null}
 */
function nextFire(schedule, after) {
  if (schedule.kind === 'every') return new Date(after.getTime() + schedule.everyMs);
  const start = Math.floor(after.getTime() / 1000) * 1000 + 1000;
  const limit = start + SEARCH_HORIZON_MS;
  let t = start;
  // Jump to the next boundary of the first field that does not match. Day and month misses advance by one local hour
  // (not to midnight), so a daylight-saving day of 23 or 25 hours cannot make the search overshoot a match.
  while (t < limit) {
    const f = fieldsAt(t, schedule.timeZone);
    const toNextMinute = (60 - f.second) * 1000;
    const toNextHour = (60 - f.minute) * 60_000 - f.second * 1000;
    if (!schedule.months.has(f.month) || !dayMatches(schedule, f) || !schedule.hours.has(f.hour)) {
      t += toNextHour;
    } else if (!schedule.minutes.has(f.minute)) {
      t += toNextMinute;
    } else if (!schedule.seconds.has(f.second)) {
      t += 1000;
    } else {
      return new Date(t);
    }
  }
  return null;
}

export { CronError, matches, nextFire, parseSchedule };
