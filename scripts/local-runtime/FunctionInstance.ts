// One emulated FC function instance: a worker thread running the bundle, a FIFO queue so it serves one invocation at
// a time (FC standard runtimes, instance concurrency 1), and the function's timeout from s.yaml.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import type { HandlerResult } from './httpEvent';
import type { FromWorker, InstanceData, SerializedError, ToWorker } from './instanceWorker';

/**
 * The worker is always its bundle (`npm run build` makes it): Node runs a worker's file itself, where no TypeScript
 * loader reaches. This module and its bundle both sit two folders under the repository (`scripts/local-runtime/`,
 * `dist/local-runtime/`), so one relative path finds it from either.
 */
const WORKER_URL = new URL('../../dist/local-runtime/instanceWorker.mjs', import.meta.url);
/** The error of an instance that ended without saying why. */
const INSTANCE_EXITED: SerializedError = { name: 'Error', message: 'the function instance exited', stack: '' };
/** How long a stopping instance may take to flush its output before it is terminated. */
const STOP_GRACE_MS = 2_000;

/**
 * Outcome of one invocation:
 * - `ok`: the handler returned `result` (see instanceWorker `toTransferable`);
 * - `error`: it threw (FC: UnhandledInvocationError);
 * - `timeout`: it ran past the function's timeout (FC: FunctionTimeoutError); the instance is replaced;
 * - `init-error`: the bundle failed to load or has no such handler (the instance is retried on the next invocation);
 * - `crash`: the instance died mid-invocation (an uncaught exception in work the handler left running).
 */
type Outcome =
  | { status: 'ok'; result: HandlerResult; leaked: string[]; durationMs: number }
  | { status: 'error' | 'init-error' | 'crash'; error: SerializedError; durationMs: number }
  | { status: 'timeout'; durationMs: number };

type Booted = { ok: true } | { ok: false; error: SerializedError };

/** A reply the parent awaits: the worker's answer, or `crash` when the worker dies first. */
type Reply = Extract<FromWorker, { id: number }> | { type: 'crash'; error: SerializedError };

interface FunctionInstanceOptions {
  spec: { name: string; handler: string; memory: number; timeout: number; region: string };
  codeDir: string;
  env: Record<string, string>;
  accountId: string;
  log: (line: string) => void;
  /** Where the handler's own stdout/stderr lines go. @default this process's stdout/stderr */
  handlerOutput?: { stdout: (line: string) => void; stderr: (line: string) => void };
}

interface QueuedInvocation {
  requestId: string;
  event: string;
  resolve: (outcome: Outcome) => void;
}

class FunctionInstance {
  public readonly spec: FunctionInstanceOptions['spec'];
  private readonly env: Record<string, string>;
  private readonly accountId: string;
  private readonly log: (line: string) => void;
  private readonly handlerOutput: FunctionInstanceOptions['handlerOutput'];
  private readonly exportName: string;
  private readonly modulePath: string;
  private readonly queue: QueuedInvocation[] = [];
  private running = false;
  private worker: Worker | null = null;
  private booting: Promise<Booted> | null = null;
  private nextId = 1;
  /** Replies awaited from the current worker, by message id. Each worker has its own map. */
  private replies = new Map<number, (reply: Reply) => void>();
  private readonly idleWaiters: (() => void)[] = [];

  public constructor({ spec, codeDir, env, accountId, log, handlerOutput }: FunctionInstanceOptions) {
    this.spec = spec;
    this.env = env;
    this.accountId = accountId;
    this.log = log;
    this.handlerOutput = handlerOutput;
    const dot = spec.handler.lastIndexOf('.');
    if (dot <= 0) throw new Error(`${spec.name}: handler "${spec.handler}" is not "<file>.<export>"`);
    const file = spec.handler.slice(0, dot);
    this.exportName = spec.handler.slice(dot + 1);
    // FC looks for the handler file by its name plus the runtime's extensions.
    const candidates = ['.js', '.mjs', '.cjs'].map((ext) => join(codeDir, `${file}${ext}`));
    const modulePath = candidates.find((candidate) => existsSync(candidate));
    if (!modulePath) {
      throw new Error(`${spec.name}: no bundle at ${candidates[0]} — run \`npm run build\` first`);
    }
    if (!existsSync(WORKER_URL)) {
      throw new Error(`no instance worker at ${WORKER_URL.pathname} — run \`npm run build\` first`);
    }
    this.modulePath = modulePath;
  }

