/**
 * What the operator tools (`npm run status`, `redrive`, `send-test`) share: their exit codes, argument and duration
 * parsing, and the bridge instance built from the same environment variables as the functions, with its log lines
 * printed compactly on stderr (stdout stays the tool's answer, e.g. `--json`).
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';
import type { BridgeConfig } from '../../shared/config/config';
import { StoreKind } from '../../shared/constants';
import { type BridgeInstance, createInstance } from '../../shared/instance';

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
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw new OpsError(`${(error as Error).message} (see npm run ${tool} -- --help)`, ExitCode.USAGE);
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

type ReadyInstance = Extract<BridgeInstance, { ok: true }>;

/**
 * The bridge as `delivery-health` builds it (same variables, same `loadConfig`, same store), logging to stderr.
 *
 * @throws OpsError (config) when the configuration is invalid, with every problem listed
 */
function openInstance(env: NodeJS.ProcessEnv = process.env): ReadyInstance {
  const instance = createInstance('delivery-health', env, {
    codeDir: process.cwd(),
    logSink: (line) => process.stderr.write(`${terminalLine(line)}\n`),
  });
  if (!instance.ok) {
    const problems = instance.error.problems.map((problem) => `  - ${problem}`).join('\n');
    throw new OpsError(`configuration invalid (${instance.error.code}):\n${problems}`, ExitCode.CONFIG);
  }
  return instance;
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
 * Runs a tool's `main`, printing an {@link OpsError} as one line and any other error as `error: <message>` (the
 * logger is not involved, so a message is printed as is: the tools never put a secret into one).
 */
function runTool(main: () => Promise<number>): void {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      if (error instanceof OpsError) {
        process.stderr.write(`${error.message}\n`);
        process.exitCode = error.exitCode;
        return;
      }
      process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = ExitCode.FAILED;
    },
  );
}

export type { ReadyInstance };
export { describeStore, ExitCode, OpsError, openInstance, parseDuration, parseOptions, runTool, terminalLine };
