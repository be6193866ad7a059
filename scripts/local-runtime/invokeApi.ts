// Emulation of Function Compute 3.0's invoke API on loopback, so the webhook's kick (shared/kick/kickFunction.ts, an
// @alicloud/fc2 signed request) runs the same code path locally as deployed:
//
//   POST /2023-03-30/functions/{name}/invocations   x-fc-invocation-type: Async  ──► 202 at once, then the function
//                                                                                     runs with the body as its event
//   POST /2023-03-30/functions/{name}/invocations   (no Async header)            ──► runs, answers with the result
//
// The body reaches the handler as a Buffer, like any FC event. Invocations queue on the function's instance like timer
// runs (one at a time per function). The signature is NOT verified (there is no account locally), but an
// Authorization header is required, so a caller that forgets to sign fails here too. Only functions without an HTTP
// trigger are served here: the webhook keeps every other POST (CONTRACT §3.1), including API-style posts naming it.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FunctionInstance } from './FunctionInstance';
import type { HandlerResult } from './httpEvent';
import type { FunctionSpec } from './readFunctions';

/** FC's invoke API path (`reference/arms-and-fc.md` §4.1); the query (e.g. `qualifier`) is ignored locally. */
const INVOKE_API_PATH = /^\/2023-03-30\/functions\/([^/]+)\/invocations$/;
/** Placeholder credentials for the local functions, so fc2 can sign; never valid anywhere. */
const LOCAL_ACCESS_KEY_ID = 'local-access-key-id';
const LOCAL_ACCESS_KEY_SECRET = 'local-access-key-secret';

const isSet = (value: string | undefined) => value !== undefined && value !== '';

/** What an invoke API request names: a function, and whether s.yaml defines it. */
interface InvokeTarget {
  name: string;
  known: boolean;
}

interface InvokeApiRequest {
  req: IncomingMessage;
  res: ServerResponse;
  target: InvokeTarget;
  /** Absent when the target is unknown. */
  instance: FunctionInstance | undefined;
  spec: FunctionSpec | undefined;
  requestId: string;
  body: Buffer;
  info: (line: string) => void;
  error: (line: string) => void;
}

/**
 * Completes the functions' environment for the kick, in place: `FUNCTION_COMPUTE_ENDPOINT` = this runtime (when
 * unset), and placeholder `ALIBABA_CLOUD_ACCESS_KEY_ID/SECRET` when neither is set. Not with `STORE=tablestore`: there
 * the placeholders would reach Tablestore and hide its clear "no credentials" error behind a signature error.
 * @returns lines saying what was set
 */
function completeLocalFcEnvironment(env: Record<string, string>, runtimeUrl: string): string[] {
  const notes: string[] = [];
  if (!isSet(env.FUNCTION_COMPUTE_ENDPOINT)) {
    env.FUNCTION_COMPUTE_ENDPOINT = runtimeUrl.replace(/\/+$/, '');
    notes.push(`FUNCTION_COMPUTE_ENDPOINT=${env.FUNCTION_COMPUTE_ENDPOINT} (this runtime's FC invoke API)`);
  }
  const noKeys = !isSet(env.ALIBABA_CLOUD_ACCESS_KEY_ID) && !isSet(env.ALIBABA_CLOUD_ACCESS_KEY_SECRET);
  if (noKeys && env.STORE !== 'tablestore') {
    env.ALIBABA_CLOUD_ACCESS_KEY_ID = LOCAL_ACCESS_KEY_ID;
    env.ALIBABA_CLOUD_ACCESS_KEY_SECRET = LOCAL_ACCESS_KEY_SECRET;
    notes.push('ALIBABA_CLOUD_ACCESS_KEY_ID/SECRET=placeholders (local FC API calls are signed but not verified)');
  }
  return notes;
}

/**
 * The function an invoke API request names, when this module serves it: a POST on the invoke path naming a function
 * that is not the HTTP-triggered one. `{ name, known: false }` for a name s.yaml does not define (answered 404).
 */
function matchInvokeApi(
  method: string,
  url: string | undefined,
  { functionNames, httpFunctionName }: { functionNames: { has(name: string): boolean }; httpFunctionName: string },
): InvokeTarget | null {
  if (method !== 'POST') return null;
  let pathname: string;
  try {
    pathname = new URL(url ?? '/', 'http://local').pathname;
  } catch {
    return null;
  }
  const match = INVOKE_API_PATH.exec(pathname);
  if (!match) return null;
  let name: string;
  try {
    name = decodeURIComponent(match[1] as string);
  } catch {
    return null;
  }
  if (name === httpFunctionName) return null;
  return { name, known: functionNames.has(name) };
}

