import { describe, expect, it } from 'vitest';
import {
  canonicalHeaderName,
  fromHandlerResult,
  isoSeconds,
  newRequestId,
  toFcHttpEvent,
} from '../../../scripts/local-runtime/httpEvent';

const META = {
  requestId: '1-00000000-req',
  now: Date.parse('2023-09-05T06:41:11.895Z'),
  accountId: 'local',
  domainName: '127.0.0.1:9000',
  domainPrefix: 'local',
};

function request(overrides: Partial<Parameters<typeof toFcHttpEvent>[0]> = {}) {
  return {
    method: 'POST',
    url: '/example',
    httpVersion: '1.1',
    rawHeaders: ['content-type', 'application/json', 'user-agent', 'PostmanRuntime/7.32.3'],
    sourceIp: '127.0.0.1',
    ...overrides,
  };
}

describe('Function: canonicalHeaderName', () => {
  it.each([
    ['content-type', 'Content-Type'],
    ['X-ACS-ACTION', 'X-Acs-Action'],
    ['authorization', 'Authorization'],
    ['x-webhook-token', 'X-Webhook-Token'],
  ])('writes %s as %s', (name, expected) => {
    expect(canonicalHeaderName(name)).toBe(expected);
  });
});

describe('Function: toFcHttpEvent', () => {
  it('builds the FC3 HTTP-trigger event shape of the reference', () => {
    // Act
    const event = toFcHttpEvent(request(), Buffer.from('Hello FC!'), META);

    // Assess
    expect(event).toEqual({
      version: 'v1',
      rawPath: '/example',
      body: 'Hello FC!',
      isBase64Encoded: false,
      headers: { 'Content-Type': 'application/json', 'User-Agent': 'PostmanRuntime/7.32.3' },
      queryParameters: {},
      requestContext: {
        accountId: 'local',
        domainName: '127.0.0.1:9000',
        domainPrefix: 'local',
        http: {
          method: 'POST',
          path: '/example',
          protocol: 'HTTP/1.1',
          sourceIp: '127.0.0.1',
          userAgent: 'PostmanRuntime/7.32.3',
        },
        requestId: '1-00000000-req',
        time: '2023-09-05T06:41:11Z',
        timeEpoch: '1693896071895',
      },
    });
  });

  it('comma-joins repeated headers and query parameters', () => {
    // Act
    const event = toFcHttpEvent(
      request({ url: '/?a=1&a=2&token=t%20x', rawHeaders: ['x-foo', 'one', 'X-Foo', 'two'] }),
      Buffer.alloc(0),
      META,
    );

    // Assess
    expect(event.headers).toEqual({ 'X-Foo': 'one,two' });
    expect(event.queryParameters).toEqual({ a: '1,2', token: 't x' });
    expect(event.body).toBe('');
    expect(event.isBase64Encoded).toBe(false);
    expect(event.requestContext.http.userAgent).toBe('');
  });

  it('keeps rawPath URL-encoded and decodes http.path', () => {
    // Act
    const event = toFcHttpEvent(request({ url: '/a%20b/%E5%91%8A%E8%AD%A6?x=1' }), Buffer.alloc(0), META);

    // Assess
    expect(event.rawPath).toBe('/a%20b/%E5%91%8A%E8%AD%A6');
    expect(event.requestContext.http.path).toBe('/a b/告警');
  });

  it('leaves a malformed escape as sent', () => {
    // Act
    const event = toFcHttpEvent(request({ url: '/bad%zz' }), Buffer.alloc(0), META);

    // Assess
    expect(event.requestContext.http.path).toBe('/bad%zz');
  });

  it('passes UTF-8 text as text and other bytes as base64', () => {
    // Prepare
    const chinese = Buffer.from('{"告警":"CPU 使用率"}');
    const binary = Buffer.from([0xff, 0xfe, 0x00, 0x41]);

    // Act
    const text = toFcHttpEvent(request(), chinese, META);
    const bytes = toFcHttpEvent(request(), binary, META);

    // Assess
    expect(text).toMatchObject({ body: '{"告警":"CPU 使用率"}', isBase64Encoded: false });
    expect(bytes).toMatchObject({ body: binary.toString('base64'), isBase64Encoded: true });
  });
});

describe('Function: fromHandlerResult', () => {
  it('maps the response struct, decoding a base64 body', () => {
    // Act
    const response = fromHandlerResult({
      kind: 'json',
      json: JSON.stringify({
        statusCode: 201,
        headers: { 'content-type': 'application/octet-stream', 'x-multi': ['a', 'b'] },
        isBase64Encoded: true,
        body: Buffer.from([1, 2, 3]).toString('base64'),
      }),
    });

    // Assess
    expect(response.statusCode).toBe(201);
    expect(response.headers).toEqual({ 'content-type': 'application/octet-stream', 'x-multi': ['a', 'b'] });
    expect([...response.body]).toEqual([1, 2, 3]);
  });

  it.each([
    [{ kind: 'string', text: 'hi' } as const, 'text/plain; charset=utf-8', 'hi'],
    [{ kind: 'json', json: '{"ok":true}' } as const, 'application/json', '{"ok":true}'],
    [{ kind: 'bytes', bytes: new Uint8Array([104, 105]) } as const, 'application/octet-stream', 'hi'],
  ])('answers 200 for a bare return value (%j)', (result, contentType, body) => {
    // Act
    const response = fromHandlerResult(result);

    // Assess
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe(contentType);
    expect(response.body.toString()).toBe(body);
  });

  it('rejects a status code HTTP cannot carry', () => {
    expect(() => fromHandlerResult({ kind: 'json', json: '{"statusCode":42}' })).toThrow(/invalid statusCode/);
  });
});

describe('Function: newRequestId / isoSeconds', () => {
  it('writes FC-like request ids and second-precision times', () => {
    // Act
    const id = newRequestId(Date.parse('2023-09-05T06:41:11Z'));

    // Assess
    expect(id).toMatch(/^1-64f6cd87-[0-9a-f]{8}-[0-9a-f]{12}$/);
    expect(isoSeconds(Date.parse('2023-09-05T06:41:11.895Z'))).toBe('2023-09-05T06:41:11Z');
  });
});
