// HTTP request ⇄ FC3 HTTP-trigger event and response struct (shared/reference arms-and-fc.md §2.2, §2.3).

import { isUtf8 } from 'node:buffer';
import { randomBytes } from 'node:crypto';

/** The FC3 HTTP-trigger event (reference §2.2). */
interface FcHttpEventShape {
  version: 'v1';
  rawPath: string;
  body: string;
  isBase64Encoded: boolean;
  headers: Record<string, string>;
  queryParameters: Record<string, string>;
  requestContext: {
    accountId: string;
    domainName: string;
    domainPrefix: string;
    http: { method: string; path: string; protocol: string; sourceIp: string; userAgent: string };
    requestId: string;
    time: string;
    timeEpoch: string;
  };
}

/** What a handler returned, as the instance worker passes it back (`instanceWorker.ts` `toTransferable`). */
type HandlerResult =
  | { kind: 'bytes'; bytes: Uint8Array }
  | { kind: 'string'; text: string }
  | { kind: 'json'; json: string };

/** The request fields the event is built from. */
interface IncomingRequest {
  method: string;
  url: string;
  httpVersion: string;
  rawHeaders: string[];
  sourceIp: string;
}

/** What the runtime adds: the request id, the time, and where FC would say the request came in. */
interface EventMeta {
  requestId: string;
  now: number;
  accountId: string;
  domainName: string;
  domainPrefix: string;
}

/** The HTTP response FC would send. */
interface HttpAnswer {
  statusCode: number;
  headers: Record<string, string | string[]>;
  body: Buffer;
}

/**
 * `content-type` → `Content-Type`, `x-acs-action` → `X-Acs-Action`: FC hands headers to the function in this
 * canonical case (the captured event in the reference), the way Go's `textproto.CanonicalMIMEHeaderKey` writes them.
 */
function canonicalHeaderName(name: string): string {
  return name
    .toLowerCase()
    .split('-')
    .map((part) => (part === '' ? part : (part[0] as string).toUpperCase() + part.slice(1)))
    .join('-');
}

/** FC-like request id: `1-<hex seconds>-<random>`, as in the reference's captured events. */
function newRequestId(now = Date.now()): string {
  const hex = randomBytes(10).toString('hex');
  return `1-${Math.floor(now / 1000).toString(16)}-${hex.slice(0, 8)}-${hex.slice(8)}`;
}

/** ISO 8601 without milliseconds, as FC writes `time` and `triggerTime`. */
function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * Builds the FC3 HTTP-trigger event for one request.
 *
 * @param body the full request body
 */
function toFcHttpEvent(request: IncomingRequest, body: Buffer, meta: EventMeta): FcHttpEventShape {
  const headers: Record<string, string> = {};
  for (let i = 0; i + 1 < request.rawHeaders.length; i += 2) {
    const name = canonicalHeaderName(request.rawHeaders[i] as string);
    const value = request.rawHeaders[i + 1] as string;
    // Multi-value headers are comma-joined (reference §2.2: "header2": "value1,value2").
    headers[name] = name in headers ? `${headers[name]},${value}` : value;
  }

  const queryStart = request.url.indexOf('?');
  const rawPath = queryStart === -1 ? request.url : request.url.slice(0, queryStart);
  const queryParameters: Record<string, string> = {};
  if (queryStart !== -1) {
    for (const [key, value] of new URLSearchParams(request.url.slice(queryStart + 1))) {
      queryParameters[key] = key in queryParameters ? `${queryParameters[key]},${value}` : value;
    }
  }
  let path = rawPath;
  try {
    path = decodeURIComponent(rawPath);
  } catch {
    // A malformed %-escape stays as sent; the handler sees the raw text either way.
  }

  // Text bodies are passed as text; bytes that are not valid UTF-8 as base64, flagged (reference §2.2).
  const text = isUtf8(body);
  return {
    version: 'v1',
    rawPath,
    body: text ? body.toString('utf8') : body.toString('base64'),
    isBase64Encoded: !text,
    headers,
    queryParameters,
    requestContext: {
      accountId: meta.accountId,
      domainName: meta.domainName,
      domainPrefix: meta.domainPrefix,
      http: {
        method: request.method,
        path,
        protocol: `HTTP/${request.httpVersion}`,
        sourceIp: request.sourceIp,
        userAgent: headers['User-Agent'] ?? '',
      },
      requestId: meta.requestId,
      time: isoSeconds(meta.now),
      timeEpoch: String(meta.now),
    },
  };
}

/**
 * Turns what a handler returned into the HTTP response FC would send. The handler should return the full struct
 * `{statusCode, headers, isBase64Encoded, body}`; FC's treatment of anything else is not documented, so this follows its
 * general return conversion (reference §2.1): bytes as is, a plain object as JSON, anything else as text.
 *
 * @throws Error when the struct is unusable (bad status code); the caller answers 502 as FC would
 */
function fromHandlerResult(result: HandlerResult): HttpAnswer {
  if (result.kind === 'bytes') {
    return {
      statusCode: 200,
      headers: { 'content-type': 'application/octet-stream' },
      body: Buffer.from(result.bytes),
    };
  }
  if (result.kind === 'string') {
    return {
      statusCode: 200,
      headers: { 'content-type': 'text/plain; charset=utf-8' },
      body: Buffer.from(result.text),
    };
  }
  const parsed: unknown = JSON.parse(result.json);
  const isStruct = parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) && 'statusCode' in parsed;
  if (!isStruct) {
    return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: Buffer.from(result.json) };
  }
  const value = parsed as {
    statusCode: unknown;
    headers?: Record<string, unknown>;
    body?: unknown;
    isBase64Encoded?: unknown;
  };
  const statusCode = Number(value.statusCode);
  if (!Number.isInteger(statusCode) || statusCode < 100 || statusCode > 599) {
    throw new Error(`the handler returned an invalid statusCode ${JSON.stringify(value.statusCode)}`);
  }
  const headers: Record<string, string | string[]> = {};
  for (const [name, headerValue] of Object.entries(value.headers ?? {})) {
    if (headerValue === undefined || headerValue === null) continue;
    headers[name] = Array.isArray(headerValue) ? headerValue.map(String) : String(headerValue);
  }
  let body: Buffer;
  if (value.body === undefined || value.body === null) body = Buffer.alloc(0);
  else if (typeof value.body === 'string') body = Buffer.from(value.body, value.isBase64Encoded ? 'base64' : 'utf8');
  else body = Buffer.from(JSON.stringify(value.body));
  return { statusCode, headers, body };
}

export type { FcHttpEventShape, HandlerResult, HttpAnswer };
export { canonicalHeaderName, fromHandlerResult, isoSeconds, newRequestId, toFcHttpEvent };
