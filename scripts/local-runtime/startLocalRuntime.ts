// The local runtime: hosts the bundled functions the way Function Compute 3.0 would (CONTRACT.md §1–§3).
//
//   HTTP request on 127.0.0.1:$PORT ──► FC3 HTTP-trigger event (JSON, as a Buffer) ──► alert-webhook instance
//   s.yaml timer trigger / LOCAL_TIMER_SECONDS ──► FC timer event (JSON, as a Buffer) ──► delivery-health instance
//   POST /2023-03-30/functions/{name}/invocations (FC invoke API, e.g. the webhook's kick) ──► that function
//     (invokeApi.ts; the functions get FUNCTION_COMPUTE_ENDPOINT = this runtime, so the kick comes back here)
//
// Each function runs in its own worker thread (FunctionInstance), which serves one invocation at a time from a FIFO
// queue and enforces the function's timeout from s.yaml.

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nextFire, parseSchedule, type Schedule } from './cron';
import { FunctionInstance, type Outcome } from './FunctionInstance';
import { fromHandlerResult, type HandlerResult, isoSeconds, newRequestId, toFcHttpEvent } from './httpEvent';
import { completeLocalFcEnvironment, INVOKE_API_PATH, matchInvokeApi, serveInvokeApi } from './invokeApi';
import { type FunctionSpec, readFunctions } from './readFunctions';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const DEFAULT_PORT = 9000;
const HOST = '127.0.0.1';
/** Stand-in for the account id FC puts in the event and context; there is no account locally. */
const LOCAL_ACCOUNT_ID = 'local';
/** Largest request body accepted, like FC's cap on a synchronous invocation's payload (32 MB). */
const REQUEST_MAX_BYTES = 32 * 1024 * 1024;
/** Extra time, beyond the longest function timeout, that a shutdown waits for accepted invocations. */
const SHUTDOWN_SLACK_MS = 5_000;
/** setTimeout's longest delay; longer waits re-arm. */
const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

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

/** A function s.yaml gives a timer trigger. */
type TimerSpec = FunctionSpec & { timerTrigger: NonNullable<FunctionSpec['timerTrigger']> };

/**
 * Starts the local runtime.
 *
 * @example
 * const runtime = await startLocalRuntime({ port: 0 });
 * await fetch(runtime.url, { method: 'POST', body: '{"alerts":[]}' });
 * await runtime.close();
 *
 */
