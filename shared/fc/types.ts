/**
 * Function Compute 3.0 shapes, from the FC documentation (`reference/arms-and-fc.md` §2). FC passes every event as a
 * Buffer; the adapters in this folder turn it into these objects.
 */
import type { Context as LambdaContext } from 'aws-lambda';

/** The HTTP-trigger event (FC 3.0, "version": "v1"). Multi-value headers and parameters arrive comma-joined. */
interface FcHttpEvent {
  version: string;
  rawPath: string;
  body?: string;
  isBase64Encoded: boolean;
  headers: Record<string, string>;
  queryParameters?: Record<string, string>;
  requestContext?: {
    accountId?: string;
    domainName?: string;
    domainPrefix?: string;
    requestId?: string;
    time?: string;
    timeEpoch?: string;
    http?: { method?: string; path?: string; protocol?: string; sourceIp?: string; userAgent?: string };
  };
}

/** What the webhook's business logic sees: the event, its decoded body and case-insensitive lookups. */
interface FcHttpRequest {
  event: FcHttpEvent;
  method: string;
  /** Decoded path (`requestContext.http.path`, else the decoded `rawPath`). */
  path: string;
  /** The body bytes, base64-decoded when FC encoded them (made on first read). */
  readonly body: Buffer;
  /**
   * The body as FC passed it when it was not base64-encoded (text FC read as UTF-8), else undefined. Reading it instead
   * of `body` spares an encode and a decode of the whole body.
   */
  readonly bodyText: string | undefined;
  /** Header value by name, any case. */
  header(name: string): string | undefined;
  /** Query parameter by name (exact case, as HTTP defines). */
  query(name: string): string | undefined;
}

/** The response struct FC turns into the HTTP response. Always returned whole. */
interface FcHttpResponse {
  statusCode: number;
  headers: Record<string, string>;
  isBase64Encoded: boolean;
  body: string;
}

/** The timer-trigger event. `payload` is the string configured on the trigger. */
interface FcTimerEvent {
  triggerTime: string;
  triggerName: string;
  payload: string;
}

/** FC's context object (https://alibabacloud.com/help/en/functioncompute/context). No remaining-time function. */
interface FcContext {
  requestId: string;
  credentials?: { accessKeyId?: string; accessKeySecret?: string; securityToken?: string };
  function?: { name?: string; handler?: string; memory?: number; timeout?: number };
  service?: Record<string, unknown>;
  region?: string;
  accountId?: string;
  logger?: unknown;
}

/**
 * Middy's types require a Lambda `Context`. FC's context shares none of its required fields, so this bridge type
 * exists only to satisfy that constraint, once; no code reads a Lambda-only field (and Middy's early timeout, which
 * needs `getRemainingTimeInMillis`, stays inert on FC).
 */
type MiddyFcContext = LambdaContext & FcContext;

export type { FcContext, FcHttpEvent, FcHttpRequest, FcHttpResponse, FcTimerEvent, MiddyFcContext };
