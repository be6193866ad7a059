/** Types of `cron.mjs` (plain ESM, so `npm start` needs no TypeScript step). */
import type { Cron } from 'croner';

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

declare class CronError extends Error {
  constructor(message: string, options?: ErrorOptions);
}

declare function parseSchedule(expression: string): Schedule;
declare function matches(schedule: Schedule, date: Date): boolean;
declare function nextFire(schedule: Schedule, after: Date): Date | null;

export type { CronSchedule, EverySchedule, Schedule };
export { CronError, matches, nextFire, parseSchedule };
