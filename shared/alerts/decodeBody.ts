/**
 * Body → text, by the charset of the Content-Type. ARMS sends `text/plain; charset=UTF-8` by default
 * (`reference/arms-and-fc.md` §1.1), but a custom header may declare another charset, and a Windows-made template may
 * start with a byte order mark; Chinese tooling sometimes uses GB18030/GBK.
 *
 * A body that is not valid in its charset is refused, never repaired: replacing each invalid sequence with U+FFFD would
 * make two alerts that differ only in those bytes one label set, one identity, and the second a "duplicate" (a page
 * lost). The sender can fix its encoding; the bridge cannot guess it.
 */
import { TextDecoder } from 'node:util';
import { ErrorCode, PayloadInvalidError } from '../errors';

/** The charset assumed when the Content-Type names none (RFC 8259 §8.1: JSON exchanged between systems is UTF-8). */
const DEFAULT_CHARSET = 'utf-8';

/** The WHATWG Encoding labels of UTF-8 (https://encoding.spec.whatwg.org/#names-and-labels). */
const UTF8_LABELS: ReadonlySet<string> = new Set([
  'unicode-1-1-utf-8',
  'unicode11utf8',
  'unicode20utf8',
  'utf-8',
  'utf8',
  'x-unicode20utf8',
]);

/** Byte order marks, longest first. A BOM wins over the declared charset, as in the WHATWG "decode" algorithm. */
const BYTE_ORDER_MARKS: ReadonlyArray<{ bytes: readonly number[]; charset: string }> = [
  { bytes: [0xef, 0xbb, 0xbf], charset: 'utf-8' },
  { bytes: [0xff, 0xfe], charset: 'utf-16le' },
  { bytes: [0xfe, 0xff], charset: 'utf-16be' },
];

/** `fatal`: an invalid sequence throws; `ignoreBOM`: the BOM is stripped here, once, whatever the charset. */
const DECODER_OPTIONS = { fatal: true, ignoreBOM: true } as const;

/** Steps back from where a decoder failed to the start of the invalid sequence (longest sequence: 4 bytes). */
const MAX_SEQUENCE_STEPS = 8;

/** Invalid bytes quoted in the message, at most. */
const MAX_QUOTED_BYTES = 4;

const FIX_HINT = "send the body as UTF-8 (ARMS's default), or declare its charset in the Content-Type";

/** A decoded body: the text without any BOM, and the charset it was decoded with. */
interface DecodedBody {
  text: string;
  charset: string;
}

/** The last Content-Type read and its charset: a sender sends the same header every time. */
let lastCharsetOf: { contentType: string; charset: string | undefined } | undefined;

/**
 * The `charset` parameter of a Content-Type (`text/plain; charset="UTF-8"` → `utf-8`), lower-cased, or undefined when
 * there is none or it is empty.
 */
function charsetOf(contentType: string | undefined): string | undefined {
  if (contentType === undefined) return undefined;
  if (lastCharsetOf?.contentType !== contentType) {
    lastCharsetOf = { contentType, charset: readCharset(contentType) };
  }
  return lastCharsetOf.charset;
}

