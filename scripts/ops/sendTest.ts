/**
 * `npm run send-test`: sends one real test page through a configured route, then resolves it. The ARMS console's
 * Test button sends nothing by design (the bridge answers it `"status":"test"`), so this is how an operator proves
 * that a routing key reaches the right PagerDuty service. Prints PagerDuty's answers, never the key.
 */

import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { sleep } from '../../shared/async';
import { Severity } from '../../shared/constants';
import type { RouteChoice } from '../../shared/delivery/Router';
import { sendEvent } from '../../shared/pagerduty/client';
import type { PagerDutyEventBody, SendResult } from '../../shared/pagerduty/types';
import { ExitCode, OpsError, openInstance, parseOptions, runTool } from './cli';
import { testResolve, testTrigger } from './testPage';

/** The longest wait before the resolve: a test page is not meant to stay open for long (use --keep-open). */
const MAX_RESOLVE_AFTER_SECONDS = 3_600;
const DEFAULT_RESOLVE_AFTER_SECONDS = 10;

const HELP = `Usage: npm run send-test -- [--route <name> | --labels k=v,...] [--severity <s>]
                             [--resolve-after <seconds> | --keep-open]

Sends ONE real test page to PagerDuty through a configured route, with the same client and settings as the
functions (PAGERDUTY_ROUTING_KEY, PAGERDUTY_ROUTES / PAGERDUTY_ROUTES_FILE, PAGERDUTY_EVENTS_URL,
PAGERDUTY_TIMEOUT_MS), then resolves it. The summary reads "ARMS → PagerDuty bridge test page from <host> at
<time>"; the dedup_key is arms-pagerduty-bridge/test/<uuid>, new each time. The ARMS console's Test button sends
nothing by design: use this to check that a key reaches the right PagerDuty service.

Options:
  --route <name>           the route to use (default: default, the PAGERDUTY_ROUTING_KEY fallback)
  --labels k=v,...         pick the route as an alert with these labels would be routed (instead of --route)
  --severity <s>           ${Object.values(Severity).join(', ')} (default: info)
  --resolve-after <sec>    resolve it after this many seconds, 0 to ${MAX_RESOLVE_AFTER_SECONDS} (default: ${DEFAULT_RESOLVE_AFTER_SECONDS})
  --keep-open              do not resolve it (resolve it in PagerDuty)
  --help                   this text

Refuses (exit 2) in dry-run (DRY_RUN=true, or no routing key configured), for an unknown route, or a route without
a key. Prints PagerDuty's answers (HTTP status, dedup_key), never the routing key.

Exit code: 0 sent (and resolved), 1 PagerDuty refused or was unreachable, 2 configuration, 64 wrong arguments.`;

/** `k=v,k2=v2` → labels. Values cannot hold a comma. */
function parseLabels(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const pair of text.split(',')) {
    const at = pair.indexOf('=');
    const name = pair.slice(0, Math.max(0, at)).trim();
    if (at <= 0 || name === '')
      throw new OpsError(`--labels takes k=v,..., not ${JSON.stringify(pair)}`, ExitCode.USAGE);
    labels[name] = pair.slice(at + 1).trim();
  }
  return labels;
}

function parseSeverity(text: string | undefined): Severity {
  if (text === undefined) return Severity.INFO;
  const values: readonly string[] = Object.values(Severity);
  if (!values.includes(text)) {
    throw new OpsError(`--severity takes ${values.join(', ')}, not ${JSON.stringify(text)}`, ExitCode.USAGE);
  }
  return text as Severity;
}

function parseResolveAfter(text: string | undefined, keepOpen: boolean): number | undefined {
  if (keepOpen) {
    if (text !== undefined) throw new OpsError('--keep-open and --resolve-after exclude each other', ExitCode.USAGE);
    return undefined;
  }
  if (text === undefined) return DEFAULT_RESOLVE_AFTER_SECONDS;
  const seconds = Number(text);
  if (!/^\d+$/.test(text) || seconds > MAX_RESOLVE_AFTER_SECONDS) {
    throw new OpsError(`--resolve-after takes whole seconds from 0 to ${MAX_RESOLVE_AFTER_SECONDS}`, ExitCode.USAGE);
  }
  return seconds;
}

