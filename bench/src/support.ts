/**
 * Shared pieces of the benchmark: statistics, ARMS callback bodies built from the documented sample, child processes
 * (the local runtime, one-shot node scripts) and the result line protocol between the harness and its children.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The repository root (the bundle runs from `bench/results/build-<pid>.tmp/`). */
const ROOT = resolve(__dirname, '..', '..', '..');
/** A 32-character integration key for the fakes (PagerDuty checks the length). */
const ROUTING_KEY = 'benchbenchbenchbenchbenchbench32';
/** Prefix of the one line a child process prints with its result (the bundles may log on stdout too). */
const RESULT_PREFIX = 'BENCH_RESULT ';
const INHERITED_ENV = ['PATH', 'HOME', 'TMPDIR', 'LANG'] as const;

function median(values: readonly number[]): number {
  return percentile(values, 50);
}

/** Nearest-rank percentile (p in 0..100); NaN for no values. */
function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] as number;
}

function round(value: number, digits = 2): number {
  if (!Number.isFinite(value)) return value;
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/** A hermetic environment for children: a few basics of this process, then `extra`. */
function childEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of INHERITED_ENV) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  return { ...env, ...extra };
}

// --- ARMS callbacks --------------------------------------------------------------------------------------------

// biome-ignore lint/suspicious/noExplicitAny: the fixture is plain JSON, cloned and varied per alert.
type Json = any;

let sample: Json;
function armsSample(): Json {
  sample ??= JSON.parse(readFileSync(join(ROOT, 'tests/fixtures/arms/sample.json'), 'utf8'));
  return sample;
}

let sequence = 0;
const RUN_ID = `${process.pid}-${Date.now()}`;

/**
 * An ARMS `$alertmanager_content` callback of `count` firing alerts, each a new occurrence of a new identity (own
 * fingerprint, pod and `startsAt`), so nothing in it is a duplicate of an earlier callback of this run.
 */
function armsCallback(count: number): string {
  const base = armsSample();
  const template = base.alerts[0];
  const alerts: Json[] = [];
  for (let index = 0; index < count; index++) {
    const n = sequence++;
    const fingerprint = createHash('sha256').update(`${RUN_ID}:${n}`).digest('hex').slice(0, 32);
    const startsAt = new Date(Date.UTC(2026, 0, 1) + n * 1000).toISOString().replace('Z', '000000Z');
    alerts.push({
      ...template,
      fingerprint,
      startsAt,
      labels: { ...template.labels, pod_name: `bench-pod-${n}`, instance: `10.0.${(n >> 8) & 255}.${n & 255}:9100` },
    });
  }
  return JSON.stringify({ ...base, alerts });
}

// --- Child processes -------------------------------------------------------------------------------------------