  /** Invocations accepted and not finished (running or queued). */
  public get outstanding(): number {
    return this.queue.length + (this.running ? 1 : 0);
  }

  /** Starts the instance now (cold start) so load errors show at start-up. Resolves with the init error, if any. */
  public async warmUp(): Promise<SerializedError | null> {
    const booted = await this.#boot();
    return booted.ok ? null : booted.error;
  }

  /**
   * Queues one invocation; resolves when it has run.
   * @param event the event, serialized (the worker hands it to the handler as a Buffer)
   */
  public invoke(event: string, requestId: string): Promise<Outcome> {
    return new Promise((resolve) => {
      this.queue.push({ event, requestId, resolve });
      void this.#pump();
    });
  }

  /** Calls the bundle's `describeConfig()` inside the instance (with the function's env); null when not exported. */
  public async describe(): Promise<{ value: string | null; error: SerializedError | null }> {
    const booted = await this.#boot();
    if (!booted.ok) return { value: null, error: booted.error };
    const reply = await this.#request({ type: 'describe' });
    if (reply.type === 'described') return { value: reply.value, error: reply.error };
    // The instance died while describing itself (`crash`), or answered out of turn.
    return { value: null, error: 'error' in reply && reply.error ? reply.error : INSTANCE_EXITED };
  }

  /** Resolves when nothing is running or queued. */
  public whenIdle(): Promise<void> {
    if (this.outstanding === 0) return Promise.resolve();
    return new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  /** Answers every queued (not yet started) invocation with `outcome` — used when shutdown runs out of time. */
  public abandonQueued(outcome: Outcome): void {
    for (const item of this.queue.splice(0)) item.resolve(outcome);
  }

  /** Stops the worker, letting it flush what the handler printed. */
  public async stop(): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    if (!worker) return;
    const exited = new Promise((resolve) => worker.once('exit', resolve));
    worker.postMessage({ type: 'exit' });
    const timer = setTimeout(() => void worker.terminate(), STOP_GRACE_MS);
    await exited;
    clearTimeout(timer);
  }

