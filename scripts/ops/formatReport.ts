/**
 * The health report (`shared/health/report.ts`) as a table for a terminal: verdict, rule and reasons first, then the
 * outbox, the window's activity, failures by reason, rejected callbacks by code, the last callback and delivery, and
 * the watchdog. Pure: the caller prints it.
 */
import { DeliveryStatus } from '../../shared/constants';
import type { HealthReport } from '../../shared/health/report';

/** The waiting states, in the order a delivery moves through them. */
const OUTBOX_STATES = [DeliveryStatus.PENDING, DeliveryStatus.RETRY, DeliveryStatus.SENDING] as const;
const INDENT = '  ';

/** Two aligned columns under a heading; `(none)` when there are no rows. */
function section(title: string, rows: ReadonlyArray<readonly [string, string | number]>): string[] {
  if (rows.length === 0) return [title, `${INDENT}(none)`];
  const width = Math.max(...rows.map(([label]) => label.length));
  return [title, ...rows.map(([label, value]) => `${INDENT}${label.padEnd(width)}  ${value}`)];
}

/** `12 s`, `5 min`, `3 h`, `2 d`: rough, for reading. */
function roughly(seconds: number): string {
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7_200) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172_800) return `${Math.round(seconds / 3_600)} h`;
  return `${Math.round(seconds / 86_400)} d`;
}

/** An ISO time with how long ago it was, or `never` (within what the store keeps). */
function when(iso: string | null, now: number): string {
  if (iso === null) return 'never (within the store TTL)';
  return `${iso} (${roughly(Math.max(0, Math.round((now - Date.parse(iso)) / 1000)))} ago)`;
}

/** Counts by key, largest first. */
function byCount(counts: Readonly<Record<string, number>>): Array<[string, number]> {
  return Object.entries(counts)
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

/**
 * @param report - the report as `buildHealthReport` returns it
 * @param context.now - epoch ms the report was built at (ages)
 * @param context.store - which store was read, in words
 * @param context.stored - optional counts of every live record by state (a full scan), shown as their own section
 *
 * @example
 * console.log(formatHealthReport(report, { now: Date.now(), store: 'file store /repo/.data' }));
 */
function formatHealthReport(
  report: HealthReport,
  context: { now: number; store: string; stored?: Readonly<Record<string, number>> },
): string {
  const { now } = context;
  const lines: string[] = [];
  lines.push(`Bridge health: ${report.verdict.toUpperCase()} (rule: ${report.rule})   at ${report.triggerTime}`);
  for (const reason of report.reasons) lines.push(`${INDENT}- ${reason}`);
  lines.push(`Store: ${context.store} (${report.storeReachable ? 'reachable' : 'UNREACHABLE'})`);
  lines.push(`Dry-run: ${report.dryRun ? 'yes (nothing is sent to PagerDuty with this configuration)' : 'no'}`);
  lines.push('');

  const oldest = report.oldestWaitingSeconds;
  lines.push(
    ...section('Outbox (waiting to be delivered)', [
      ...OUTBOX_STATES.map((state) => [state, report.outbox[state] ?? 0] as const),
      ['oldest waiting', oldest === null ? '-' : oldest < 120 ? `${oldest} s` : `${oldest} s (${roughly(oldest)})`],
    ]),
  );
  if (context.stored !== undefined) {
    lines.push(...section('Stored deliveries by state (full scan)', byCount(context.stored)));
  }
  const { window } = report;
  lines.push(
    ...section(`Window (last ${window.windowSeconds} s)`, [
      ['callbacks', window.callbacks],
      ['alerts received', window.alertsReceived],
      ['alerts rejected', window.alertsRejected],
      ['console tests', window.consoleTests],
      ['delivered', window.delivered],
      ['dead', window.dead],
      ['superseded', window.superseded],
    ]),
  );
  lines.push(...section('Failed attempts by reason (window)', byCount(window.failures)));
  lines.push(...section('Rejected callbacks by error.code (window)', byCount(window.rejectedCallbacks)));
  lines.push(
    ...section('Last seen', [
      ['callback', when(report.lastCallbackAt, now)],
      ['delivery', when(report.lastDeliveredAt, now)],
    ]),
  );
  const watchdog = report.watchdog;
  lines.push(
    ...section(
      'Watchdog',
      watchdog === undefined
        ? [['alert', 'off (set WATCHDOG_ALERTNAME)']]
        : [
            ['alert', watchdog.alertname],
            ['last seen', when(watchdog.lastSeenAt, now)],
            ['expected every', `${watchdog.intervalSeconds} s`],
          ],
    ),
  );
  return lines.join('\n');
}

export { formatHealthReport };
