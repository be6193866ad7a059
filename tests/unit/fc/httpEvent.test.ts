import { describe, expect, it } from 'vitest';
import { BridgeError } from '../../../shared/errors';
import { eventText, parseHttpEvent, toFcResponse, toHttpRequest } from '../../../shared/fc/httpEvent';
import { httpEvent } from '../../support/fcEvents';

describe('Function: parseHttpEvent / toHttpRequest', () => {
  it('decodes a base64 body to the exact bytes', () => {
    // Prepare
    const bytes = Buffer.from([0xef, 0xbb, 0xbf, 0x7b, 0x7d, 0xff]);

    // Act
    const request = toHttpRequest(parseHttpEvent(httpEvent({ body: bytes })));

    // Assess
    expect(request.body.equals(bytes)).toBe(true);
  });

  it('keeps a plain body as UTF-8', () => {
    const request = toHttpRequest(parseHttpEvent(httpEvent({ body: '{"告警":"内存"}' })));
    expect(request.body.toString('utf8')).toBe('{"告警":"内存"}');
  });

  it('gives a text body as FC passed it, and its bytes only on request', () => {
    // Act
    const request = toHttpRequest(parseHttpEvent(httpEvent({ body: '{"告警":"内存"}' })));

    // Assess
    expect(request.bodyText).toBe('{"告警":"内存"}');
    expect(request.body).toBe(request.body);
    expect(request.body.equals(Buffer.from('{"告警":"内存"}'))).toBe(true);
  });

  it('has no text for a base64 body: its bytes may be in any charset', () => {
    // Act
    const request = toHttpRequest(parseHttpEvent(httpEvent({ body: Buffer.from([0x7b, 0xb8, 0xe6, 0x7d]) })));

    // Assess
    expect(request.bodyText).toBeUndefined();
    expect(request.body.equals(Buffer.from([0x7b, 0xb8, 0xe6, 0x7d]))).toBe(true);
  });

  it('looks headers up in any case and keeps comma-joined multi-values', () => {
    // Act
    const request = toHttpRequest(
      parseHttpEvent(httpEvent({ headers: { 'X-Webhook-Token': 'abc', 'X-Forwarded-For': '1.1.1.1,2.2.2.2' } })),
    );

    // Assess
    expect(request.header('x-webhook-token')).toBe('abc');
    expect(request.header('X-WEBHOOK-TOKEN')).toBe('abc');
    expect(request.header('x-forwarded-for')).toBe('1.1.1.1,2.2.2.2');
    expect(request.header('content-type')).toBe('text/plain; charset=UTF-8');
  });

  it('reads method, decoded path and query parameters', () => {
    // Act
    const request = toHttpRequest(
      parseHttpEvent(httpEvent({ method: 'get', path: '/hooks/告警', query: { token: 't' } })),
    );

    // Assess
    expect(request.method).toBe('GET');
    expect(request.path).toBe('/hooks/告警');
    expect(request.query('token')).toBe('t');
    expect(request.query('missing')).toBeUndefined();
  });

  it('treats an absent body as empty', () => {
    const request = toHttpRequest({ version: 'v1', rawPath: '/', headers: {}, isBase64Encoded: false });
    expect(request.body.length).toBe(0);
    expect(request.bodyText).toBe('');
    expect(request.method).toBe('POST');
  });

  it.each([Buffer.from('not json'), Buffer.from('[]'), Buffer.from('{"body":"x"}'), Buffer.from('')])(
    'refuses %s, which is not an HTTP-trigger event, with a 400',
    (raw) => {
      expect(() => parseHttpEvent(raw)).toThrow(BridgeError);
      try {
        parseHttpEvent(raw);
      } catch (error) {
        expect((error as BridgeError).statusCode).toBe(400);
      }
    },
  );
});

describe('Function: eventText', () => {
  it.each([
    ['ASCII', Buffer.from('{"body":"{\\"alerts\\":[]}"}')],
    ['UTF-8 in Chinese', Buffer.from('{"body":"告警 内存 使用率"}')],
    ['a character beyond the BMP', Buffer.from('{"body":"😀"}')],
    ['a leading byte order mark (kept: the parse refuses it as before)', Buffer.from([0xef, 0xbb, 0xbf, 0x7b, 0x7d])],
    ['a lone 0xFF', Buffer.from([0x7b, 0xff, 0x41, 0x7d])],
    ['a truncated sequence at the end', Buffer.from([0x7b, 0x7d, 0xe4, 0xb8])],
    ['an encoded surrogate', Buffer.from([0x22, 0xed, 0xa0, 0x80, 0x22])],
    ['an overlong encoding', Buffer.from([0x22, 0xc0, 0xaf, 0x22])],
    ['nothing', Buffer.alloc(0)],
  ])('reads %s exactly as Buffer#toString does', (_case, raw) => {
    expect(eventText(raw)).toBe(raw.toString());
  });
});

describe('Function: toFcResponse', () => {
  it('fills in the whole FC struct', () => {
    expect(toFcResponse({ statusCode: 204, body: '' })).toEqual({
      statusCode: 204,
      headers: { 'content-type': 'application/json; charset=utf-8' },
      isBase64Encoded: false,
      body: '',
    });
  });

  it('wraps a bare value as a 200 JSON body', () => {
    expect(toFcResponse({ ok: true })).toMatchObject({ statusCode: 200, body: '{"ok":true}', isBase64Encoded: false });
  });
});