/** PagerDuty's answer in one line: status and dedup_key, or why it failed. Never holds the key (`client.ts`). */
function answer(action: string, result: SendResult, sent: PagerDutyEventBody): string {
  const status = result.statusCode === undefined ? 'no answer' : `HTTP ${result.statusCode}`;
  if (result.ok) return `${action}: accepted (${status}), dedup_key ${result.dedupKey ?? sent.dedup_key}`;
  return `${action}: REFUSED (${status}, ${result.reason}): ${result.message}`;
}

async function main(): Promise<number> {
  const options = parseOptions(
    process.argv.slice(2),
    {
      route: { type: 'string' },
      labels: { type: 'string' },
      severity: { type: 'string' },
      'resolve-after': { type: 'string' },
      'keep-open': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    'send-test',
  );
  if (options.help) {
    console.log(HELP);
    return ExitCode.OK;
  }
  if (options.route !== undefined && options.labels !== undefined) {
    throw new OpsError('--route and --labels exclude each other', ExitCode.USAGE);
  }
  const labels = options.labels === undefined ? undefined : parseLabels(options.labels);
  const severity = parseSeverity(options.severity);
  const resolveAfterSeconds = parseResolveAfter(options['resolve-after'], options['keep-open'] === true);

  const { config, router, store } = openInstance();
  // Nothing here reads or writes the store: a test page is not an alert and leaves no delivery behind.
  await store.close();
  if (config.pagerduty.dryRun) {
    throw new OpsError(
      `refusing to send: this configuration is dry-run (${config.pagerduty.dryRunReason ?? 'DRY_RUN=true'}); ` +
        'set PAGERDUTY_ROUTING_KEY (or a route key) and leave DRY_RUN unset',
      ExitCode.CONFIG,
    );
  }
  const routeName = options.route ?? 'default';
  const route: RouteChoice | undefined = labels === undefined ? router.byName(routeName) : router.select(labels);
  if (route === undefined)
    throw new OpsError(`refusing to send: no route named ${JSON.stringify(routeName)}`, ExitCode.CONFIG);
  if (route.routingKey === undefined) {
    throw new OpsError(
      `refusing to send: route ${JSON.stringify(route.name)} has no routing key (its key variable is unset, and so is PAGERDUTY_ROUTING_KEY)`,
      ExitCode.CONFIG,
    );
  }
  const { routingKey } = route;
  const url = config.pagerduty.eventsUrl;
  const send = (event: PagerDutyEventBody) =>
    sendEvent({ url, routingKey, event, timeoutMs: config.pagerduty.timeoutMs });

  const trigger = testTrigger({
    host: hostname(),
    at: Date.now(),
    severity,
    route: route.name,
    id: randomUUID(),
    resolveAfterSeconds,
  });
  console.log(`route ${route.name}${labels === undefined ? '' : ' (selected by --labels)'}, ${new URL(url).host}`);
  console.log(`summary: ${trigger.payload.summary}`);
  const triggered = await send(trigger);
  console.log(answer('trigger', triggered, trigger));
  if (!triggered.ok) return ExitCode.FAILED;
  if (resolveAfterSeconds === undefined) {
    console.log(`kept open: resolve it in PagerDuty (dedup_key ${trigger.dedup_key})`);
    return ExitCode.OK;
  }
  if (resolveAfterSeconds > 0) {
    console.log(`resolving in ${resolveAfterSeconds} s (Ctrl-C leaves it open)`);
    await sleep(resolveAfterSeconds * 1000);
  }
  const resolve = testResolve(trigger, Date.now());
  const resolved = await send(resolve);
  console.log(answer('resolve', resolved, resolve));
  return resolved.ok ? ExitCode.OK : ExitCode.FAILED;
}

runTool(main);
