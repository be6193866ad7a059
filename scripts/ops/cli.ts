/**
 * What the operator tools (`npm run status`, `redrive`, `send-test`, `routes`, `check-config`, `trace`) share: their
 * exit codes, argument and duration parsing, and the bridge instance built from the same environment variables as the
 * functions, with its log lines printed compactly on stderr (stdout stays the tool's answer, e.g. `--json`).
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { type Bridge, createBridge } from '../../shared/app';
import type { BridgeConfig } from '../../shared/config/config';
import { configuredSecrets } from '../../shared/config/configuredSecrets';
import { scrubSecrets } from '../../shared/config/scrubSecrets';
import type { FunctionName } from '../../shared/config/settings';
import { StoreKind } from '../../shared/constants';
import type { DeliveryStore } from '../../shared/store/DeliveryStore';

/** Exit codes shared by the tools (`status` adds 1 degraded, 2 failing: see `status.ts`). */
const ExitCode = {
  OK: 0,
  /** The operation ran and failed (PagerDuty refused, the store failed). */
  FAILED: 1,
  /** The configuration does not allow it (invalid settings, dry-run, no routing key, unknown route). */
  CONFIG: 2,
  /** Wrong arguments (BSD `EX_USAGE`). */
  USAGE: 64,
} as const;

/**
 * Exit codes of the tools that answer a question (`routes`, `check-config`, `trace`): yes, no, or the question was
 * asked wrong. A CI step can gate on "every alert routes to a key" or "the configuration is valid".
 */
const AnswerCode = {
  /** Every alert routes to a key; the configuration is valid; deliveries were found. */
  YES: 0,
  /** Some alert does not route to a key; the configuration has problems; nothing is stored for it. */
  NO: 1,
  /** Wrong arguments. */
  USAGE: 2,
  /** The question cannot be answered here: the configuration is invalid, or the store is unreachable. */
  CANNOT_ANSWER: 3,
} as const;

/** A failure the tool reports as one line on stderr, then exits with `exitCode`. */
class OpsError extends Error {
  public readonly exitCode: number;

  public constructor(message: string, exitCode: number) {
    super(message);
    this.name = 'OpsError';
    this.exitCode = exitCode;
  }
}

const DURATION = /^(\d+)(s|m|h|d)$/;
const UNIT_MS: Readonly<Record<string, number>> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * A duration like `90s`, `30m`, `2h` or `7d`, in milliseconds.
 *
 * @throws OpsError (usage) when the text is not one
 *
 * @example
 * parseDuration('30m', '--older-than'); // 1_800_000
 */
function parseDuration(text: string, option: string): number {
  const match = DURATION.exec(text.trim());
  if (match === null) {
    throw new OpsError(
      `${option} takes a duration like 90s, 30m, 2h or 7d, not ${JSON.stringify(text)}`,
      ExitCode.USAGE,
    );
  }
  return Number(match[1]) * (UNIT_MS[match[2] as string] as number);
}

/** `node:util` `parseArgs` in strict mode, its errors turned into usage errors naming `--help`. */
function parseOptions<T extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: T, tool: string) {
  return parseArguments(argv, options, tool, { allowPositionals: false, usageCode: ExitCode.USAGE }).values;
}

/**
 * `parseOptions` with positional arguments, for the tools that take a query (`routes`, `trace`). Their usage errors
 * exit with `AnswerCode.USAGE` (2) unless `usageCode` says otherwise.
 */
function parseArguments<T extends NonNullable<ParseArgsConfig['options']>>(
  argv: string[],
  options: T,
  tool: string,
  { allowPositionals = true, usageCode = AnswerCode.USAGE as number } = {},
) {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals });
  } catch (error) {
    throw new OpsError(`${(error as Error).message} (see npm run ${tool} -- --help)`, usageCode);
  }
}

/** One log line of the bridge's JSON logger, shortened for a terminal: `warn: message {fields}` (secrets already scrubbed). */
function terminalLine(line: string): string {
  try {
    const { level, message, time: _time, service: _service, ...rest } = JSON.parse(line) as Record<string, unknown>;
    const fields = JSON.stringify(rest, (key, value) => (key === 'stack' ? undefined : value));
    return `${String(level).toLowerCase()}: ${String(message)}${fields === '{}' ? '' : ` ${fields}`}`;
  } catch {
    return line;
  }
}

/** Options of {@link openInstance}. */
interface OpenOptions {
  /** The function whose configuration to load. @default 'delivery-health' */
  service?: FunctionName;
  /** A store to use instead of the configured one (`routes` runs on an empty memory store: nothing is kept). */
  store?: DeliveryStore;
  /** Exit code of an invalid configuration. @default ExitCode.CONFIG */
  configCode?: number;
}

/**
 * The bridge as `delivery-health` builds it (same variables, same `loadConfig`, same store), logging to stderr.
 * Relative file settings (`PAGERDUTY_ROUTES_FILE`) resolve against the working directory.
 *
 * @throws OpsError (config) when the configuration is invalid, with every problem listed (secrets scrubbed)
 */
function openInstance(env: NodeJS.ProcessEnv = process.env, options: OpenOptions = {}): Bridge {
  const built = createBridge(options.service ?? 'delivery-health', env, {
    codeDir: process.cwd(),
    logSink: (line) => process.stderr.write(`${terminalLine(line)}\n`),
    store: options.store,
  });
  if (!built.ok) {
    const problems = built.error.problems.map((problem) => `  - ${problem}`).join('\n');
    throw new OpsError(
      `configuration invalid (${built.error.code}):\n${problems}`,
      options.configCode ?? ExitCode.CONFIG,
    );
  }
  return built.bridge;
}

/** Which store the tool reads, in words (the Tablestore endpoint and names are not secrets; credentials are). */
function describeStore(config: BridgeConfig): string {
  const { store } = config;
  switch (store.kind) {
    case StoreKind.FILE:
      return `file store ${store.path}`;
    case StoreKind.MEMORY:
      return 'memory store (empty: this process has its own)';
    case StoreKind.TABLESTORE:
      return `tablestore ${store.tablestoreEndpoint ?? '?'} instance ${store.tablestoreInstance ?? '?'} table ${store.tablestoreTable}`;
  }
}

/**
 * Runs a tool's `main`, printing an {@link OpsError} as one line and any other error as `error: <message>`. The
 * logger is not involved, so every configured secret is scrubbed from the message here (a store or SDK error may
 * quote one).
 */
function runTool(main: () => Promise<number>): void {
  const print = (text: string) =>
    process.stderr.write(`${scrubSecrets(text, configuredSecrets(process.env, { codeDir: process.cwd() }))}\n`);
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      if (error instanceof OpsError) {
        print(error.message);
        process.exitCode = error.exitCode;
        return;
      }
      print(`error: ${error instanceof Error ? error.message : String(error)}`);
      process.exitCode = ExitCode.FAILED;
    },
  );
}

export type { OpenOptions };
export {
  AnswerCode,
  describeStore,
  ExitCode,
  OpsError,
  openInstance,
  parseArguments,
  parseDuration,
  parseOptions,
  runTool,
  terminalLine,
};
