/**
 * `npm run trace`: "was this alert paged, and if not, why?" Every stored delivery of a dedup_key, a delivery key or the
 * alerts matching label matchers, newest first, each with what happened to it (`explainDelivery`). Read-only, through
 * the store port (`findDeliveries`), on the store the functions use. Exit code 0 found, 1 nothing stored for it,
 * 2 wrong arguments, 3 the configuration is invalid or the store unreachable.
 */
import { scrubSecrets } from '../../shared/config/scrubSecrets';
import { DeliveryStatus } from '../../shared/constants';
import { createRouter } from '../../shared/delivery/createRouter';
import { NO_OCCURRENCE } from '../../shared/delivery/deliveryKey';
import { type Matcher, parseMatcher } from '../../shared/pagerduty/parseMatcher';
import { FALLBACK_ROUTE_NAME } from '../../shared/pagerduty/routes';
import type { DeliveryRecord } from '../../shared/store/DeliveryRecord';
import { type CircuitState, readCircuits } from './circuitState';
import { AnswerCode, describeStore, OpsError, openInstance, parseArguments, runTool } from './cli';
import { type DeliveryExplanation, explainDelivery } from './explainDelivery';
import { findDeliveries, type TraceQuery } from './findDeliveries';

const DEFAULT_LIMIT = 20;
const DELIVERY_KEY = /^d1-[0-9a-f]{64}$/;

const HELP = `Usage: npm run trace -- <dedup_key | delivery key | label matchers...> [--scan] [--limit <n>] [--json]

Answers "was this alert paged, and if not, why?": every delivery the store holds for it, newest first, with when it
was received, its action (trigger/resolve), occurrence (startsAt), route, status, attempts, PagerDuty's last answer
(its HTTP status and its own words, e.g. the reason of a 400), the next attempt, and, where nothing was sent, why:
a duplicate (repeats of a delivered occurrence are not sent again), superseded (out of order), dry-run, dead, or
waiting (on a retry, on its trigger, or on its routing key's open circuit). It only
reads: nothing is sent, re-queued or changed.

It reads the store the functions use, from the same variables as npm run status: locally the file store under
STORE_PATH (default .data/); against Tablestore with STORE=tablestore, TABLESTORE_ENDPOINT, TABLESTORE_INSTANCE,
TABLESTORE_TABLE and ALIBABA_CLOUD_ACCESS_KEY_ID / _SECRET (/ _SECURITY_TOKEN).

What a query reads (on Tablestore each row read costs read capacity; the same rows on the file store):
  d1-<64 hex>         a delivery key: 2 single-row reads (the delivery and the other half of its occurrence)
  <dedup_key>         the PagerDuty dedup_key (the alert identity, e.g. ARMS's fingerprint): 1 marker row, then
                      one batch of at most 4 rows (4 per route for a group:v1: key) of its latest occurrence
  <dedup_key> --scan  every row of the table: also the older occurrences still stored
  <matchers> --scan   label matchers (alertname=HighCPU team=~"db|web" env!=staging): every row of the table,
                      keeping the deliveries whose alert labels match all of them. --scan is required: its cost
                      grows with the history kept (DELIVERY_TTL_SECONDS), fine now and then, not in a loop.

Examples:
  npm run trace -- bec72890cc2c7b4a027e008df0cd1013
  npm run trace -- alertname=HighCPU instance=10.0.0.1:9100 --scan

Options:
  --scan       read every stored row (needed for label matchers and older occurrences)
  --limit <n>  show at most n deliveries, newest first (default ${DEFAULT_LIMIT})
  --json       print the deliveries and their explanations as JSON
  --help       this text

Exit code: 0 deliveries found, 1 nothing stored for it, 2 wrong arguments, 3 invalid configuration or store
unreachable.`;

/** The positional arguments as a query (see the help text). */
function parseQuery(args: readonly string[]): TraceQuery {
  if (args.length === 0) {
    throw new OpsError('give a dedup_key, a delivery key or label matchers (see --help)', AnswerCode.USAGE);
  }
  if (args.length === 1 && DELIVERY_KEY.test(args[0] as string)) {
    return { kind: 'delivery-key', deliveryKey: args[0] as string };
  }
  if (args.length === 1 && !/[=~]/.test(args[0] as string)) return { kind: 'dedup-key', dedupKey: args[0] as string };
  const matchers: Matcher[] = [];
  for (const arg of args) {
    const parsed = parseMatcher(arg);
    if (parsed.matcher === undefined) {
      throw new OpsError(`${parsed.problem} (several arguments are label matchers; see --help)`, AnswerCode.USAGE);
    }
    matchers.push(parsed.matcher);
  }
  return { kind: 'labels', matchers };
}

function parseLimit(text: string | undefined): number {
  if (text === undefined) return DEFAULT_LIMIT;
  const limit = Number(text);
  if (!/^\d+$/.test(text) || limit < 1) {
    throw new OpsError(`--limit takes a whole number of at least 1, not ${JSON.stringify(text)}`, AnswerCode.USAGE);
  }
  return limit;
}

