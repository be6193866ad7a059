/**
 * `npm run routes`: "which PagerDuty service will this alert go to?", answered by the webhook's own code: intake
 * (`readCallback`), routing (`createRouter`), event building and delivery keys (`previewDeliveries`, the webhook's
 * plan and drafts), on an empty in-memory store that is dropped at exit. Nothing is stored, nothing is sent.
 * Exit code 0 when every alert routes to a key, 1 otherwise (for CI on a rules file), 2 wrong arguments, 3 the
 * configuration is invalid.
 */
import { readFileSync } from 'node:fs';
import { readCallback } from '../../shared/alerts/readCallback';
import type { RejectedAlert } from '../../shared/alerts/types';
import type { Bridge } from '../../shared/app';
import { scrubSecrets } from '../../shared/config/scrubSecrets';
import { AlertStatus, DeliveryMode } from '../../shared/constants';
import { type AlertPreview, previewDeliveries } from '../../shared/delivery/previewDeliveries';
import { ErrorCode, PayloadInvalidError } from '../../shared/errors';
import { MemoryStore } from '../../shared/store/MemoryStore';
import { AnswerCode, OpsError, openInstance, parseArguments, runTool } from './cli';

const HELP = `Usage: npm run routes -- <label>=<value> ... [--status firing|resolved] [--fingerprint <fp>]
                          [--starts-at <time>] [--event]
       npm run routes -- --callback <file.json> [--event]

Answers "which PagerDuty service will this alert go to?" with the webhook's own intake, routing and event building,
from the same configuration (PAGERDUTY_ROUTING_KEY, PAGERDUTY_ROUTES / PAGERDUTY_ROUTES_FILE relative to the working
directory, DELIVERY_MODE, IDENTITY_EXCLUDED_LABELS, the PD_KEY_* variables routes name). Nothing is stored and
nothing is sent: no store, no PagerDuty.

For each alert, one line: its index in alerts[], status and alertname, the route that matches (first match wins;
"default" is PAGERDUTY_ROUTING_KEY), the mode, the routing key as its masked id (never the key), the severity after
the mapping and where it came from, and the alert identity (the PagerDuty dedup_key). Rejected alerts are listed
with the reason the webhook would give.

Examples:
  npm run routes -- alertname=HighCPU team=db severity=p1
  npm run routes -- alertname=HighCPU team=db --status resolved --event
  PAGERDUTY_ROUTES_FILE=routes.json npm run routes -- --callback tests/fixtures/arms/sample.json

Options:
  <label>=<value>      the labels of one alert (a value may hold "="; quote it for the shell)
  --status <s>         firing (default) or resolved
  --fingerprint <fp>   the alert's fingerprint (ARMS sends one; without it the identity hashes the labels)
  --starts-at <time>   the alert's startsAt, RFC 3339 (default: now); it tells occurrences apart
  --callback <file>    a saved callback body (ARMS $alertmanager_content or Alertmanager webhook JSON)
  --event              also print the PagerDuty event each delivery would send (routing_key masked)
  --help               this text

A resolve goes to the route its stored trigger went to; with no store, this shows the route its labels select.
Per-group dedup_keys depend on the callback's receiver and group labels: use --callback for them.

Exit code: 0 every alert routes to a key, 1 some alert does not (no key, rejected, or nothing to route),
2 wrong arguments, 3 the configuration is invalid (its problems are printed).`;

/** `alertname=HighCPU` → ['alertname', 'HighCPU']; the first `=` splits. */
function parseLabel(text: string): [string, string] {
  const at = text.indexOf('=');
  if (at <= 0)
    throw new OpsError(`labels are <name>=<value>, not ${JSON.stringify(text)} (see --help)`, AnswerCode.USAGE);
  return [text.slice(0, at), text.slice(at + 1)];
}

function parseStatus(text: string | undefined): string {
  if (text === undefined) return AlertStatus.FIRING;
  const values: readonly string[] = Object.values(AlertStatus);
  if (!values.includes(text)) {
    throw new OpsError(`--status takes ${values.join(' or ')}, not ${JSON.stringify(text)}`, AnswerCode.USAGE);
  }
  return text;
}

function parseStartsAt(text: string | undefined, now: number): string {
  if (text === undefined) return new Date(now).toISOString();
  if (Number.isNaN(Date.parse(text))) {
    throw new OpsError(`--starts-at takes an RFC 3339 time, not ${JSON.stringify(text)}`, AnswerCode.USAGE);
  }
  return text;
}

/** The callback one alert with these labels would arrive in (an Alertmanager webhook, as ARMS sends). */
function callbackOf(labels: Record<string, string>, status: string, startsAt: string, fingerprint?: string): Buffer {
  const alert: Record<string, unknown> = { status, labels, annotations: {}, startsAt };
  if (status === AlertStatus.RESOLVED) alert.endsAt = new Date().toISOString();
  if (fingerprint !== undefined) alert.fingerprint = fingerprint;
  return Buffer.from(JSON.stringify({ version: '4', status, commonLabels: labels, alerts: [alert] }));
}

