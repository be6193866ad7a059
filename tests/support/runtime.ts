/**
 * Runs `dist/local-runtime/index.mjs` (what `npm start` runs, built by `npm run build`) as a child process, the way a user does, for tests that need
 * the real process: signals, exit codes, printed lines.
 *
 * The child gets a hermetic environment: only PATH/HOME/TMPDIR/LANG/SystemRoot of this process, then `PORT=0` and a
 * fresh temporary `STORE_PATH`, then the test's own variables. A developer's PAGERDUTY_ROUTING_KEY or WEBHOOK_TOKENS in
 * the shell never reaches a test run.
 *
 * @example
 * const runtime = await startRuntime({ env: { WEBHOOK_TOKENS: 'secret-token' } });
 * try {
 *   const response = await runtime.post('/', '{"alerts":[]}', { 'X-Webhook-Token': 'secret-token' });
 *   expect(response.status).toBe(422);
 * } finally {
 *   await runtime.stop();
 * }
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SCRIPT = join(ROOT, 'dist', 'local-runtime', 'index.mjs');
/** The line the runtime prints once it accepts requests. */
const LISTENING = /Listening on (http:\/\/127\.0\.0\.1:(\d+)\/)/;
const INHERITED = ['PATH', 'HOME', 'TMPDIR', 'LANG', 'SystemRoot'] as const;

/** Bounds of each wait; generous, since a cold start builds nothing but loads two bundles. */
const START_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 15_000;
const REQUEST_TIMEOUT_MS = 10_000;

interface StartRuntimeOptions {
  /** Variables for the runtime and its functions, on top of the hermetic base (`PORT=0`, a temp `STORE_PATH`). */
  env?: Record<string, string>;
  /** `--dist-dir`: bundles to run instead of `dist/` (stand-in bundles in tests). */
  distDir?: string;
  /** `--s-yaml`: functions description instead of the repo's `s.yaml`. */
  sYamlPath?: string;
  /** Wait for the "Listening on" line; false for tests of start-up failures (then use `exited`). */
  waitForUrl?: boolean;
}

interface RuntimeResponse {
  status: number;
  headers: Headers;
  text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: unknown;
}

interface RunningRuntime {
  /** `http://127.0.0.1:<port>/`, as printed. Empty when `waitForUrl` was false. */
  url: string;
  port: number;
  /** The temporary STORE_PATH given to the child (removed by `stop()`/`kill()` unless `keepStore`). */
  storePath: string;
  child: ChildProcess;
  /** Everything printed so far. */
  stdout(): string;
  stderr(): string;
  /** stdout and stderr interleaved in arrival order. */
  output(): string;
  /** Resolves with the exit code (or signal name) once the child has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves when `pattern` appears in the combined output (rejects after `timeoutMs`). */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** POST (or another method) to a path of the runtime. */
  post(path: string, body?: string | Uint8Array, headers?: Record<string, string>): Promise<RuntimeResponse>;
  request(
    method: string,
    path: string,
    body?: string | Uint8Array,
    headers?: Record<string, string>,
  ): Promise<RuntimeResponse>;
  /** Ctrl-C: SIGINT, then wait for exit (SIGKILL if it does not exit in time). */
  stop(options?: { keepStore?: boolean }): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILL, then wait for exit: a crash, with nothing flushed. */
  kill(options?: { keepStore?: boolean }): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function withTimeout<T>(promise: Promise<T>, timeoutMs: number, what: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(what())), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Spawns the local runtime and waits until it listens.
 *
 * @param options.storePath reuse a STORE_PATH (e.g. to check data survives a restart); default: a new temp dir
 */
async function startRuntime(options: StartRuntimeOptions & { storePath?: string } = {}): Promise<RunningRuntime> {
  const ownsStore = options.storePath === undefined;
  const storePath = options.storePath ?? mkdtempSync(join(tmpdir(), 'bridge-store-'));
  const env: Record<string, string> = {};
  for (const name of INHERITED) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  Object.assign(env, { PORT: '0', STORE_PATH: storePath }, options.env);

  const args = [SCRIPT];
  if (options.distDir) args.push('--dist-dir', options.distDir);
  if (options.sYamlPath) args.push('--s-yaml', options.sYamlPath);
  const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });

  let stdout = '';
  let stderr = '';
  let combined = '';
  const listeners = new Set<() => void>();
  const onData = (stream: 'out' | 'err') => (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    if (stream === 'out') stdout += text;
    else stderr += text;
    combined += text;
    for (const listener of listeners) listener();
  };
  child.stdout?.on('data', onData('out'));
  child.stderr?.on('data', onData('err'));

  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolveExit) => {
    child.once('exit', (code, signal) => {
      for (const listener of listeners) listener();
      resolveExit({ code, signal });
    });
  });
  let hasExited = false;
  void exited.then(() => {
    hasExited = true;
  });

  const waitForOutput = (pattern: RegExp, timeoutMs = START_TIMEOUT_MS): Promise<RegExpMatchArray> =>
    withTimeout(
      new Promise<RegExpMatchArray>((resolveMatch, rejectMatch) => {
        const check = () => {
          const match = combined.match(pattern);
          if (match) {
            listeners.delete(check);
            resolveMatch(match);
          } else if (hasExited || child.exitCode !== null || child.signalCode !== null) {
            listeners.delete(check);
            rejectMatch(new Error(`the runtime exited before printing ${pattern}; output:\n${combined}`));
          }
        };
        listeners.add(check);
        check();
      }),
      timeoutMs,
      () => `no ${pattern} within ${timeoutMs} ms; output:\n${combined}`,
    );

  const cleanup = (keepStore: boolean | undefined) => {
    if (ownsStore && !keepStore) rmSync(storePath, { recursive: true, force: true });
  };

  const terminate = async (signal: NodeJS.Signals, keepStore: boolean | undefined) => {
    if (!hasExited && child.exitCode === null && child.signalCode === null) child.kill(signal);
    try {
      return await withTimeout(exited, STOP_TIMEOUT_MS, () => `the runtime did not exit after ${signal}`);
    } catch (error) {
      child.kill('SIGKILL');
      await exited;
      throw error;
    } finally {
      cleanup(keepStore);
    }
  };

  let url = '';
  let port = 0;
  if (options.waitForUrl !== false) {
    try {
      const match = await waitForOutput(LISTENING);
      url = match[1] ?? '';
      port = Number(match[2]);
    } catch (error) {
      await terminate('SIGKILL', false);
      throw error;
    }
  }

  const request = async (
    method: string,
    path: string,
    body?: string | Uint8Array,
    headers: Record<string, string> = {},
  ): Promise<RuntimeResponse> => {
    const response = await fetch(new URL(path, url), {
      method,
      headers,
      body,
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const text = await response.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: response.status, headers: response.headers, text, json };
  };

  return {
    url,
    port,
    storePath,
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    output: () => combined,
    exited,
    waitForOutput,
    request,
    post: (path, body, headers) => request('POST', path, body, headers),
    stop: (stopOptions) => terminate('SIGINT', stopOptions?.keepStore),
    kill: (killOptions) => terminate('SIGKILL', killOptions?.keepStore),
  };
}

export type { RunningRuntime, RuntimeResponse, StartRuntimeOptions };
export { startRuntime };