  async #pump() {
    if (this.running) return;
    const item = this.queue.shift();
    if (!item) {
      for (const resolve of this.idleWaiters.splice(0)) resolve();
      return;
    }
    this.running = true;
    let outcome: Outcome;
    try {
      outcome = await this.#run(item);
    } finally {
      this.running = false;
    }
    item.resolve(outcome);
    void this.#pump();
  }

  async #run({ event, requestId }: QueuedInvocation): Promise<Outcome> {
    const booted = await this.#boot();
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    if (!booted.ok) return { status: 'init-error', error: booted.error, durationMs: 0 };
    const worker = this.worker as Worker;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<{ type: 'timeout' }>((resolve) => {
      timer = setTimeout(() => resolve({ type: 'timeout' }), this.spec.timeout * 1000);
    });
    const reply = await Promise.race([this.#request({ type: 'invoke', requestId, event }), timedOut]);
    clearTimeout(timer);
    if (reply.type === 'timeout') {
      // FC stops a timed-out invocation and does not reuse its state; replace the instance so the next invocation
      // never overlaps with this one.
      this.log(`[${this.spec.name}] invocation ${requestId} timed out after ${this.spec.timeout} s; instance replaced`);
      this.#discard(worker);
      await worker.terminate();
      return { status: 'timeout', durationMs: elapsed() };
    }
    if (reply.type === 'crash') return { status: 'crash', error: reply.error, durationMs: elapsed() };
    if (reply.type !== 'result') throw new Error(`unexpected reply ${reply.type} to an invocation`);
    if (reply.leaked.length > 0) this.#warnLeak(requestId, reply.leaked);
    if (!reply.ok) return { status: 'error', error: reply.error, durationMs: elapsed() };
    return { status: 'ok', result: reply.result, leaked: reply.leaked, durationMs: elapsed() };
  }

  #warnLeak(requestId: string, leaked: string[]): void {
    const counts = new Map<string, number>();
    for (const type of leaked) counts.set(type, (counts.get(type) ?? 0) + 1);
    const list = [...counts].map(([type, count]) => (count > 1 ? `${type} ×${count}` : type)).join(', ');
    this.log(
      `[local-runtime] WARNING: ${this.spec.name} (request ${requestId}) left work running after its handler returned: ${list}. ` +
        'Function Compute freezes the instance as soon as the handler returns, so that work may stall or never finish: await it before returning.',
    );
  }

  /** Sends a message that expects one reply; a dying worker answers `{ type: 'crash' }`. */
  #request(message: { type: 'invoke'; requestId: string; event: string } | { type: 'describe' }): Promise<Reply> {
    const worker = this.worker as Worker;
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.replies.set(id, resolve);
      worker.postMessage({ ...message, id } satisfies ToWorker);
    });
  }

  #discard(worker: Worker): void {
    if (this.worker === worker) this.worker = null;
  }

  #boot(): Promise<Booted> {
    if (this.worker) return Promise.resolve({ ok: true });
    if (this.booting) return this.booting;
    this.booting = new Promise<Booted>((resolve) => {
      const worker = new Worker(WORKER_URL, {
        env: this.env,
        workerData: {
          modulePath: this.modulePath,
          exportName: this.exportName,
          fn: {
            name: this.spec.name,
            handler: this.spec.handler,
            memory: this.spec.memory,
            timeout: this.spec.timeout,
          },
          region: this.spec.region,
          accountId: this.accountId,
        } satisfies InstanceData,
        stdout: Boolean(this.handlerOutput),
        stderr: Boolean(this.handlerOutput),
      });
      if (this.handlerOutput) {
        forwardLines(worker.stdout, this.handlerOutput.stdout);
        forwardLines(worker.stderr, this.handlerOutput.stderr);
      }
      const replies = new Map<number, (reply: Reply) => void>();
      let ready = false;
      let lastError: SerializedError | null = null;
      worker.on('message', (message: FromWorker) => {
        if (message.type === 'ready') {
          ready = true;
          this.worker = worker;
          this.replies = replies;
          resolve({ ok: true });
        } else if (message.type === 'init-error') {
          this.log(`[${this.spec.name}] initialization failed: ${message.error.stack || message.error.message}`);
          resolve({ ok: false, error: message.error });
        } else {
          const reply = replies.get(message.id);
          replies.delete(message.id);
          reply?.(message);
        }
      });
      worker.on('error', (error: Error) => {
        // An uncaught exception or rejection inside the instance (typically from work a handler left running).
        lastError = { name: error.name, message: error.message, stack: error.stack ?? '' };
        this.log(`[${this.spec.name}] the instance crashed: ${error.stack ?? error.message}`);
      });
      worker.on('exit', () => {
        this.#discard(worker);
        const error = lastError ?? INSTANCE_EXITED;
        for (const reply of replies.values()) reply({ type: 'crash', error });
        replies.clear();
        if (!ready) resolve({ ok: false, error });
      });
    }).finally(() => {
      this.booting = null;
    });
    return this.booting;
  }
}

/** Sends a stream's text to `write` one line at a time (the last partial line when the stream ends). */
function forwardLines(stream: Readable, write: (line: string) => void): void {
  let pending = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk) => {
    const lines = (pending + chunk).split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) write(line);
  });
  stream.on('end', () => {
    if (pending !== '') write(pending);
  });
}

export type { Outcome };
export { FunctionInstance };
