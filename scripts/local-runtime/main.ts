// npm start: runs the bundled functions locally the way Function Compute 3.0 would (shared CONTRACT.md §1–§3).
//
//   node dist/local-runtime/index.mjs [--dist-dir <dir>] [--s-yaml <file>]   (npm run build bundles it from here)
//
// Environment: the deployed functions' variables (passed through to the functions, minus FC_FUNCTION_NAME), plus the
// local-only PORT (default 9000; 0 picks a free port) and LOCAL_TIMER_SECONDS (run the timer functions every N seconds
// instead of on their s.yaml cron). Ctrl-C or SIGTERM stops accepting requests, lets accepted invocations finish, and
// exits 0; a second Ctrl-C exits at once.
import { parseArgs } from 'node:util';
import { DEFAULT_PORT, type LocalRuntime, startLocalRuntime } from './startLocalRuntime';

/** Exit code of a second Ctrl-C (128 + SIGINT), the shell's convention for "interrupted". */
const EXIT_INTERRUPTED = 130;

/** Reads an optional variable; an empty value counts as unset (CONTRACT §2). */
function readNumber<T extends number | undefined>(
  env: NodeJS.ProcessEnv,
  name: string,
  { fallback, min, integer }: { fallback: T; min: number; integer: boolean },
): number | T {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || (integer && !Number.isInteger(value))) {
    throw new Error(
      `Environment variable ${name} must be ${integer ? 'an integer' : 'a number'} ≥ ${min} (got "${raw}")`,
    );
  }
  return value;
}

async function main() {
  const { values } = parseArgs({
    options: { 'dist-dir': { type: 'string' }, 's-yaml': { type: 'string' } },
    strict: true,
  });
  const port = readNumber(process.env, 'PORT', { fallback: DEFAULT_PORT, min: 0, integer: true });
  if (port > 65_535) throw new Error(`Environment variable PORT must be ≤ 65535 (got ${port})`);
  const timerSeconds = readNumber(process.env, 'LOCAL_TIMER_SECONDS', { fallback: undefined, min: 1, integer: false });

  // Signals are handled from the first moment: a Ctrl-C during start-up waits for the start to finish, then stops.
  let runtimeReady: (runtime: LocalRuntime) => void = () => undefined;
  const started = new Promise<LocalRuntime>((resolve) => {
    runtimeReady = resolve;
  });
  let stopping = false;
  const stop = async (signal: NodeJS.Signals) => {
    if (stopping) {
      console.error(`[local-runtime] ${signal} again: exiting without waiting`);
      process.exit(EXIT_INTERRUPTED);
    }
    stopping = true;
    const runtime = await started;
    console.log(`[local-runtime] ${signal}: stopping (no new requests; accepted invocations finish first)`);
    const { clean } = await runtime.close();
    console.log(clean ? '[local-runtime] stopped cleanly' : '[local-runtime] stopped with unfinished invocations');
    process.exitCode = clean ? 0 : 1;
    // Everything is closed; if a handler leaked a handle that keeps the loop alive, do not hang on it.
    setTimeout(() => process.exit(), 1_000).unref();
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));

  runtimeReady(
    await startLocalRuntime({
      distDir: values['dist-dir'],
      sYamlPath: values['s-yaml'],
      port,
      timerSeconds,
      env: process.env,
    }),
  );
}

main().catch((error: unknown) => {
  console.error(`[local-runtime] cannot start: ${error instanceof Error ? error.message : error}`);
  process.exit(1);
});
