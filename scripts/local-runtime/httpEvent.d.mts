/** Types of `httpEvent.mjs`. */

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

type HandlerResult =
  | { kind: 'bytes'; bytes: Uint8Array }
  | { kind: 'string'; text: string }
  | { kind: 'json'; json: string };

declare function canonicalHeaderName(name: string): string;
declare function newRequestId(now?: number): string;
declare function isoSeconds(ms: number): string;
declare function toFcHttpEvent(
  request: { method: string; url: string; httpVersion: string; rawHeaders: string[]; sourceIp: string },
  body: Buffer,
  meta: { requestId: string; now: number; accountId: string; domainName: string; domainPrefix: string },
): FcHttpEventShape;
declare function fromHandlerResult(result: HandlerResult): {
  statusCode: number;
  headers: Record<string, string | string[]>;
  body: Buffer;
};

export type { FcHttpEventShape, HandlerResult };
export { canonicalHeaderName, fromHandlerResult, isoSeconds, newRequestId, toFcHttpEvent };
