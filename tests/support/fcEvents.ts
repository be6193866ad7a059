/**
 * FC 3.0 invocation inputs for tests, shaped as `reference/arms-and-fc.md` §2.2 and §2.4 show them: the HTTP-trigger
 * event (with FC's canonical-case header names) and the timer event, each serialized to the Buffer FC passes.
 */
import { randomUUID } from 'node:crypto';
import type { FcContext } from '../../shared/fc/types';

interface HttpEventInput {
  body?: string | Buffer;
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  query?: Record<string, string>;
  /** Send the body base64-encoded, as FC does for binary bodies. @default true for Buffers */
  base64?: boolean;
}

/** An FC3 HTTP-trigger event as the Buffer FC passes to the handler. */
function httpEvent(input: HttpEventInput = {}): Buffer {
  const body = input.body ?? '';
  const base64 = input.base64 ?? Buffer.isBuffer(body);
  const path = input.path ?? '/';
  const event = {
    version: 'v1',
    rawPath: encodeURI(path),
    body: base64 ? Buffer.from(body).toString('base64') : body.toString(),
    isBase64Encoded: base64,
    headers: { 'Content-Type': 'text/plain; charset=UTF-8', 'User-Agent': 'Go-http-client/1.1', ...input.headers },
    queryParameters: input.query ?? {},
    requestContext: {
      accountId: '1234567890',
      domainName: 'test.cn-hangzhou.fcapp.run',
      domainPrefix: 'test',
      http: {
        method: input.method ?? 'POST',
        path,
        protocol: 'HTTP/1.1',
        sourceIp: '11.11.11.11',
        userAgent: 'Go-http-client/1.1',
      },
      requestId: randomUUID(),
      time: new Date().toISOString(),
      timeEpoch: String(Date.now()),
    },
  };
  return Buffer.from(JSON.stringify(event));
}

/** An FC timer event as the Buffer FC passes. */
function timerEvent(triggerTime = new Date()): Buffer {
  return Buffer.from(
    JSON.stringify({
      triggerTime: triggerTime.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      triggerName: 'timer',
      payload: '{}',
    }),
  );
}

/** An FC context (no remaining-time function, as on FC). Typed loosely: Middy's types want a Lambda context. */
// biome-ignore lint/suspicious/noExplicitAny: the handler's declared context type is Middy's Lambda bridge type.
function fcContext(functionName = 'alert-webhook'): any {
  const context: FcContext = {
    requestId: randomUUID(),
    credentials: {},
    function: { name: functionName, handler: 'index.handler', memory: 256, timeout: 10 },
    region: 'cn-hangzhou',
    accountId: '1234567890',
  };
  return context;
}

export { fcContext, httpEvent, timerEvent };