function readCharset(contentType: string): string | undefined {
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

/** A leading U+FEFF left after decoding (e.g. a GB18030-encoded BOM) is not text. */
function withoutLeadingBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** `String.prototype.isWellFormed` (Node 20; ES2024, newer than this project's `lib`). */
function isWellFormed(text: string): boolean {
  return (text as string & { isWellFormed(): boolean }).isWellFormed();
}

/** Whether decoding the first `length` bytes fails: streamed (an unfinished last sequence waits) or flushed. */
function decodingFails(bytes: Uint8Array, encoding: string, length: number, stream: boolean): boolean {
  try {
    new TextDecoder(encoding, DECODER_OPTIONS).decode(bytes.subarray(0, length), { stream });
    return false;
  } catch {
    return true;
  }
}

/**
 * Where the first invalid sequence of `bytes` is, for the message. Only runs on a body already refused, so it favours
 * agreeing with the decoder over speed: `end` is the shortest prefix whose streamed decoding fails (the decoder saw the
 * sequence's last byte there; a binary search, since a prefix of a failing prefix's extension fails too), or the end of
 * the body when only the final flush fails; `start` is the longest prefix before it that decodes completely.
 */
function firstInvalidSequence(bytes: Uint8Array, encoding: string): { start: number; end: number; atEnd: boolean } {
  let end = bytes.length;
  const atEnd = !decodingFails(bytes, encoding, bytes.length, true);
  if (!atEnd) {
    let low = 0; // decodes
    while (end - low > 1) {
      const middle = Math.floor((low + end) / 2);
      if (decodingFails(bytes, encoding, middle, true)) end = middle;
      else low = middle;
    }
  }
  let start = end - 1;
  for (let step = 0; start > 0 && step < MAX_SEQUENCE_STEPS && decodingFails(bytes, encoding, start, false); step++) {
    start -= 1;
  }
  return { start: Math.max(0, start), end, atEnd };
}

function hexBytes(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => `0x${byte.toString(16).toUpperCase().padStart(2, '0')}`).join(' ');
}

/** The 400 for bytes the charset does not allow, naming the first invalid sequence and its byte offset. */
function invalidBytes(bytes: Uint8Array, encoding: string, offset: number, cause: unknown): PayloadInvalidError {
  const { start, end, atEnd } = firstInvalidSequence(bytes, encoding);
  const sequence = bytes.subarray(start, Math.min(end, start + MAX_QUOTED_BYTES));
  const quoted = `${hexBytes(sequence)}${end - start > MAX_QUOTED_BYTES ? ' …' : ''}`;
  const what = atEnd
    ? `incomplete byte sequence ${quoted} at the end of the body (byte offset ${offset + start})`
    : `invalid byte${end - start > 1 ? ' sequence' : ''} ${quoted} at byte offset ${offset + start}`;
  return new PayloadInvalidError(
    `body is not valid ${encoding.toUpperCase()}: ${what}; ${FIX_HINT}`,
    400,
    ErrorCode.INVALID_ENCODING,
    { cause, details: { charset: encoding, offset: offset + start } },
  );
}

/** The 400 for text holding a lone surrogate: no charset encodes it, so it can only stand for bytes lost already. */
function loneSurrogate(text: string): PayloadInvalidError {
  let index = 0;
  for (; index < text.length; index++) {
    const unit = text.charCodeAt(index);
    if (unit < 0xd800 || unit > 0xdfff) continue;
    const next = text.charCodeAt(index + 1);
    if (unit <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) index += 1;
    else break;
  }
  const unit = text.charCodeAt(index).toString(16).toUpperCase();
  const offset = Buffer.byteLength(text.slice(0, index), 'utf8');
  return new PayloadInvalidError(
    `body is not valid UTF-8: lone surrogate U+${unit} at byte offset ${offset}; ${FIX_HINT}`,
    400,
    ErrorCode.INVALID_ENCODING,
    { details: { charset: DEFAULT_CHARSET, offset } },
  );
}

/**
 * Decodes a callback body received as bytes (FC's base64 bodies).
 *
 * - Charset: a leading BOM (UTF-8, UTF-16LE/BE) wins; else the Content-Type's `charset`; else UTF-8. Any charset the
 *   runtime's `TextDecoder` knows is accepted (Node 20 with full ICU: UTF-16, GB18030, GBK, Big5, Shift_JIS,
 *   ISO-8859-1 as windows-1252, …).
 * - A byte sequence the charset does not allow refuses the body (400 `invalid_encoding`, naming the byte offset).
 * - A leading U+FEFF left after decoding (e.g. a GB18030-encoded BOM) is removed.
 *
 * @throws PayloadInvalidError 415 when the declared charset is unknown to the runtime; 400 when the bytes are not valid
 *   in the charset.
 * @example decodeBody(Buffer.from('{"alerts":[]}'), 'text/plain; charset=UTF-8') // { text: '{"alerts":[]}', charset: 'utf-8' }
 */
function decodeBody(body: Buffer, contentType: string | undefined): DecodedBody {
  const bom = byteOrderMark(body);
  const charset = bom?.charset ?? charsetOf(contentType) ?? DEFAULT_CHARSET;
  let decoder: TextDecoder;
  try {
    decoder = new TextDecoder(charset, DECODER_OPTIONS);
  } catch (error) {
    const shown = JSON.stringify(charset.length > 40 ? `${charset.slice(0, 40)}…` : charset);
    throw new PayloadInvalidError(
      `charset ${shown} of the Content-Type is not supported: send the body as UTF-8 (ARMS's default), UTF-16 or GB18030`,
      415,
      ErrorCode.UNSUPPORTED_CHARSET,
      { cause: error, details: { charset } },
    );
  }
  const offset = bom?.bytes.length ?? 0;
  const bytes = offset === 0 ? body : body.subarray(offset);
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch (error) {
    throw invalidBytes(bytes, decoder.encoding, offset, error);
  }
  return { text: withoutLeadingBom(text), charset: decoder.encoding };
}

/**
 * Decodes a callback body FC passed as text (not base64): FC read its bytes as UTF-8 already, so the text is used as it
 * is, unless the Content-Type declares another charset (then the text goes back to its UTF-8 bytes and through
 * {@link decodeBody}, which decodes them as declared, as for a base64 body). A leading BOM (U+FEFF) wins over the
 * declared charset and is removed, as by `decodeBody`.
 *
 * @throws PayloadInvalidError 400 when the text holds a lone surrogate; as `decodeBody` for a declared charset.
 * @example decodeText('{"alerts":[]}', 'text/plain; charset=UTF-8') // { text: '{"alerts":[]}', charset: 'utf-8' }
 */
function decodeText(text: string, contentType: string | undefined): DecodedBody {
  if (!isWellFormed(text)) throw loneSurrogate(text);
  if (text.charCodeAt(0) === 0xfeff) return { text: withoutLeadingBom(text.slice(1)), charset: DEFAULT_CHARSET };
  const declared = charsetOf(contentType);
  if (declared !== undefined && !UTF8_LABELS.has(declared)) return decodeBody(Buffer.from(text, 'utf8'), contentType);
  return { text, charset: DEFAULT_CHARSET };
}

export { charsetOf, type DecodedBody, decodeBody, decodeText };
