/** Types of `startLocalRuntime.mjs` (plain ESM, so `npm start` needs no TypeScript step). */

interface LocalRuntimeOptions {
  /** Directory holding `<function>/index.js` bundles. @default `<repo>/dist` */
  distDir?: string;
  /** Port on 127.0.0.1; 0 picks a free one. @default 9000 */
  port?: number;
  /** Environment of the functions (FC_FUNCTION_NAME is always removed). @default process.env */
  env?: Record<string, string | undefined>;
  /** Functions description. @default `<repo>/s.yaml` */
  sYamlPath?: string;
  /** Run timer-triggered functions every N seconds instead of on their s.yaml cron (LOCAL_TIMER_SECONDS). */
  timerSeconds?: number;
  /** How long `close()` waits for accepted invocations. @default the longest function timeout + 5 s */
  shutdownGraceMs?: number;
  /** Where ordinary lines go (with `log` or `logError` set, the handlers' stdout too). @default process.stdout */
  log?: (line: string) => void;
  /** Where warnings and failures go (with `log` or `logError` set, the handlers' stderr too). @default process.stderr */
  logError?: (line: string) => void;
}

interface LocalRuntime {
  /** `http://127.0.0.1:<port>/`: where ARMS (or curl) posts. */
  url: string;
  port: number;
  /** Requests and timer runs accepted and not yet answered. */
  readonly outstanding: number;
  /**
   * Stops accepting, waits (bounded) for accepted invocations, stops the function instances. `clean` is false when
   * the grace period ran out first. Idempotent.
   */
  close(): Promise<{ clean: boolean }>;
}

declare const DEFAULT_PORT: number;
declare const INVOKE_API_PATH: RegExp;
declare function startLocalRuntime(options?: LocalRuntimeOptions): Promise<LocalRuntime>;

export type { LocalRuntime, LocalRuntimeOptions };
export { DEFAULT_PORT, INVOKE_API_PATH, startLocalRuntime };
