/**
 * `npm run check-config`: loads each function's configuration exactly as the function would (`createBridge`, so
 * the same `loadConfig`, routing rules, cross-setting rules and store construction), offline: no store call, nothing
 * sent. By default as deployed: the environment `s.yaml` gives the function (its `${env(…)}` resolved from this
 * shell, so a variable s.yaml does not pass is missing, as on FC), `FC_FUNCTION_NAME` set, files resolved against the
 * code package. `--local` checks what `npm start` would run instead. Prints every problem with the setting or rule it
 * belongs to, or a one-screen summary with secrets masked exactly as the local runtime's banner masks them.
 */
import { dirname, join, relative, resolve } from 'node:path';
import { createBridge } from '../../shared/app';
import { type BridgeSummary, describeBridge } from '../../shared/bridgeSummary';
import { scrubSecrets } from '../../shared/config/scrubSecrets';
import type { FunctionName } from '../../shared/config/settings';
import { FC_ENV_MAX_BYTES } from '../../shared/constants';
import { type FunctionSpec, readFunctions } from '../local-runtime/readFunctions';
import { AnswerCode, describeStore, OpsError, parseArguments, runTool, terminalLine } from './cli';

const HELP = `Usage: npm run check-config [-- --local] [--function <name>] [--s-yaml <file>] [--json]

Loads the configuration of each function in s.yaml (alert-webhook, delivery-health) exactly as the function loads it
at cold start, and prints every problem with the setting or routing rule it belongs to, or a one-screen summary of
what is configured (secrets masked as the npm start banner masks them: ****ab12). Offline: nothing is read from the
store and nothing is sent to PagerDuty.

By default it checks the functions as deployed: each gets only the environment s.yaml gives it (its \${env('NAME')}
read from this shell, so a variable s.yaml does not pass, e.g. a route's routingKeyEnv, is missing as it would be on
FC), with FC_FUNCTION_NAME set (the deployed-only rules apply: WEBHOOK_TOKENS, STORE=tablestore, a routing key), and
PAGERDUTY_ROUTES_FILE resolved against the function's code package (dist/<function>/, what s deploy uploads). The
environment's size is checked against FC's 4 KB limit.

Example (CI, before s deploy):
  WEBHOOK_TOKENS=… PAGERDUTY_ROUTING_KEY=… TABLESTORE_ENDPOINT=… TABLESTORE_INSTANCE=… npm run check-config

Options:
  --local            check what npm start would run: this shell's whole environment, not deployed
  --function <name>  check one function only
  --s-yaml <file>    the Serverless Devs file (default: s.yaml)
  --json             print the result as JSON (problems, warnings and the masked summary per function)
  --help             this text

A function stops at the first stage that fails (the settings, then the routing rules, then the routing-key rule), as
it does at cold start: fix what is printed and run it again.

Exit code: 0 every function's configuration is valid, 1 some function has problems, 2 wrong arguments.`;

/** The result for one function. */
interface FunctionCheck {
  name: string;
  problems: string[];
  warnings: string[];
  summary: BridgeSummary;
  store?: string;
  /** Bytes of the deployed environment (names and values), against FC's limit. */
  environmentBytes?: number;
}

/** FC counts each variable's name and value (the measure `tests/integration/tooling/sYaml.test.ts` uses too). */
function environmentBytes(variables: Readonly<Record<string, string>>): number {
  return Object.entries(variables).reduce(
    (sum, [name, value]) => sum + Buffer.byteLength(name) + Buffer.byteLength(value),
    0,
  );
}

/** A `routingKeyEnv` variable this shell has but s.yaml does not pass: say how to pass it. */
function hintsFor(problems: readonly string[], spec: FunctionSpec, shell: NodeJS.ProcessEnv): string[] {
  const hints: string[] = [];
  for (const problem of problems) {
    const name = /routingKeyEnv ([A-Za-z_][A-Za-z0-9_]*) is not set/.exec(problem)?.[1];
    if (name !== undefined && (shell[name] ?? '') !== '' && !(name in spec.environmentVariables)) {
      hints.push(
        `${name} is set in this shell but s.yaml does not pass it to ${spec.name}: add ${name}: \${env('${name}', '')} to its environmentVariables`,
      );
    }
    if (problem.startsWith('PAGERDUTY_ROUTES_FILE') && problem.includes('cannot be read')) {
      hints.push(
        `PAGERDUTY_ROUTES_FILE is read from the code package ${spec.code}/ (npm run build recreates it): the file must be there when the function starts`,
      );
    }
  }
  return hints;
}