async function startLocalRuntime(options: LocalRuntimeOptions = {}): Promise<LocalRuntime> {
  const distDir = resolve(options.distDir ?? join(ROOT, 'dist'));
  const sYamlPath = resolve(options.sYamlPath ?? join(ROOT, 's.yaml'));
  const sourceEnv = options.env ?? process.env;
  const info = options.log ?? ((line: string) => void process.stdout.write(`${line}\n`));
  const error = options.logError ?? ((line: string) => void process.stderr.write(`${line}\n`));

  // The functions see the given environment, minus FC_FUNCTION_NAME: its presence means "deployed" (CONTRACT §2).
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(sourceEnv)) {
    if (value !== undefined && name !== 'FC_FUNCTION_NAME') env[name] = value;
  }
  if (sourceEnv.FC_FUNCTION_NAME) {
    error('[local-runtime] FC_FUNCTION_NAME is set in this shell; it is not passed on (it would mean "deployed").');
  }

  const specs = readFunctions(sYamlPath, sourceEnv);
  const httpSpecs = [...specs.values()].filter((spec) => spec.httpTrigger);
  if (httpSpecs.length !== 1) {
    throw new Error(`${sYamlPath} must define exactly one function with an HTTP trigger (found ${httpSpecs.length})`);
  }
  const httpSpec = httpSpecs[0] as FunctionSpec;
  const timerSpecs = [...specs.values()].filter((spec): spec is TimerSpec => spec.timerTrigger !== undefined);
  const timerSeconds = options.timerSeconds;
  if (timerSeconds !== undefined && !(Number.isFinite(timerSeconds) && timerSeconds > 0)) {
    throw new Error(`timerSeconds must be a positive number of seconds (got ${timerSeconds})`);
  }
  // Validate every schedule before starting anything, so a bad cron fails the start, not the first tick.
  const schedules = new Map<string, Schedule>(
    timerSpecs.map((spec): [string, Schedule] => [
      spec.name,
      timerSeconds
        ? { kind: 'every', everyMs: timerSeconds * 1000, expression: `every ${timerSeconds} s` }
        : parseSchedule(spec.timerTrigger.cronExpression),
    ]),
  );

  const instances = new Map<string, FunctionInstance>();
  for (const spec of [httpSpec, ...timerSpecs]) {
    if (instances.has(spec.name)) continue;
    instances.set(
      spec.name,
      new FunctionInstance({
        spec,
        codeDir: join(distDir, spec.name),
        env,
        accountId: LOCAL_ACCOUNT_ID,
        log: error,
        // With custom log functions, the handlers' own output goes there too; otherwise straight to stdout/stderr.
        handlerOutput: options.log || options.logError ? { stdout: info, stderr: error } : undefined,
      }),
    );
  }
  const webhook = instances.get(httpSpec.name) as FunctionInstance;

  /** Work accepted and not yet answered: HTTP requests (from first byte) and timer runs. */
  const inFlight = new Set<Promise<unknown>>();
  const track = (promise: Promise<unknown>) => {
    inFlight.add(promise);
    void promise.finally(() => inFlight.delete(promise));
    return promise;
  };
  let closing: Promise<{ clean: boolean }> | null = null;

  const server = createServer((req, res) => {
    track(
      handleRequest(req, res).catch((caught: unknown) => {
        // A bug of this runtime, not of the handler: answer like FC's own internal error, never crash the runtime.
        error(`[local-runtime] internal error on ${req.method} ${req.url}: ${stackOf(caught)}`);
        if (res.headersSent) res.destroy();
        else return sendFcError(res, 500, newRequestId(), 'InternalError', 'local runtime error');
      }),
    );
  });

  async function handleRequest(req: IncomingMessage, res: ServerResponse): Promise<unknown> {
    const requestId = newRequestId();
    if (closing) {
      return sendFcError(res, 503, requestId, 'ServiceUnavailable', 'the local runtime is shutting down');
    }
    // FC's invoke API (`POST /2023-03-30/functions/{name}/invocations`, what the kick and the FC SDKs call) for the
    // functions without an HTTP trigger; every other request goes to the webhook (CONTRACT §3.1).
    const invokeTarget = matchInvokeApi(req.method ?? 'GET', req.url, {
      functionNames: instances,
      httpFunctionName: httpSpec.name,
    });

    let body: Buffer;
    try {
      body = await readBody(req, REQUEST_MAX_BYTES);
    } catch (caught) {
      if (caught instanceof RangeError) {
        return sendFcError(
          res,
          413,
          requestId,
          'PayloadTooLarge',
          `the request body exceeds ${REQUEST_MAX_BYTES} bytes`,
        );
      }
      req.destroy();
      return;
    }
    if (invokeTarget) {
      return serveInvokeApi({
        req,
        res,
        target: invokeTarget,
        instance: instances.get(invokeTarget.name),
        spec: specs.get(invokeTarget.name),
        requestId,
        body,
        info,
        error,
      });
    }
    const now = Date.now();
    const event = toFcHttpEvent(
      {
        method: req.method ?? 'GET',
        url: req.url ?? '/',
        httpVersion: req.httpVersion,
        rawHeaders: req.rawHeaders,
        sourceIp: (req.socket.remoteAddress ?? '').replace(/^::ffff:/, ''),
      },
      body,
      {
        requestId,
        now,
        accountId: LOCAL_ACCOUNT_ID,
        domainName: req.headers.host ?? `${HOST}:${address.port}`,
        domainPrefix: 'local',
      },
    );
    const outcome = await webhook.invoke(JSON.stringify(event), requestId);
    const label = `[${httpSpec.name}] ${event.requestContext.http.method} ${event.rawPath}`;
    if (outcome.status !== 'ok') {
      const statusCode = await sendFailure(res, requestId, outcome, httpSpec);
      reportFailure(`${label} → ${statusCode}`, requestId, outcome, httpSpec);
      return;
    }
    let response: ReturnType<typeof fromHandlerResult>;
    try {
      response = fromHandlerResult(outcome.result);
      res.statusCode = response.statusCode;
      for (const [name, value] of Object.entries(response.headers)) res.setHeader(name, value);
    } catch (caught) {
      const failure = { name: 'InvalidResponse', message: caught instanceof Error ? caught.message : String(caught) };
      error(`${label} → 502: ${failure.message} (request ${requestId})`);
      await sendFcError(res, 502, requestId, 'UnhandledInvocationError', failure.message, failure.name);
      return;
    }
    res.setHeader('X-Fc-Request-Id', requestId);
    if (closing) res.setHeader('Connection', 'close');
    info(`${label} → ${response.statusCode} in ${outcome.durationMs} ms (request ${requestId})`);
    await endResponse(res, response.body);
  }

  /** Logs a failed invocation once, with the stack when there is one. `label` already says where it came from. */
  function reportFailure(label: string, requestId: string, outcome: Failed, spec: FunctionSpec): void {
    const reason = {
      timeout: `timed out after ${spec.timeout} s`,
      error:
        outcome.status === 'error' && outcome.error.name === 'ServiceUnavailable'
          ? 'not run: the runtime stopped first'
          : 'the handler threw',
      'init-error': 'the bundle failed to initialize',
      crash: 'the instance crashed',
    }[outcome.status];
    const detail =
      outcome.status === 'timeout'
        ? ''
        : `\n${outcome.error.stack || `${outcome.error.name}: ${outcome.error.message}`}`;
    error(`${label}: ${reason} (request ${requestId})${detail}`);
  }

  // --- timers ---------------------------------------------------------------------------------------------------
  const timerHandles = new Map<string, NodeJS.Timeout>();
  function armTimer(spec: TimerSpec, lastScheduled: number): void {
    if (closing) return;
    const schedule = schedules.get(spec.name) as Schedule;
    const now = Date.now();
    const next =
      schedule.kind === 'every'
        ? Math.max(lastScheduled + schedule.everyMs, now)
        : nextFire(schedule, new Date(Math.max(lastScheduled, now)))?.getTime();
    if (next === undefined) {
      error(`[${spec.name}] the timer "${schedule.expression}" never fires; no timer runs`);
      return;
    }
    const delay = next - now;
    const handle =
      delay > MAX_TIMER_DELAY_MS
        ? setTimeout(() => armTimer(spec, lastScheduled), MAX_TIMER_DELAY_MS)
        : setTimeout(() => {
            track(
              runTimer(spec, next).catch((caught: unknown) => {
                error(`[local-runtime] internal error in the ${spec.name} timer: ${stackOf(caught)}`);
              }),
            );
            armTimer(spec, next);
          }, delay);
    timerHandles.set(spec.name, handle);
  }

  async function runTimer(spec: TimerSpec, scheduled: number): Promise<void> {
    const instance = instances.get(spec.name) as FunctionInstance;
    const triggerTime = isoSeconds(scheduled);
    // One run may wait behind the running one; more would pile up, so the tick is skipped.
    if (instance.outstanding >= 2) {
      info(`[${spec.name}] ${triggerTime} timer skipped: the previous runs have not finished`);
      return;
    }
    const event = { triggerTime, triggerName: spec.timerTrigger.name, payload: spec.timerTrigger.payload };
    const requestId = newRequestId(scheduled);
    const outcome = await instance.invoke(JSON.stringify(event), requestId);
    const label = `[${spec.name}] ${triggerTime} timer`;
    if (outcome.status === 'ok') {
      info(`${label} ok in ${outcome.durationMs} ms: ${describeResult(outcome.result)}`);
    } else {
      reportFailure(`${label} failed`, requestId, outcome, spec);
    }
  }

  // --- start ------------------------------------------------------------------------------------------------------
  await new Promise<void>((resolveListen, rejectListen) => {
    server.once('error', rejectListen);
    server.listen(options.port ?? DEFAULT_PORT, HOST, () => {
      server.off('error', rejectListen);
      resolveListen();
    });
  }).catch((caught: unknown) => {
    return Promise.all([...instances.values()].map((instance) => instance.stop())).then(() => {
      const inUse = (caught as { code?: unknown } | undefined)?.code === 'EADDRINUSE';
      throw new Error(
        inUse ? `port ${options.port ?? DEFAULT_PORT} on ${HOST} is already in use (set PORT)` : String(caught),
        {
          cause: caught,
        },
      );
    });
  });
  const address = server.address() as AddressInfo;
  const url = `http://${HOST}:${address.port}/`;
  // The kick must reach this runtime: the functions' environment is completed before any instance starts.
  const envNotes = completeLocalFcEnvironment(env, url);

  // Cold-start every instance now: a bundle that fails to load is reported at start, not at the first alert.
  await Promise.all([...instances.values()].map((instance) => instance.warmUp()));

  const described = await webhook.describe();
  printBanner({ info, url, httpSpec, timerSpecs, schedules, timerSeconds, described, sYamlPath, envNotes });
  for (const spec of timerSpecs) armTimer(spec, Date.now());
  info(`Listening on ${url} (Ctrl-C to stop)`);

  const shutdownGraceMs =
    options.shutdownGraceMs ?? Math.max(...[...specs.values()].map((spec) => spec.timeout)) * 1000 + SHUTDOWN_SLACK_MS;

  function close(): Promise<{ clean: boolean }> {
    closing ??= (async () => {
      for (const handle of timerHandles.values()) clearTimeout(handle);
      server.close();
      server.closeIdleConnections();
      const pending = [...instances.values()].reduce((sum, instance) => sum + instance.outstanding, 0);
      if (pending > 0) info(`[local-runtime] stopping: waiting for ${pending} invocation(s) to finish`);
      let timer: NodeJS.Timeout | undefined;
      const finished = await Promise.race([
        (async () => {
          // Requests still being read enqueue after this point, so wait for them before the instances drain.
          while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
          return true;
        })(),
        new Promise<boolean>((resolveTimeout) => {
          timer = setTimeout(() => resolveTimeout(false), shutdownGraceMs);
        }),
      ]);
      clearTimeout(timer);
      if (!finished) {
        error(`[local-runtime] stopping: gave up after ${shutdownGraceMs} ms; unfinished invocations get 503`);
        for (const instance of instances.values()) {
          instance.abandonQueued({
            status: 'error',
            error: { name: 'ServiceUnavailable', message: 'the local runtime stopped first', stack: '' },
            durationMs: 0,
          });
        }
      }
      await Promise.all([...instances.values()].map((instance) => instance.stop()));
      server.closeAllConnections();
      return { clean: finished };
    })();
    return closing;
  }

  return {
    url,
    port: address.port,
    close,
    get outstanding() {
      return inFlight.size;
    },
  };
}

