/**
 * `npm run status`: the health report `delivery-health` logs every minute, printed as a table, built from the same
 * store reads (`outboxSummary`, `readCounters`) and the same `buildHealthReport`, without relaying, sending or
 * pinging anything. Exit code: 0 healthy, 1 degraded, 2 failing (an invalid configuration or an unreachable store is
 * failing too), 64 wrong arguments.
 */
import { DeliveryStatus } from '../../shared/constants';
import { buildHealthReport } from '../../shared/health/report';
import { Verdict } from '../../shared/health/verdict';
import type { CounterTotals } from '../../shared/store/Counters';
import type { OutboxSummary } from '../../shared/store/DeliveryStore';
import { describeStore, ExitCode, openInstance, parseOptions, runTool } from './cli';
import { formatHealthReport } from './formatReport';

const HELP = `Usage: npm run status [-- --json] [-- --scan]

Prints the bridge's health report, the one the delivery-health function logs every run: verdict, rule and reasons,
the outbox by state and its oldest age, the activity of the last HEALTH_WINDOW_SECONDS (deliveries, failures by
reason, rejected callbacks by error.code), the last callback and delivery, and the watchdog. It only reads: nothing
is relayed, sent to PagerDuty, or pinged.

It reads the store the functions use, from the same environment variables: locally the file store under STORE_PATH
(default .data/); against Tablestore with STORE=tablestore, TABLESTORE_ENDPOINT, TABLESTORE_INSTANCE,
TABLESTORE_TABLE and ALIBABA_CLOUD_ACCESS_KEY_ID / _SECRET (/ _SECURITY_TOKEN). Thresholds: the HEALTH_* settings.

Options:
  --json    print the raw report (JSON) instead of the table
  --scan    also count every stored delivery by state, DEAD and DELIVERED included (a full scan of the
            table: its cost grows with the history; fine now and then, not in a loop)
  --help    this text

Exit code: 0 healthy, 1 degraded, 2 failing (also: invalid configuration, store unreachable), 64 wrong arguments.`;

/** Exit code of each verdict. */
const VERDICT_EXIT: Readonly<Record<string, number>> = {
  [Verdict.HEALTHY]: 0,
  [Verdict.DEGRADED]: 1,
  [Verdict.FAILING]: 2,
};

async function main(): Promise<number> {
  const options = parseOptions(
    process.argv.slice(2),
    { json: { type: 'boolean' }, scan: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    'status',
  );
  if (options.help) {
    console.log(HELP);
    return ExitCode.OK;
  }
  const { config, store, logger, now: clock } = openInstance();
  try {
    const now = clock();
    let outbox: OutboxSummary | undefined;
    let counters: CounterTotals | undefined;
    let stored: Record<string, number> | undefined;
    try {
      outbox = await store.outboxSummary();
      counters = await store.readCounters(now - config.health.windowSeconds * 1000);
      if (options.scan) {
        stored = {};
        for (const record of await store.list()) stored[record.status] = (stored[record.status] ?? 0) + 1;
      }
    } catch (error) {
      // As delivery-health does: the report says "store unreachable" (failing) instead of crashing.
      logger.error('health report: the store is unreachable', { error });
    }
    const report = buildHealthReport({
      trigger: { triggerTime: new Date(now).toISOString(), triggerName: 'npm run status', payload: '' },
      relay: undefined,
      outbox,
      counters,
      config,
      now,
      stored,
    });
    if (options.json) {
      console.log(JSON.stringify(stored === undefined ? report : { ...report, stored }, null, 2));
    } else {
      console.log(formatHealthReport(report, { now, store: describeStore(config), stored }));
      if (stored === undefined && report.window.dead > 0) {
        console.log(
          `\n${DeliveryStatus.DEAD} deliveries are kept until their TTL: npm run redrive -- --dry-run lists them.`,
        );
      }
    }
    return VERDICT_EXIT[report.verdict] ?? ExitCode.FAILED;
  } finally {
    await store.close();
  }
}

runTool(main);