function checkFunction(
  spec: FunctionSpec,
  codeDir: string,
  deployed: boolean,
  shell: NodeJS.ProcessEnv,
): FunctionCheck {
  const env: Record<string, string | undefined> = deployed
    ? { ...spec.environmentVariables, FC_FUNCTION_NAME: spec.name }
    : { ...shell, FC_FUNCTION_NAME: undefined };
  const warnings: string[] = [];
  const built = createBridge(spec.name as FunctionName, env, {
    codeDir,
    logSink: (line) => {
      const { level } = JSON.parse(line) as { level?: string };
      // The dry-run warning is in the summary already.
      const text = terminalLine(line).replace(/^warn: /, '');
      if (level === 'WARN' && !text.startsWith('DRY-RUN')) warnings.push(text);
    },
  });
  const summary = describeBridge(built, env);
  const scrub = (text: string) => scrubSecrets(text, built.ok ? built.bridge.secrets : built.secrets);
  const problems = built.ok ? [] : [...built.error.problems, ...hintsFor(built.error.problems, spec, shell)];
  const check: FunctionCheck = {
    name: spec.name,
    problems: problems.map(scrub),
    warnings: warnings.map(scrub),
    summary,
  };
  if (built.ok) {
    check.store = describeStore(built.bridge.config);
    // Built, never used: constructing a store opens no connection.
    void built.bridge.store.close();
  }
  if (deployed) {
    check.environmentBytes = environmentBytes(spec.environmentVariables);
    if (check.environmentBytes > FC_ENV_MAX_BYTES) {
      check.problems.push(
        `the environment s.yaml gives ${spec.name} is ${check.environmentBytes} bytes, over FC's ${FC_ENV_MAX_BYTES}: move long routing rules from PAGERDUTY_ROUTES to PAGERDUTY_ROUTES_FILE`,
      );
    }
  }
  return check;
}

/** The summary of a valid configuration, one screen: what is set, the routes, and the flags that matter. */
function summaryLines(check: FunctionCheck): string[] {
  const { summary } = check;
  const lines = [`  store        ${check.store ?? '?'}`];
  const width = Math.max(0, ...summary.configured.map((name) => name.length));
  const set = summary.configured.map((name) => `${name.padEnd(width)}  ${String(summary.settings[name])}`);
  lines.push(...set.map((line, at) => `  ${at === 0 ? 'set        ' : '           '}  ${line}`));
  if (set.length === 0) lines.push('  set          nothing: every setting has its default');
  summary.routes.forEach((route, at) => {
    const matchers = route.matchers.length === 0 ? '(every alert)' : route.matchers.join(', ');
    const key = route.key === null ? 'NO KEY' : `${route.key} (${route.keyEnv ?? route.keySource})`;
    const severity = route.defaultSeverity === undefined ? '' : `, default severity ${route.defaultSeverity}`;
    lines.push(
      `  ${at === 0 ? 'routes     ' : '           '}  ${route.name}: ${matchers} → ${key}, ${route.mode}${severity}`,
    );
  });
  if (summary.dryRun)
    lines.push(`  DRY-RUN      nothing is sent to PagerDuty (${summary.dryRunReason ?? 'DRY_RUN=true'})`);
  if (summary.unauthenticated && check.name === 'alert-webhook') {
    lines.push('  UNAUTHENTICATED  no WEBHOOK_TOKENS: any request is accepted');
  }
  if (check.environmentBytes !== undefined) {
    lines.push(`  environment  ${check.environmentBytes} of ${FC_ENV_MAX_BYTES} bytes (FC's limit for all variables)`);
  }
  return lines;
}

function report(check: FunctionCheck): string[] {
  const problems = check.problems.length;
  const head = `${check.name}: ${problems === 0 ? 'OK' : `${problems} PROBLEM${problems === 1 ? '' : 'S'}`}`;
  const body = problems === 0 ? summaryLines(check) : check.problems.map((problem) => `  - ${problem}`);
  return [head, ...body, ...check.warnings.map((warning) => `  warning: ${warning}`)];
}

async function main(): Promise<number> {
  const { values } = parseArguments(
    process.argv.slice(2),
    {
      local: { type: 'boolean' },
      function: { type: 'string' },
      's-yaml': { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    'check-config',
    { allowPositionals: false },
  );
  if (values.help) {
    console.log(HELP);
    return AnswerCode.YES;
  }
  const sYamlPath = resolve(values['s-yaml'] ?? 's.yaml');
  let specs: Map<string, FunctionSpec>;
  try {
    specs = readFunctions(sYamlPath, process.env);
  } catch (error) {
    throw new OpsError((error as Error).message, AnswerCode.USAGE);
  }
  const chosen = [...specs.values()].filter((spec) => values.function === undefined || spec.name === values.function);
  if (chosen.length === 0) {
    throw new OpsError(
      `--function: ${relative(process.cwd(), sYamlPath)} has no function ${JSON.stringify(values.function)} (it has ${[...specs.keys()].join(', ')})`,
      AnswerCode.USAGE,
    );
  }
  const deployed = values.local !== true;
  const checks = chosen.map((spec) => checkFunction(spec, join(dirname(sYamlPath), spec.code), deployed, process.env));
  if (values.json) {
    console.log(JSON.stringify({ deployed, functions: checks }, null, 2));
  } else {
    console.log(
      deployed
        ? `Configuration as deployed (${values['s-yaml'] ?? 's.yaml'} environment, FC_FUNCTION_NAME set; secrets masked)`
        : 'Configuration as npm start runs it (this shell, not deployed; secrets masked)',
    );
    for (const check of checks) console.log(['', ...report(check)].join('\n'));
  }
  return checks.every((check) => check.problems.length === 0) ? AnswerCode.YES : AnswerCode.NO;
}

runTool(main);
