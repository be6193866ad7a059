import { describe, expect, it } from 'vitest';
import { charsetOf, decodeBody, decodeText } from '../../../shared/alerts/decodeBody';
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

  it.each([
    // Western text declared as ISO-8859-1 (WHATWG: windows-1252, where every byte is a character)
    ['iso-8859-1', Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x20, 0xff]), 'café ÿ', 'windows-1252'],
    ['latin1', Buffer.from([0xc4, 0xe9]), 'Äé', 'windows-1252'],
    // "告警" in GBK / GB18030
    ['gbk', Buffer.from([0xb8, 0xe6, 0xbe, 0xaf]), '告警', 'gbk'],
    ['GB18030', Buffer.from([0xb8, 0xe6, 0xbe, 0xaf]), '告警', 'gb18030'],
  ])('still accepts bytes valid in a declared %s', (label, bytes, text, charset) => {
    // Act & Assess
    expect(decodeBody(bytes, `application/json; charset=${label}`)).toEqual({ text, charset });
  });

  /** The error `decodeBody` throws. */
  function decodeError(body: Buffer, contentType?: string): PayloadInvalidError {
    try {
      decodeBody(body, contentType);
    } catch (error) {
      if (error instanceof PayloadInvalidError) return error;
      throw error;
    }
    throw new Error('decodeBody did not throw');
  }

  const HINT = "send the body as UTF-8 (ARMS's default), or declare its charset in the Content-Type";

  it.each([
    [
      'a byte no UTF-8 sequence starts with',
      [0x61, 0x62, 0xff, 0x63],
      undefined,
      'UTF-8: invalid byte 0xFF at byte offset 2',
    ],
    [
      'a lead byte without its continuation',
      [0x7b, 0xc3, 0x22, 0x7d],
      undefined,
      'UTF-8: invalid byte sequence 0xC3 0x22 at byte offset 1',
    ],
    [
      'a sequence cut by the end of the body',
      [0x7b, 0x7d, 0xe5, 0x91],
      undefined,
      'UTF-8: incomplete byte sequence 0xE5 0x91 at the end of the body (byte offset 2)',
    ],
    [
      'an encoded surrogate',
      [0x22, 0xed, 0xa0, 0x80, 0x22],
      undefined,
      'UTF-8: invalid byte sequence 0xED 0xA0 at byte offset 1',
    ],
    ['an overlong encoding', [0xc0, 0xaf], 'text/plain; charset=UTF-8', 'UTF-8: invalid byte 0xC0 at byte offset 0'],
    [
      'offsets counted from the first byte, BOM included',
      [0xef, 0xbb, 0xbf, 0x7b, 0xff],
      'application/json',
      'UTF-8: invalid byte 0xFF at byte offset 4',
    ],
    [
      'a GBK lead byte without its trail',
      [0x7b, 0xb8, 0x22],
      'text/plain; charset=gbk',
      'GBK: invalid byte sequence 0xB8 0x22 at byte offset 1',
    ],
    [
      'an odd UTF-16LE body',
      [0x7b, 0x00, 0x7d],
      'application/json; charset=utf-16le',
      'UTF-16LE: incomplete byte sequence 0x7D at the end of the body (byte offset 2)',
    ],
  ])('refuses %s with 400 invalid_encoding, naming the byte offset', (_name, bytes, contentType, message) => {
    // Act
    const error = decodeError(Buffer.from(bytes), contentType);

    // Assess
    expect({ statusCode: error.statusCode, code: error.code, message: error.message }).toEqual({
      statusCode: 400,
      code: 'invalid_encoding',
      message: `body is not valid ${message}; ${HINT}`,
    });
  });

  it('names the first invalid byte of a large body', () => {
    // Prepare
    const body = Buffer.concat([Buffer.from(`{"a":"${'数据'.repeat(50_000)}`), Buffer.from([0x80]), Buffer.from('"}')]);

    // Act
    const error = decodeError(body);

    // Assess
    expect(error.message).toContain(`invalid byte 0x80 at byte offset ${6 + 300_000}`);
    expect(error.details).toEqual({ charset: 'utf-8', offset: 300_006 });
  });

  it('gives two bodies that differ only in invalid bytes two refusals, never one text', () => {
    // Prepare
    const body = (byte: number) => Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, byte, 0x22, 0x7d]);

    // Act & Assess
    expect(decodeError(body(0xfe)).message).toContain('0xFE at byte offset 6');
    expect(decodeError(body(0xff)).message).toContain('0xFF at byte offset 6');
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

describe('decodeText (a body FC passed as text)', () => {
  it.each([
    ['no Content-Type', TEXT, undefined, TEXT],
    ["ARMS's default header", TEXT, 'text/plain; charset=UTF-8', TEXT],
    ['a UTF-8 label', TEXT, 'application/json; charset="utf8"', TEXT],
    ['a BOM', `\uFEFF${TEXT}`, 'application/json', TEXT],
    ['a BOM, whatever is declared', `\uFEFF${TEXT}`, 'application/json; charset=gbk', TEXT],
    ['two BOMs (as decodeBody: the BOM and one U+FEFF)', `\uFEFF\uFEFF${TEXT}`, undefined, TEXT],
    ['an emoji (a surrogate pair)', '{"a":"🔥"}', undefined, '{"a":"🔥"}'],
  ])('uses the text as it is with %s', (_name, text, contentType, expected) => {
    // Act & Assess
    expect(decodeText(text, contentType)).toEqual({ text: expected, charset: 'utf-8' });
  });

  it.each([
    ['iso-8859-1', 'application/json; charset=iso-8859-1'],
    ['utf-16le', 'application/json; charset=utf-16le'],
    ['gbk', 'text/plain; charset=gbk'],
  ])(
    'decodes the UTF-8 bytes of the text as a declared %s, as for the same bytes sent base64',
    (_name, contentType) => {
      // Prepare
      const text = '{"a":"é"}';

      // Act & Assess
      let expected: unknown;
      try {
        expected = decodeBody(Buffer.from(text, 'utf8'), contentType);
      } catch (error) {
        expected = error;
      }
      if (expected instanceof Error) expect(() => decodeText(text, contentType)).toThrow(expected.message);
      else expect(decodeText(text, contentType)).toEqual(expected);
    },
  );

  it('answers 415 for an unknown declared charset', () => {
    expect(() => decodeText('{}', 'text/plain; charset=klingon')).toThrow(PayloadInvalidError);
  });

  it.each([
    ['a lone high surrogate', '{"a":"é\uD800"}', 'U+D800 at byte offset 8'],
    ['a lone low surrogate', '{"a":"🔥\uDC00"}', 'U+DC00 at byte offset 10'],
    ['reversed halves', '{"a":"\uDC00\uD800"}', 'U+DC00 at byte offset 6'],
  ])('refuses %s with 400 invalid_encoding', (_name, text, where) => {
    // Act
    let error: unknown;
    try {
      decodeText(text, undefined);
    } catch (caught) {
      error = caught;
    }

    // Assess
    expect(error).toMatchObject({ statusCode: 400, code: 'invalid_encoding' });
    expect((error as Error).message).toBe(
      `body is not valid UTF-8: lone surrogate ${where}; send the body as UTF-8 (ARMS's default), or declare its charset in the Content-Type`,
    );
  });
});