/**
 * Serves one invoke API request whose body has been read. Resolves when the invocation has run (for an async one,
 * after the 202 was sent), so the runtime's shutdown waits for accepted work.
 */
async function serveInvokeApi(request: InvokeApiRequest): Promise<void> {
  const { req, res, target, instance, spec, requestId, body, info, error } = request;
  const label = `[${target.name}]`;
  if (!target.known || instance === undefined || spec === undefined) {
    return sendApiError(res, 404, requestId, 'FunctionNotFound', `function '${target.name}' does not exist`);
  }
  if (!isSet(req.headers.authorization)) {
    error(`${label} invoke API request without an Authorization header → 403 (request ${requestId})`);
    return sendApiError(
      res,
      403,
      requestId,
      'AccessDenied',
      'missing Authorization header (the local runtime does not verify signatures, but requires one)',
    );
  }
  const async = String(req.headers['x-fc-invocation-type'] ?? '').toLowerCase() === 'async';
  const event = body.toString('utf8');
  if (async) {
    res.statusCode = 202;
    res.setHeader('X-Fc-Request-Id', requestId);
    res.setHeader('Content-Length', '0');
    await new Promise<void>((resolveEnd) => {
      res.once('close', resolveEnd);
      res.end();
    });
    info(`${label} async invocation accepted (request ${requestId}, ${instance.outstanding} queued or running)`);
  }
  const outcome = await instance.invoke(event, requestId);
  const kind = async ? 'async invocation' : 'invocation';
  if (outcome.status === 'ok') {
    info(`${label} ${kind} ok in ${outcome.durationMs} ms: ${describe(outcome.result)}`);
  } else {
    const reason = outcome.status === 'timeout' ? `timed out after ${spec.timeout} s` : outcome.status;
    const detail = 'error' in outcome ? `: ${outcome.error.name}: ${outcome.error.message}` : '';
    error(`${label} ${kind} failed (${reason}${detail}) (request ${requestId})`);
  }
  if (async) return;
  if (outcome.status === 'ok') {
    // The handler's return value as FC converts it: an object as JSON, a string as text, a Buffer as bytes.
    const { result } = outcome;
    res.statusCode = 200;
    res.setHeader('X-Fc-Request-Id', requestId);
    if (result.kind === 'json') {
      res.setHeader('Content-Type', 'application/json');
      return endResponse(res, result.json);
    }
    res.setHeader('Content-Type', result.kind === 'string' ? 'text/plain; charset=utf-8' : 'application/octet-stream');
    return endResponse(res, result.kind === 'string' ? result.text : Buffer.from(result.bytes));
  }
  // FC answers a failed synchronous API invocation 200 with X-Fc-Error-Type and {errorMessage, errorType}.
  const type =
    outcome.status === 'timeout'
      ? 'FunctionTimeoutError'
      : outcome.status === 'init-error'
        ? 'InitializationError'
        : outcome.status === 'crash'
          ? 'FunctionCrashedError'
          : 'UnhandledInvocationError';
  const message =
    outcome.status === 'timeout' ? `Function timed out after ${spec.timeout} seconds` : outcome.error.message;
  const errorType = outcome.status === 'timeout' ? type : outcome.error.name;
  res.statusCode = 200;
  res.setHeader('Content-Type', 'application/json');
  res.setHeader('X-Fc-Request-Id', requestId);
  res.setHeader('X-Fc-Error-Type', type);
  return endResponse(res, JSON.stringify({ errorMessage: message, errorType }));
}

/** FC API errors carry `{ErrorCode, ErrorMessage}` (what fc2 reads into its thrown error). */
function sendApiError(
  res: ServerResponse,
  statusCode: number,
  requestId: string,
  code: string,
  message: string,
): Promise<void> {
  res.statusCode = statusCode;
  res.setHeader('Content-Type', 'application/json');
  res.setHeader('X-Fc-Request-Id', requestId);
  return endResponse(res, JSON.stringify({ ErrorCode: code, ErrorMessage: message, RequestId: requestId }));
}

function endResponse(res: ServerResponse, body: string | Buffer): Promise<void> {
  return new Promise((resolveEnd) => {
    res.once('close', resolveEnd);
    res.end(body);
  });
}

function describe(result: HandlerResult): string {
  if (result.kind === 'json') return result.json;
  if (result.kind === 'string') return result.text === '' ? '(no result)' : result.text;
  return `<${result.bytes.byteLength} bytes>`;
}

export { completeLocalFcEnvironment, INVOKE_API_PATH, matchInvokeApi, serveInvokeApi };