/** An invocation that did not return. */
type Failed = Exclude<Outcome, { status: 'ok' }>;

/** A thrown value for a log line: its stack when it has one. */
function stackOf(caught: unknown): string {
  return caught instanceof Error ? (caught.stack ?? caught.message) : String(caught);
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolveBody, rejectBody) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        rejectBody(new RangeError('body too large'));
        return;
      }
      chunks.push(chunk);
    });
    req.once('end', () => resolveBody(Buffer.concat(chunks)));
    req.once('error', rejectBody);
  });
}

function endResponse(res: ServerResponse, body?: string | Buffer): Promise<void> {
  return new Promise((resolveEnd) => {
    res.once('close', resolveEnd);
    res.end(body);
  });
}

/**
 * FC answers a failed invocation with 502 and a JSON error naming its type (also in `X-Fc-Error-Type`).
 * @returns the status code sent
 */
async function sendFailure(
  res: ServerResponse,
  requestId: string,
  outcome: Failed,
  spec: FunctionSpec,
): Promise<number> {
  if (outcome.status === 'timeout') {
    const message = `Function timed out after ${spec.timeout} seconds`;
    await sendFcError(res, 502, requestId, 'FunctionTimeoutError', message);
    return 502;
  }
  if (outcome.error.name === 'ServiceUnavailable') {
    await sendFcError(res, 503, requestId, 'ServiceUnavailable', outcome.error.message);
    return 503;
  }
  const type =
    outcome.status === 'init-error'
      ? 'InitializationError'
      : outcome.status === 'crash'
        ? 'FunctionCrashedError'
        : 'UnhandledInvocationError';
  // The error's name and message, as FC returns them; the stack goes to the log only.
  await sendFcError(res, 502, requestId, type, outcome.error.message, outcome.error.name);
  return 502;
}

