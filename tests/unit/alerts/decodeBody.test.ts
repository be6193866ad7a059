import { describe, expect, it } from 'vitest';
import { charsetOf, decodeBody } from '../../../shared/alerts/decodeBody';
import { PayloadInvalidError } from '../../../shared/errors';

const TEXT = '{"alertname":"容器内存使用率大于80%"}';

/** UTF-16BE bytes of a string (Node has no 'utf16be' Buffer encoding). */
function utf16be(text: string): Buffer {
  return Buffer.from(text, 'utf16le').swap16();
}

describe('charsetOf', () => {
  it.each([
    ['text/plain; charset=UTF-8', 'utf-8'],
    ['application/json;charset="GB18030"', 'gb18030'],
    ['application/json; foo=bar; CHARSET = utf-16le ', 'utf-16le'],
    ['application/json', undefined],
    ['application/json; charset=', undefined],
    [undefined, undefined],
  ])('reads %j as %j', (contentType, expected) => {
    // Act & Assess
    expect(charsetOf(contentType)).toBe(expected);
  });
});

describe('decodeBody', () => {
  it.each([
    ['UTF-8 by default', Buffer.from(TEXT), undefined, 'utf-8'],
    ["ARMS's default header", Buffer.from(TEXT), 'text/plain; charset=UTF-8', 'utf-8'],
    [
      'UTF-8 with a BOM',
      Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(TEXT)]),
      'application/json',
      'utf-8',
    ],
    ['declared UTF-16LE', Buffer.from(TEXT, 'utf16le'), 'application/json; charset=utf-16le', 'utf-16le'],
    ['declared UTF-16BE', utf16be(TEXT), 'application/json; charset=UTF-16BE', 'utf-16be'],
    [
      'UTF-16LE by its BOM, whatever is declared',
      Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(TEXT, 'utf16le')]),
      'text/plain; charset=UTF-8',
      'utf-16le',
    ],
    ['UTF-16BE by its BOM', Buffer.concat([Buffer.from([0xfe, 0xff]), utf16be(TEXT)]), undefined, 'utf-16be'],
  ])('decodes %s', (_name, body, contentType, charset) => {
    // Act
    const decoded = decodeBody(body, contentType);

    // Assess
    expect(decoded).toEqual({ text: TEXT, charset });
  });

  it.each([
    ['gb18030', 'gb18030'],
    ['gbk', 'gbk'],
  ])('decodes %s when the runtime supports it', (label, encoding) => {
    // Prepare: "告警" in GB18030/GBK is B8 E6 BE AF
    let supported = true;
    try {
      new TextDecoder(label);
    } catch {
      supported = false;
    }
    const body = Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xb8, 0xe6, 0xbe, 0xaf]), Buffer.from('"}')]);

    // Act & Assess
    if (supported)
      expect(decodeBody(body, `text/plain; charset=${label}`)).toEqual({ text: '{"a":"告警"}', charset: encoding });
    else expect(() => decodeBody(body, `text/plain; charset=${label}`)).toThrow(PayloadInvalidError);
  });

  it('removes a BOM that survives decoding (GB18030 encodes U+FEFF as 84 31 95 33)', () => {
    // Prepare
    const body = Buffer.concat([Buffer.from([0x84, 0x31, 0x95, 0x33]), Buffer.from('{}')]);

    // Act & Assess
    expect(decodeBody(body, 'application/json; charset=gb18030').text).toBe('{}');
  });

  it('replaces invalid UTF-8 bytes instead of refusing the body', () => {
    // Prepare
    const body = Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xff, 0xc3]), Buffer.from('"}')]);

    // Act & Assess
    expect(decodeBody(body, undefined).text).toBe('{"a":"\uFFFD\uFFFD"}');
  });

  it.each([
    ['text/plain; charset=klingon'],
    ['application/json; charset=utf-32'],
    ['application/json; charset=iso-2022-kr'],
  ])('answers 415 for %j', (contentType) => {
    // Act
    let error: unknown;
    try {
      decodeBody(Buffer.from('{}'), contentType);
    } catch (caught) {
      error = caught;
    }

    // Assess
    expect(error).toBeInstanceOf(PayloadInvalidError);
    expect(error).toMatchObject({ statusCode: 415, code: 'unsupported_charset' });
    expect((error as Error).message).toMatch(
      /^charset ".+" of the Content-Type is not supported: send the body as UTF-8/,
    );
  });
});