function readFile(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new OpsError(
      `--callback ${path}: cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
      AnswerCode.USAGE,
    );
  }
}

/** One alert's answer on one line. */
function alertLine(preview: AlertPreview, dryRun: boolean): string {
  const { index, alert, route, record, mode } = preview;
  const name = alert.labels.alertname ?? '(no alertname)';
  const key =
    route.routingKey === undefined
      ? 'NO ROUTING KEY (neither the route nor PAGERDUTY_ROUTING_KEY has one)'
      : `key ${route.routingKey.masked()}${dryRun ? ' (dry-run: nothing would be sent)' : ''}`;
  const details = record.event.payload.custom_details as { severity_source?: unknown } | undefined;
  const from = typeof details?.severity_source === 'string' ? details.severity_source : undefined;
  const label = from?.startsWith('labels.') ? alert.labels[from.slice('labels.'.length)] : undefined;
  const source = from === undefined ? '' : ` (${from}${label === undefined ? '' : ` ${JSON.stringify(label)}`})`;
  const shared =
    preview.sameDeliveryAs === undefined
      ? ''
      : mode === DeliveryMode.PER_GROUP
        ? `, one event with #${preview.sameDeliveryAs}`
        : `, a repeat of #${preview.sameDeliveryAs} in this callback (one delivery)`;
  return (
    `#${index} ${alert.status} ${name} → route ${route.name} (${mode}), ${key}, ` +
    `severity ${record.event.payload.severity}${source}, ${record.action}, dedup_key ${record.dedupKey}${shared}`
  );
}

function rejectedLine(rejected: RejectedAlert): string {
  return `#${rejected.index} REJECTED: ${rejected.reason}`;
}

/** The event as it would be sent: the stored body plus the routing key, masked. */
function eventText(preview: AlertPreview): string {
  const routingKey = preview.route.routingKey?.masked() ?? null;
  return JSON.stringify({ routing_key: routingKey, ...preview.record.event }, null, 2)
    .split('\n')
    .map((line) => `    ${line}`)
    .join('\n');
}

function answer(instance: Bridge, body: Buffer, contentType: string, withEvents: boolean): number {
  const { config, router, logger, now, secrets } = instance;
  const print = (text: string) => console.log(scrubSecrets(text, secrets));
  let reading: ReturnType<typeof readCallback>;
  try {
    reading = readCallback(body, contentType, config.webhook, {
      identityExcludedLabels: config.webhook.identityExcludedLabels,
    });
  } catch (error) {
    if (!(error instanceof PayloadInvalidError)) throw error;
    if (error.code === ErrorCode.NO_VALID_ALERTS && Array.isArray(error.details)) {
      for (const rejected of error.details as RejectedAlert[]) print(rejectedLine(rejected));
    }
    print(`the webhook would answer ${error.statusCode} ${error.code}: ${error.message}`);
    return AnswerCode.NO;
  }
  if (reading.kind === 'console-test') {
    print(`the ARMS console test (${reading.detail}): the webhook answers 200 "test" and routes nothing`);
    return AnswerCode.NO;
  }
  const { group } = reading;
  const previews = previewDeliveries(group, { config, router, logger }, now());
  const lines = [
    ...previews.map((preview) => ({ index: preview.index, preview })),
    ...group.rejected.map((rejected) => ({ index: rejected.index, rejected })),
  ].sort((a, b) => a.index - b.index);
  for (const line of lines) {
    if ('rejected' in line) {
      print(rejectedLine(line.rejected));
      continue;
    }
    print(alertLine(line.preview, config.pagerduty.dryRun));
    if (withEvents && line.preview.sameDeliveryAs === undefined) print(eventText(line.preview));
  }
  const unrouted = previews.filter((preview) => preview.route.routingKey === undefined).length;
  const total = previews.length + group.rejected.length;
  print(
    `${total} alert${total === 1 ? '' : 's'}: ${previews.length - unrouted} route to a key, ${unrouted} without a key, ${group.rejected.length} rejected` +
      (config.pagerduty.dryRun ? ` (dry-run: ${config.pagerduty.dryRunReason ?? 'DRY_RUN=true'})` : ''),
  );
  return unrouted === 0 && group.rejected.length === 0 ? AnswerCode.YES : AnswerCode.NO;
}

async function main(): Promise<number> {
  const { values, positionals } = parseArguments(
    process.argv.slice(2),
    {
      callback: { type: 'string' },
      status: { type: 'string' },
      fingerprint: { type: 'string' },
      'starts-at': { type: 'string' },
      event: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    'routes',
  );
  if (values.help) {
    console.log(HELP);
    return AnswerCode.YES;
  }
  let body: Buffer;
  if (values.callback !== undefined) {
    if (positionals.length > 0 || values.status || values.fingerprint || values['starts-at']) {
      throw new OpsError(
        '--callback takes the alerts from the file: give no labels, --status, --fingerprint or --starts-at',
        AnswerCode.USAGE,
      );
    }
    body = readFile(values.callback);
  } else {
    if (positionals.length === 0) {
      throw new OpsError(
        'give the labels of an alert (e.g. alertname=HighCPU team=db) or --callback <file> (see --help)',
        AnswerCode.USAGE,
      );
    }
    const labels = Object.fromEntries(positionals.map(parseLabel));
    body = callbackOf(
      labels,
      parseStatus(values.status),
      parseStartsAt(values['starts-at'], Date.now()),
      values.fingerprint,
    );
  }
  // The webhook's configuration, on an empty memory store: nothing this tool does is kept anywhere.
  const instance = openInstance(process.env, {
    service: 'alert-webhook',
    store: new MemoryStore(),
    configCode: AnswerCode.CANNOT_ANSWER,
  });
  return answer(instance, body, 'application/json; charset=utf-8', values.event === true);
}

runTool(main);
