/**
 * Bytes → text, by the charset of the Content-Type. ARMS sends `text/plain; charset=UTF-8` by default
 * (`reference/arms-and-fc.md` §1.1), but a custom header may declare another charset, and a Windows-made template may
 * start with a byte order mark; Chinese tooling sometimes uses GB18030/GBK.
 */
import { TextDecoder } from 'node:util';
import { ErrorCode, PayloadInvalidError } from '../errors';

/** The charset assumed when the Content-Type names none (RFC 8259 §8.1: JSON exchanged between systems is UTF-8). */
const DEFAULT_CHARSET = 'utf-8';

/** Byte order marks, longest first. A BOM wins over the declared charset, as in the WHATWG "decode" algorithm. */
const BYTE_ORDER_MARKS: ReadonlyArray<{ bytes: readonly number[]; charset: string }> = [
  { bytes: [0xef, 0xbb, 0xbf], charset: 'utf-8' },
  { bytes: [0xff, 0xfe], charset: 'utf-16le' },
  { bytes: [0xfe, 0xff], charset: 'utf-16be' },
];

/** A decoded body: the text without any BOM, and the charset it was decoded with. */
interface DecodedBody {
  text: string;
  charset: string;
}

/**
 * The `charset` parameter of a Content-Type (`text/plain; charset="UTF-8"` → `utf-8`), lower-cased, or undefined when
 * there is none or it is empty.
 */
function charsetOf(contentType: string | undefined): string | undefined {
  if (contentType === undefined) return undefined;
  for (const parameter of contentType.split(';').slice(1)) {
    const equals = parameter.indexOf('=');
    if (equals < 0 || parameter.slice(0, equals).trim().toLowerCase() !== 'charset') continue;
    const value = parameter
      .slice(equals + 1)
      .trim()
      .replace(/^"(.*)"$/, '$1')
      .trim()
      .toLowerCase();
    return value === '' ? undefined : value;
  }
  return undefined;
}

/** The BOM the body starts with, if any. */
function byteOrderMark(body: Buffer): (typeof BYTE_ORDER_MARKS)[number] | undefined {
  return BYTE_ORDER_MARKS.find(
    ({ bytes }) => body.length >= bytes.length && bytes.every((byte, i) => body[i] === byte),
  );
}

/**
 * Decodes a callback body.
 *
 * - Charset: a leading BOM (UTF-8, UTF-16LE/BE) wins; else the Content-Type's `charset`; else UTF-8. Any charset the
 *   runtime's `TextDecoder` knows is accepted (Node 20 with full ICU: UTF-16, GB18030, GBK, Big5, Shift_JIS, …).
 * - Invalid byte sequences become U+FFFD instead of refusing the body: a stray byte in one label must not cost the
 *   page (the JSON structure is ASCII, so it still parses).
 * - A leading U+FEFF left after decoding (e.g. a GB18030-encoded BOM) is removed.
 *
 * @throws PayloadInvalidError 415 when the declared charset is unknown to the runtime.
 * @example decodeBody(Buffer.from('{"alerts":[]}'), 'text/plain; charset=UTF-8') // { text: '{"alerts":[]}', charset: 'utf-8' }
 */
function decodeBody(body: Buffer, contentType: string | undefined): DecodedBody {
  const bom = byteOrderMark(body);
  const charset = bom?.charset ?? charsetOf(contentType) ?? DEFAULT_CHARSET;
  let decoder: TextDecoder;
  try {
    // ignoreBOM: the BOM is stripped here, once, whatever the charset.
    decoder = new TextDecoder(charset, { fatal: false, ignoreBOM: true });
  } catch (error) {
    const shown = JSON.stringify(charset.length > 40 ? `${charset.slice(0, 40)}…` : charset);
    throw new PayloadInvalidError(
      `charset ${shown} of the Content-Type is not supported: send the body as UTF-8 (ARMS's default), UTF-16 or GB18030`,
      415,
      ErrorCode.UNSUPPORTED_CHARSET,
      { cause: error, details: { charset } },
    );
  }
  const bytes = bom === undefined ? body : body.subarray(bom.bytes.length);
  const text = decoder.decode(bytes);
  return { text: text.startsWith('\uFEFF') ? text.slice(1) : text, charset: decoder.encoding };
}

export { charsetOf, type DecodedBody, decodeBody };