function sendFcError(
  res: ServerResponse,
  statusCode: number,
  requestId: string,
  fcErrorType: string,
  errorMessage: string,
  errorType = fcErrorType,
): Promise<void> {
  if (res.headersSent) return endResponse(res);
  // Drop whatever a half-applied handler response set before it failed.
  for (const name of res.getHeaderNames()) res.removeHeader(name);
  res.statusCode = statusCode;
  res.setHeader('Content-Type', 'application/json');
  res.setHeader('X-Fc-Request-Id', requestId);
  res.setHeader('X-Fc-Error-Type', fcErrorType);
  return endResponse(res, JSON.stringify({ errorMessage, errorType }));
}

/** A timer run's result on one line: the report object as compact JSON. */
function describeResult(result: HandlerResult): string {
  if (result.kind === 'json') return result.json;
  if (result.kind === 'string') return result.text === '' ? '(no result)' : result.text;
  return `<${result.bytes.byteLength} bytes>`;
}

interface BannerFacts {
  info: (line: string) => void;
  url: string;
  httpSpec: FunctionSpec;
  timerSpecs: TimerSpec[];
  schedules: Map<string, Schedule>;
  timerSeconds: number | undefined;
  described: Awaited<ReturnType<FunctionInstance['describe']>>;
  sYamlPath: string;
  envNotes: string[];
}