const iso = (ms: number | undefined) => (ms === undefined ? '-' : new Date(ms).toISOString());

function deliveryBlock(record: DeliveryRecord, explanation: DeliveryExplanation): string[] {
  const { pagerDuty } = explanation;
  const answer =
    pagerDuty === undefined
      ? '-'
      : `${pagerDuty.status === undefined ? 'no HTTP answer' : `HTTP ${pagerDuty.status}`}: ${pagerDuty.message}`;
  const occurrence = record.occurrence === NO_OCCURRENCE ? 'none (no startsAt)' : iso(record.occurrence);
  return [
    `received ${iso(record.createdAt)}  ${record.action}  ${record.status}  route ${record.routeName}`,
    `  occurrence  ${occurrence}`,
    `  attempts    ${record.attempts}`,
    `  PagerDuty   ${answer}`,
    `  next        ${iso(explanation.nextAttemptAt)}`,
    `  ${explanation.sent ? 'outcome     ' : 'why         '}${explanation.why}`,
    `  summary     ${record.event.payload.summary}`,
    `  keys        dedup_key ${record.dedupKey}, delivery ${record.deliveryKey}`,
  ];
}

function describeQuery(query: TraceQuery): string {
  if (query.kind === 'delivery-key') return `delivery ${query.deliveryKey}`;
  if (query.kind === 'dedup-key') return `dedup_key ${query.dedupKey}`;
  return `alerts matching ${query.matchers.map((matcher) => matcher.text).join(' ')}`;
}

async function main(): Promise<number> {
  const { values, positionals } = parseArguments(
    process.argv.slice(2),
    {
      scan: { type: 'boolean' },
      limit: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    'trace',
  );
  if (values.help) {
    console.log(HELP);
    return AnswerCode.YES;
  }
  const query = parseQuery(positionals);
  const limit = parseLimit(values.limit);
  const scan = values.scan === true;
  if (query.kind === 'labels' && !scan) {
    throw new OpsError(
      'label matchers are answered by reading every stored row: add --scan (its cost grows with the history kept; ' +
        'a dedup_key or a delivery key reads a few rows: see --help)',
      AnswerCode.USAGE,
    );
  }

  const { config, store, secrets, now: clock } = openInstance(process.env, { configCode: AnswerCode.CANNOT_ANSWER });
  const print = (text: string) => console.log(scrubSecrets(text, secrets));
  try {
    const routing = createRouter(config, process.env);
    const routeNames = [...routing.routes.map((route) => route.name), FALLBACK_ROUTE_NAME];
    let found: Awaited<ReturnType<typeof findDeliveries>>;
    let circuits: ReadonlyMap<string, CircuitState> | undefined;
    try {
      found = await findDeliveries(store, query, { routeNames, scan });
      const waiting = found.records.filter(
        (record) => record.status === DeliveryStatus.PENDING || record.status === DeliveryStatus.RETRY,
      );
      circuits = await readCircuits(store, routing.router, [...new Set(waiting.map((record) => record.routeName))]);
    } catch (error) {
      throw new OpsError(
        `the store is unreachable (${describeStore(config)}): ${(error as Error).message}`,
        AnswerCode.CANNOT_ANSWER,
      );
    }
    const now = clock();
    const shown = found.records.slice(0, limit);
    const explained = shown.map((record) => ({
      record,
      explanation: explainDelivery(record, { now, circuit: circuits?.get(record.routeName) }),
    }));
    if (values.json) {
      print(
        JSON.stringify(
          { query: describeQuery(query), read: found.read, total: found.records.length, deliveries: explained },
          null,
          2,
        ),
      );
      return found.records.length > 0 ? AnswerCode.YES : AnswerCode.NO;
    }
    const total = found.records.length;
    print(
      `${describeQuery(query)}: ${total} ${total === 1 ? 'delivery' : 'deliveries'}` +
        `${total > shown.length ? ` (the newest ${shown.length}: --limit)` : ''}, newest first`,
    );
    print(`  read ${found.read} from the ${describeStore(config)}`);
    for (const { record, explanation } of explained) print(['', ...deliveryBlock(record, explanation)].join('\n'));
    if (total === 0) {
      print('');
      print(
        'Nothing is stored for it: the webhook never accepted such an alert (or its row outlived DELIVERY_TTL_SECONDS).',
      );
      print('  Check npm run status (rejected callbacks by code), the ARMS notification policy and its webhook,');
      print('  and npm run routes -- <labels> (where it would go).');
    }
    if (found.partial) print(`\nOlder occurrences of this dedup_key are read only with --scan (every stored row).`);
    return total > 0 ? AnswerCode.YES : AnswerCode.NO;
  } finally {
    await store.close();
  }
}

runTool(main);