/** Runs a node process to completion; resolves with its output and wall time (spawn → exit). */
function runNode(
  args: readonly string[],
  env: Record<string, string>,
  timeoutMs = 60_000,
): Promise<{ code: number | null; stdout: string; stderr: string; wallMs: number }> {
  return new Promise((resolvePromise, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`node ${args.join(' ').slice(0, 80)} did not finish within ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
      resolvePromise({ code, stdout, stderr, wallMs });
    });
  });
}

/** The JSON a child printed after {@link RESULT_PREFIX}. */
function resultOf<T>(stdout: string, what: string): T {
  const line = stdout.split('\n').find((candidate) => candidate.startsWith(RESULT_PREFIX));
  if (line === undefined) throw new Error(`${what}: no result line; output:\n${stdout.slice(-2000)}`);
  return JSON.parse(line.slice(RESULT_PREFIX.length)) as T;
}

function printResult(result: unknown): void {
  process.stdout.write(`${RESULT_PREFIX}${JSON.stringify(result)}\n`);
}

interface LocalRuntime {
  url: string;
  child: ChildProcess;
  output(): string;
  /** Lines of output so far that matched each pattern of `watch` (the tail alone may have lost them). */
  counts(): Record<string, number>;
  /** Finished delivery-health runs: how each was started, and when (epoch ms, as this process saw the log line). */
  runs(): HealthRun[];
  stop(): Promise<void>;
}

interface HealthRun {
  kind: 'timer' | 'invoked';
  startedAt: number;
  endedAt: number;
}

/** The runtime's line for a finished run, with its duration: "[delivery-health] <time> timer ok in 812 ms: …". */
const RUN_LINE = /^\[delivery-health\] (?:\S+ (timer)|(?:async )?invocation) ok in (\d+(?:\.\d+)?) ms/;

/** Runs of delivery-health as the local runtime logs them: by the timer, by an (async) invocation. */
const RUN_PATTERNS = {
  timerRuns: /^\[delivery-health\] \S+ timer ok /,
  timerSkipped: /^\[delivery-health\] \S+ timer skipped/,
  invokedRuns: /^\[delivery-health\] (?:async )?invocation ok /,
  failedRuns: /^\[delivery-health\] .*(?:timer|invocation) failed/,
};

/**
 * Starts `dist/local-runtime/index.mjs` (what `npm start` runs) with `env`, and waits until it listens. Output lines are
 * counted against `watch` (default: delivery-health runs).
 */
async function startLocalRuntime(
  env: Record<string, string>,
  timeoutMs = 30_000,
  watch: Record<string, RegExp> = RUN_PATTERNS,
): Promise<LocalRuntime> {
  const child = spawn(process.execPath, [join(ROOT, 'dist/local-runtime/index.mjs')], {
    cwd: ROOT,
    env: childEnv({ PORT: '0', ...env }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // Kept short: the runtime logs a line per delivery; only the tail matters for diagnostics.
  let tail = '';
  let url = '';
  const counts: Record<string, number> = Object.fromEntries(Object.keys(watch).map((name) => [name, 0]));
  const runs: HealthRun[] = [];
  // One line splitter per stream: a chunk may end inside a line.
  const lineCounter = () => {
    let partial = '';
    return (chunk: Buffer) => {
      const lines = (partial + chunk.toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        for (const [name, pattern] of Object.entries(watch)) {
          if (pattern.test(line)) counts[name] = (counts[name] ?? 0) + 1;
        }
        const run = RUN_LINE.exec(line);
        if (run) {
          const endedAt = Date.now();
          runs.push({ kind: run[1] ? 'timer' : 'invoked', startedAt: endedAt - Number(run[2]), endedAt });
        }
      }
    };
  };
  child.stdout.on('data', lineCounter());
  child.stderr.on('data', lineCounter());
  const listening = new Promise<string>((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`local runtime did not listen in time:\n${tail}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      tail = (tail + chunk.toString('utf8')).slice(-20_000);
      const match = /Listening on (http:\/\/127\.0\.0\.1:\d+\/)/.exec(tail);
      if (match && !url) {
        url = match[1] as string;
        clearTimeout(timer);
        resolvePromise(url);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`local runtime exited (${code}) before listening:\n${tail}`));
    });
  });
  await listening;
  const exited = new Promise<void>((resolvePromise) => child.once('exit', () => resolvePromise()));
  return {
    url,
    child,
    output: () => tail,
    counts: () => ({ ...counts }),
    runs: () => [...runs],
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** POSTs a callback body and returns the status, parsed body and latency in ms. */
async function postCallback(url: string, body: string): Promise<{ status: number; json: Json; ms: number }> {
  const started = performance.now();
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body,
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  const ms = performance.now() - started;
  let json: Json;
  try {
    json = JSON.parse(text);
  } catch {
    json = { text };
  }
  return { status: response.status, json, ms };
}

/**
 * Runs a function of the local runtime through its emulation of FC's invoke API, as the webhook's kick does: `async`
 * answers 202 at once and the run follows; otherwise the call resolves when the run has finished, with its result.
 */
async function invokeFunction(
  runtimeUrl: string,
  name: string,
  options: { async: boolean; payload?: string },
): Promise<{ status: number; text: string }> {
  const event = { triggerTime: new Date().toISOString(), triggerName: 'kick', payload: options.payload ?? 'bench' };
  const response = await fetch(new URL(`2023-03-30/functions/${name}/invocations`, runtimeUrl), {
    method: 'POST',
    // The local runtime does not verify signatures but requires the header, as FC does.
    headers: {
      'Content-Type': 'application/json',
      Authorization: 'bench',
      ...(options.async ? { 'x-fc-invocation-type': 'Async' } : {}),
    },
    body: JSON.stringify(event),
    signal: AbortSignal.timeout(120_000),
  });
  return { status: response.status, text: await response.text() };
}

const sleep = (ms: number) => new Promise<void>((resolvePromise) => setTimeout(resolvePromise, ms));

export type { HealthRun, Json, LocalRuntime };
export {
  armsCallback,
  childEnv,
  invokeFunction,
  median,
  percentile,
  postCallback,
  printResult,
  RESULT_PREFIX,
  ROOT,
  ROUTING_KEY,
  resultOf,
  round,
  runNode,
  sleep,
  startLocalRuntime,
};
