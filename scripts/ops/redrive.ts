/**
 * `npm run redrive`: re-queues `DEAD` deliveries once their cause is fixed (a rotated routing key, a fixed route or
 * template, PagerDuty back): all, or filtered by reason and age. Each becomes `PENDING`, due now, by compare-and-set
 * (`redriveDead.ts` says what changes and why); the next delivery-health run sends it, through the same ordering as
 * any delivery. Reads the store with a full scan.
 */
import { DeliveryStatus } from '../../shared/constants';
import type { DeliveryRecord } from '../../shared/store/DeliveryRecord';
import { describeStore, ExitCode, OpsError, openInstance, parseDuration, parseOptions, runTool } from './cli';
import {
  REDRIVE_REASONS,
  type RedriveFilter,
  type RedriveReason,
  reasonOf,
  redriveRecord,
  selectDead,
} from './redriveDead';

/** Records per `replaceMany` call: each call has one STORE_TIMEOUT_MS budget. */
const WRITE_CHUNK = 100;
const SUMMARY_PREVIEW = 80;

const HELP = `Usage: npm run redrive -- [--reason <r>]... [--older-than <d>] [--newer-than <d>] [--dry-run]

Re-queues DEAD deliveries after their cause is fixed. Each becomes PENDING, due now, with a fresh attempt budget
(MAX_ATTEMPTS) and a fresh age (MAX_DELIVERY_AGE_SECONDS counts from the redrive); the next delivery-health run
(within a minute) sends it. Ordering still applies: a trigger whose resolve has arrived since, or an older
occurrence of an alert that fired again, is superseded instead of sent.

Each record is rewritten by compare-and-set: one that another process moved since it was read is left alone and
counted as a lost race (run again to see what it became).

It reads every stored delivery (a full scan of the table, so its cost grows with the history: fine for an operator
tool, not for a loop), from the same variables as the functions: the file store under STORE_PATH (default .data/)
locally; STORE=tablestore with TABLESTORE_* and ALIBABA_CLOUD_* credentials for the deployed table.

Options:
  --reason <r>       only deliveries that died for this reason (repeat or comma-separate): ${REDRIVE_REASONS.join(', ')}
                     (the prefix of their lastError; 'other' is anything else)
  --older-than <d>   only deliveries received more than <d> ago (90s, 30m, 2h, 7d)
  --newer-than <d>   only deliveries received less than <d> ago
  --dry-run          list what would be re-queued, change nothing
  --help             this text

Exit code: 0 done (lost races included), 1 the store failed, 2 invalid configuration, 64 wrong arguments.
Prints counts and event summaries, never a routing key or credential.`;

function parseReasons(values: readonly string[] | undefined): RedriveReason[] | undefined {
  if (values === undefined) return undefined;
  const reasons = values.flatMap((value) => value.split(',')).map((value) => value.trim().toLowerCase());
  for (const reason of reasons) {
    if (!(REDRIVE_REASONS as readonly string[]).includes(reason)) {
      throw new OpsError(`--reason takes ${REDRIVE_REASONS.join(', ')}, not ${JSON.stringify(reason)}`, ExitCode.USAGE);
    }
  }
  return reasons as RedriveReason[];
}

function countBy(records: readonly DeliveryRecord[]): string {
  const counts = new Map<string, number>();
  for (const record of records) counts.set(reasonOf(record), (counts.get(reasonOf(record)) ?? 0) + 1);
  return [...counts].map(([reason, n]) => `${reason} ${n}`).join(', ') || 'none';
}

/** Three lines per delivery: enough to recognise it, nothing secret (the stored event never holds a routing key). */
function describe(record: DeliveryRecord, now: number): string {
  const summary = Array.from(record.event.payload.summary);
  const preview =
    summary.length > SUMMARY_PREVIEW ? `${summary.slice(0, SUMMARY_PREVIEW).join('')}…` : summary.join('');
  const ageMinutes = Math.round((now - record.createdAt) / 60_000);
  return [
    `  ${record.action} (${reasonOf(record)}) route ${record.routeName}, received ${ageMinutes} min ago, ` +
      `${record.attempts} attempt(s), dedup_key ${record.dedupKey}`,
    `      summary: ${preview}`,
    `      died: ${record.lastError ?? '(no error recorded)'}`,
  ].join('\n');
}

async function main(): Promise<number> {
  const options = parseOptions(
    process.argv.slice(2),
    {
      reason: { type: 'string', multiple: true },
      'older-than': { type: 'string' },
      'newer-than': { type: 'string' },
      'dry-run': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    'redrive',
  );
  if (options.help) {
    console.log(HELP);
    return ExitCode.OK;
  }
  const filter: RedriveFilter = {
    reasons: parseReasons(options.reason),
    olderThanMs: options['older-than'] === undefined ? undefined : parseDuration(options['older-than'], '--older-than'),
    newerThanMs: options['newer-than'] === undefined ? undefined : parseDuration(options['newer-than'], '--newer-than'),
  };
  const { config, store, now: clock } = openInstance();
  try {
    const records = await store.list();
    const now = clock();
    const dead = records.filter((record) => record.status === DeliveryStatus.DEAD);
    const chosen = selectDead(records, filter, now);
    console.log(`${describeStore(config)}: ${dead.length} DEAD (${countBy(dead)}); ${chosen.length} match the filter`);
    if (options['dry-run']) {
      for (const record of chosen) console.log(describe(record, now));
      console.log(`dry run: nothing changed; ${chosen.length} would be re-queued`);
      return ExitCode.OK;
    }
    let requeued = 0;
    let lost = 0;
    const ttlMs = config.store.ttlSeconds * 1000;
    for (let start = 0; start < chosen.length; start += WRITE_CHUNK) {
      const chunk = chosen.slice(start, start + WRITE_CHUNK);
      let results: boolean[];
      try {
        results = await store.replaceMany(chunk.map((record) => redriveRecord(record, clock(), ttlMs)));
      } catch (error) {
        throw new OpsError(
          `store failed after ${requeued} re-queued (${lost} lost races): ${(error as Error).message}; run again`,
          ExitCode.FAILED,
        );
      }
      for (const won of results) won ? requeued++ : lost++;
    }
    console.log(`re-queued ${requeued} (${countBy(chosen)}); lost races ${lost}`);
    if (lost > 0)
      console.log('a lost race: another process changed that delivery since it was read (run again to see it)');
    if (requeued > 0) {
      console.log('delivery-health sends them on its next run (every minute; locally: the runtime timer)');
      if (config.pagerduty.dryRun) {
        console.log(
          `note: this environment is dry-run (${config.pagerduty.dryRunReason ?? 'DRY_RUN'}); only a delivery-health with a routing key sends them`,
        );
      }
    }
    return ExitCode.OK;
  } finally {
    await store.close();
  }
}

runTool(main);