/** What the webhook's `describeConfig()` returns (`shared/bridgeSummary.ts`), as far as the banner reads it. */
interface DescribedConfig {
  ok?: boolean;
  dryRun?: boolean;
  unauthenticated?: boolean;
  problems?: string[];
  settings?: Record<string, unknown>;
  routes?: {
    name: string;
    matchers: string[];
    key: string | null;
    keyEnv?: string;
    keySource?: string;
    mode: string;
  }[];
}

function printBanner(facts: BannerFacts): void {
  const { info, url, httpSpec, timerSpecs, schedules, timerSeconds, described, sYamlPath, envNotes } = facts;
  const rule = '!'.repeat(100);
  const loud = (lines: string[]) => {
    info(rule);
    for (const line of lines) info(`!!  ${line}`);
    info(rule);
  };
  info('');
  info(`ARMS → PagerDuty bridge: local runtime (Function Compute 3.0 emulation, Node ${process.versions.node})`);
  info(`  functions from ${sYamlPath}`);
  info(
    `  ${httpSpec.name.padEnd(16)} HTTP  any POST on ${url}  (timeout ${httpSpec.timeout} s, one invocation at a time)`,
  );
  for (const spec of timerSpecs) {
    const schedule = schedules.get(spec.name) as Schedule;
    const when = timerSeconds
      ? `every ${timerSeconds} s (LOCAL_TIMER_SECONDS; s.yaml says "${spec.timerTrigger.cronExpression}")`
      : `"${schedule.expression}" (s.yaml${schedule.kind === 'cron' ? `, ${schedule.timeZone}` : ''})`;
    info(`  ${spec.name.padEnd(16)} timer ${when}  (timeout ${spec.timeout} s)`);
  }
  info(`  FC invoke API    POST ${url}2023-03-30/functions/<name>/invocations  (x-fc-invocation-type: Async → 202)`);
  for (const note of envNotes) info(`  set for the functions: ${note}`);

  if (described.error) {
    loud([`${httpSpec.name} could not describe its configuration: ${described.error.message}`]);
  } else if (described.value === null) {
    info(`  (${httpSpec.name} does not export describeConfig(); configuration not shown)`);
  } else {
    const config = JSON.parse(described.value) as DescribedConfig;
    info(`Configuration (${httpSpec.name}; secrets masked):`);
    const entries = Object.entries(config.settings ?? {});
    const width = Math.max(0, ...entries.map(([name]) => name.length));
    for (const [name, value] of entries) {
      info(`  ${name.padEnd(width)}  ${value === null || value === '' ? '(unset)' : String(value)}`);
    }
    const routes = config.routes ?? [];
    if (routes.length > 0) info('Routes (first match wins; keys by masked id):');
    for (const route of routes) {
      const matchers = route.matchers.length === 0 ? '(every alert)' : route.matchers.join(', ');
      const key = route.key === null ? 'NO KEY' : `key ${route.key} (${route.keyEnv ?? route.keySource})`;
      info(`  ${route.name}: ${matchers} → ${key}, ${route.mode}`);
    }
    if (config.ok === false) {
      loud([
        'CONFIGURATION PROBLEMS: the webhook answers every request with 503 until they are fixed:',
        ...(config.problems ?? []).map((problem) => `  - ${problem}`),
      ]);
    }
    if (config.dryRun) {
      loud([
        'DRY-RUN: no PagerDuty routing key is configured (PAGERDUTY_ROUTING_KEY, or a key in a route).',
        'NOTHING IS SENT TO PAGERDUTY: the events that would be sent are logged and stored, and never sent later.',
      ]);
    }
    if (config.unauthenticated) {
      loud([
        'UNAUTHENTICATED: WEBHOOK_TOKENS is not set, so any request is accepted without a token.',
        `Bound to ${HOST} only; set WEBHOOK_TOKENS to require a token exactly as deployed.`,
      ]);
    }
  }
  info(
    `Point the ARMS webhook at: ${url}  (POST, Content-Type: application/json; Body and RecoverBody both $alertmanager_content)`,
  );
  info(
    `  ${HOST} is reachable from this machine only: expose it through a tunnel for ARMS, or deploy with \`s deploy\`.`,
  );
}

export type { LocalRuntime, LocalRuntimeOptions };
export { DEFAULT_PORT, INVOKE_API_PATH, startLocalRuntime };
