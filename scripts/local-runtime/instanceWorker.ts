// One function instance: runs in a worker thread with the function's own environment (FC gives each instance its own
// process), loads the bundle once (cold start), then runs one invocation at a time as the parent asks.
import { pathToFileURL } from 'node:url';
import { format } from 'node:util';
import { type MessagePort, parentPort as maybeParentPort, workerData } from 'node:worker_threads';
import type { HandlerResult } from './httpEvent';

/** What `FunctionInstance` starts the worker with. */
interface InstanceData {
  modulePath: string;
  exportName: string;
  fn: { name: string; handler: string; memory: number; timeout: number };
  region: string;
  accountId: string;
}

/** An error as it crosses the thread boundary. */
interface SerializedError {
  name: string;
  message: string;
  stack: string;
}

/** Messages from the parent; each but `exit` is answered once, under its `id`. */
type ToWorker =
  | { type: 'invoke'; id: number; requestId: string; event: string }
  | { type: 'describe'; id: number }
  | { type: 'exit' };

/** Messages to the parent. */
type FromWorker =
  | { type: 'ready'; exports: string[] }
  | { type: 'init-error'; error: SerializedError }
  | ({ type: 'result'; id: number; leaked: string[] } & (
      | { ok: true; result: HandlerResult }
      | { ok: false; error: SerializedError }
    ))
  | { type: 'described'; id: number; value: string | null; error: SerializedError | null };

type Handler = (event: Buffer, context: unknown) => unknown;

const parentPort = maybeParentPort as MessagePort;
const { modulePath, exportName, fn, region, accountId } = workerData as InstanceData;
const post = (message: FromWorker) => parentPort.postMessage(message);

/**
 * Resource types that belong to this runtime, not to the handler: the worker's message ports (to the parent and the
 * ports carrying stdout/stderr, which appear on a first `console.log`).
 */
const OWN_RESOURCES = new Set(['MessagePort']);

function serializeError(error: unknown): SerializedError {
  if (error instanceof Error) return { name: error.name, message: error.message, stack: error.stack ?? '' };
  return { name: 'Error', message: format('%s', error), stack: '' };
}

/** FC's context.logger prints "<date> <requestId> [<level>] <content>" (reference §2.5). */
function createLogger(requestId: string) {
  const write =
    (level: string, stream: NodeJS.WriteStream) =>
    (...args: unknown[]) =>
      stream.write(`${new Date().toISOString()} ${requestId} [${level}] ${format(...args)}\n`);
  return {
    debug: write('DEBUG', process.stdout),
    info: write('INFO', process.stdout),
    log: write('INFO', process.stdout),
    warn: write('WARN', process.stderr),
    error: write('ERROR', process.stderr),
  };
}

function createContext(requestId: string) {
  const env = process.env;
  return {
    requestId,
    // FC fills these from the function's role; locally they come from the same ALIBABA_CLOUD_* names (CONTRACT §2).
    credentials: {
      accessKeyId: env.ALIBABA_CLOUD_ACCESS_KEY_ID ?? '',
      accessKeySecret: env.ALIBABA_CLOUD_ACCESS_KEY_SECRET ?? '',
      securityToken: env.ALIBABA_CLOUD_SECURITY_TOKEN ?? '',
    },
    function: { name: fn.name, handler: fn.handler, memory: fn.memory, timeout: fn.timeout },
    service: {},
    region,
    accountId,
    logger: createLogger(requestId),
  };
}

/** A handler's return value in a form that crosses the thread boundary, following FC's return conversion. */
function toTransferable(value: unknown): HandlerResult {
  if (value instanceof Uint8Array) return { kind: 'bytes', bytes: value };
  if (typeof value === 'string') return { kind: 'string', text: value };
  if (value === undefined || value === null) return { kind: 'string', text: '' };
  if (typeof value === 'object') return { kind: 'json', json: JSON.stringify(value) };
  return { kind: 'string', text: String(value) };
}

/** Types of resources present after the invocation that were not before (a multiset difference). */
function leakedResources(before: string[], after: string[]): string[] {
  const remaining = new Map<string, number>();
  for (const type of before) remaining.set(type, (remaining.get(type) ?? 0) + 1);
  const leaked: string[] = [];
  for (const type of after) {
    const count = remaining.get(type) ?? 0;
    if (count > 0) remaining.set(type, count - 1);
    else if (!OWN_RESOURCES.has(type)) leaked.push(type);
  }
  return leaked;
}

async function invoke({ id, requestId, event }: { id: number; requestId: string; event: string }) {
  const before = process.getActiveResourcesInfo();
  let outcome: { ok: true; result: HandlerResult } | { ok: false; error: SerializedError };
  try {
    const value = await handlerFn(Buffer.from(event, 'utf8'), createContext(requestId));
    outcome = { ok: true, result: toTransferable(value) };
  } catch (error) {
    outcome = { ok: false, error: serializeError(error) };
  }
  // Let work the handler finished on its way out (closing sockets, cleared timers) settle before comparing.
  await new Promise((resolve) => setImmediate(resolve));
  const leaked = leakedResources(before, process.getActiveResourcesInfo());
  post({ type: 'result', id, ...outcome, leaked });
}

let handlerFn: Handler = () => undefined;
let exportsObject: Record<string, unknown> = {};
try {
  const namespace = (await import(pathToFileURL(modulePath).href)) as Record<string, unknown>;
  // A CommonJS bundle arrives as `default` (module.exports); an ES module exposes its exports directly.
  exportsObject = exportName in namespace ? namespace : ((namespace.default ?? {}) as Record<string, unknown>);
  const exported = exportsObject[exportName];
  if (typeof exported !== 'function') {
    throw new TypeError(
      `${modulePath} does not export a function named "${exportName}" (s.yaml handler ${fn.handler})`,
    );
  }
  handlerFn = exported as Handler;
} catch (error) {
  post({ type: 'init-error', error: serializeError(error) });
  process.exit(1);
}

parentPort.on('message', async (message: ToWorker) => {
  if (message.type === 'invoke') {
    await invoke(message);
  } else if (message.type === 'describe') {
    let value: string | null = null;
    let error: SerializedError | null = null;
    try {
      const { describeConfig } = exportsObject;
      if (typeof describeConfig === 'function') value = JSON.stringify(await describeConfig());
    } catch (caught) {
      error = serializeError(caught);
    }
    post({ type: 'described', id: message.id, value, error });
  } else if (message.type === 'exit') {
    // process.exit in a worker ends only this thread, after flushing what the handler wrote to stdout/stderr.
    process.exit(0);
  }
});
post({ type: 'ready', exports: Object.keys(exportsObject) });

export type { FromWorker, InstanceData, SerializedError, ToWorker };
