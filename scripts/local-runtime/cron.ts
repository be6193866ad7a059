// The schedule of an FC timer trigger, for the local runtime: `cronExpression` of TimerTriggerConfig.
//
// FC accepts a 6-field cron with seconds first (`0 0 4 * * *`, UTC unless prefixed `CRON_TZ=<zone> `) or
// `@every <duration>` (`@every 5m`): shared/reference arms-and-fc.md §2.4. croner reads the cron (names, ranges, lists,
// steps, `?`; both day fields restricted ⇒ either matches, as in Vixie cron); what FC's format adds or leaves out is
// here: the zone prefix, `@every`, exactly 6 fields, and no Quartz extras (`L`, `W`, `#`), which croner would accept
// but FC's documented fields do not, so a trigger that works locally is not refused at deploy.
import { Cron } from 'croner';

/** `@every` units (Go duration syntax, as FC's examples use it). */
const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

interface CronSchedule {
  kind: 'cron';
  expression: string;
  /** `UTC` unless the expression starts with `CRON_TZ=<zone>`. */
  timeZone: string;
  cron: Cron;
}

interface EverySchedule {
  kind: 'every';
  expression: string;
  everyMs: number;
}

type Schedule = CronSchedule | EverySchedule;

/** Month and weekday names, taken out before looking for Quartz's `L`, `W` and `#` (`JUL`, `WED` hold them). */
const CALENDAR_NAMES = /\b(?:JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC|SUN|MON|TUE|WED|THU|FRI|SAT)\b/gi;

class CronError extends Error {
  public constructor(message: string, options?: ErrorOptions) {
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
 * @throws CronError naming the expression and the reason
 */
function parseSchedule(expression: string): Schedule {
  if (typeof expression !== 'string' || expression.trim() === '') {
    throw new CronError('cron expression is empty');
  }
  let text = expression.trim();
  let timeZone = 'UTC';
  const tz = /^(?:CRON_TZ|TZ)=(\S+)\s+(.*)$/.exec(text);
  if (tz) {
    timeZone = tz[1] as string;
    text = (tz[2] as string).trim();
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
  const fields = text.split(/\s+/).length;
  if (fields !== 6) {
    throw new CronError(
      `${JSON.stringify(expression)} has ${fields} fields; FC timer triggers take 6 (second minute hour day-of-month month day-of-week)`,
    );
  }
  if (/[LW#]/i.test(text.replace(CALENDAR_NAMES, ''))) {
    throw new CronError(
      `${JSON.stringify(expression)} uses a Quartz extension (L, W, #) FC timer triggers do not take`,
    );
  }
  try {
    // sloppyRanges: `a/n` means from a to the end of the field, as in Vixie cron.
    return {
      kind: 'cron',
      expression,
      timeZone,
      cron: new Cron(text, { mode: '6-part', timezone: timeZone, sloppyRanges: true }),
    };
  } catch (error) {
    const reason = error instanceof Error ? error.message.replace(/^CronPattern: /, '') : String(error);
    throw new CronError(`${JSON.stringify(expression)}: ${reason}`, { cause: error });
  }
}

function parseEvery(text: string, expression: string): number {
  const match = /^@every\s+((?:\d+(?:ms|s|m|h))+)$/.exec(text);
  if (!match) {
    throw new CronError(
      `${JSON.stringify(expression)}: expected "@every <duration>", e.g. "@every 30s", "@every 5m", "@every 1h30m"`,
    );
  }
  let total = 0;
  for (const [, amount, unit] of (match[1] as string).matchAll(/(\d+)(ms|s|m|h)/g)) {
    total += Number(amount) * (UNIT_MS[unit as string] as number);
  }
  if (total < 1_000) throw new CronError(`${JSON.stringify(expression)}: the interval must be at least 1 second`);
  return total;
}

/**
 * Whether a cron schedule fires at the given second (milliseconds are ignored). `@every` schedules have no calendar
 * and never "match"; use `nextFire`.
 */
function matches(schedule: Schedule, date: Date): boolean {
  return schedule.kind === 'cron' && schedule.cron.match(new Date(Math.floor(date.getTime() / 1000) * 1000));
}

/**
 * The first firing instant strictly after `after`, or `null` when the expression never fires. Cron schedules fire on
 * whole seconds; `@every` fires `everyMs` after `after`.
 *
 * @example
 * nextFire(parseSchedule('0 * * * * *'), new Date('2024-01-01T00:00:30Z')); // 2024-01-01T00:01:00.000Z
 */
function nextFire(schedule: Schedule, after: Date): Date | null {
  if (schedule.kind === 'every') return new Date(after.getTime() + schedule.everyMs);
  return schedule.cron.nextRun(after);
}

export type { CronSchedule, EverySchedule, Schedule };
export { CronError, matches, nextFire, parseSchedule };
