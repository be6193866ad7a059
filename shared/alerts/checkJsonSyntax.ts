/**
 * A single iterative pass over the body text that checks JSON syntax (RFC 8259, exactly what `JSON.parse` accepts)
 * and the nesting depth. The intake parses with `JSON.parse` first and runs this pass only to explain a refusal, or
 * before parsing a body with so many brackets that their nesting could cost the parse too much memory
 * (`readCallback.ts`). What it adds to `JSON.parse`:
 *
 * - depth: it keeps an explicit counter and stops at the limit, whatever follows (8 MB of `[` stop at byte 32);
 * - position: V8's messages differ between Node versions and some carry no position at all
 *   (`Unexpected token 'a', "abc" is not valid JSON`); this pass always reports line, column and offset, and says
 *   when the body simply ends too early (a truncated callback).
 */

/** What is wrong with the text, where. `position` counts UTF-16 code units from 0; `line`/`column` count from 1. */
interface JsonSyntaxProblem {
  kind: 'syntax' | 'depth';
  position: number;
  line: number;
  column: number;
  /** A sentence without the position, e.g. `expected ',' or '}' after an object member, found 'x'`. */
  message: string;
}

const OBJECT = 1;
const ARRAY = 2;

// Sticky patterns: each matches at `lastIndex` only, so the scan stays linear.
// biome-ignore lint/suspicious/noControlCharactersInRegex: JSON forbids raw U+0000–U+001F in strings; this run stops at them.
const PLAIN_STRING_RUN = /[^"\\\u0000-\u001f]*/y;
const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const HEX4 = /[0-9a-fA-F]{4}/y;

/** A character for a message: printable ones quoted, others as U+XXXX. */
function describeChar(text: string, position: number): string {
  if (position >= text.length) return 'the end of the body';
  const codePoint = text.codePointAt(position) ?? 0;
  if (codePoint < 0x20 || codePoint === 0x7f || (codePoint >= 0xd800 && codePoint <= 0xdfff)) {
    return `U+${codePoint.toString(16).toUpperCase().padStart(4, '0')}`;
  }
  return `'${String.fromCodePoint(codePoint)}'`;
}

function problemAt(
  text: string,
  kind: JsonSyntaxProblem['kind'],
  position: number,
  message: string,
): JsonSyntaxProblem {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i >= 0 && i < position; i = text.indexOf('\n', i + 1)) {
    line += 1;
    lineStart = i + 1;
  }
  return { kind, position, line, column: position - lineStart + 1, message };
}

function skipWhitespace(text: string, position: number): number {
  let i = position;
  for (;;) {
    const c = text.charCodeAt(i);
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return i;
    i += 1;
  }
}

/** Scans a string starting at its opening quote. Returns the index after the closing quote, or a problem. */
function scanString(text: string, start: number): number | JsonSyntaxProblem {
  let i = start + 1;
  for (;;) {
    PLAIN_STRING_RUN.lastIndex = i;
    PLAIN_STRING_RUN.test(text);
    i = PLAIN_STRING_RUN.lastIndex;
    if (i >= text.length)
      return problemAt(text, 'syntax', i, 'unterminated string: the body ends inside a string (truncated?)');
    const c = text.charCodeAt(i);
    if (c === 0x22) return i + 1;
    if (c !== 0x5c) {
      return problemAt(text, 'syntax', i, `control character ${describeChar(text, i)} in a string must be escaped`);
    }
    if (i + 1 >= text.length) {
      return problemAt(text, 'syntax', i, 'unterminated string: the body ends inside a string (truncated?)');
    }
    const escaped = text.charCodeAt(i + 1);
    if (escaped === 0x75) {
      HEX4.lastIndex = i + 2;
      if (!HEX4.test(text)) return problemAt(text, 'syntax', i, 'invalid \\u escape: expected four hex digits');
      i += 6;
    } else if ('"\\/bfnrt'.includes(text.charAt(i + 1))) {
      i += 2;
    } else {
      return problemAt(text, 'syntax', i, `invalid escape \\${text.charAt(i + 1)} in a string`);
    }
  }
}

/**
 * Checks that `text` is one JSON value (surrounded by optional whitespace) nested at most `maxDepth` levels deep
 * (each object or array is one level; `{"alerts":[{"labels":{}}]}` is 4).
 *
 * @returns undefined when `JSON.parse(text)` succeeds and the depth is within the limit; else the first problem.
 * @example checkJsonSyntax('{"a":1,}', 32) // { kind: 'syntax', position: 7, line: 1, column: 8, message: … }
 */
function checkJsonSyntax(text: string, maxDepth: number): JsonSyntaxProblem | undefined {
  const stack: number[] = [];
  let i = skipWhitespace(text, 0);
  // What the grammar expects next: a value, an object key, or what may follow a value.
  let expect: 'value' | 'key' | 'after' = 'value';
  for (;;) {
    if (expect === 'value') {
      if (i >= text.length)
        return problemAt(text, 'syntax', i, 'unexpected end of the body: expected a value (truncated?)');
      const c = text.charCodeAt(i);
      if (c === 0x7b || c === 0x5b) {
        if (stack.length >= maxDepth) {
          return problemAt(text, 'depth', i, `JSON is nested more than ${maxDepth} levels deep`);
        }
        const closing = c === 0x7b ? 0x7d : 0x5d;
        i = skipWhitespace(text, i + 1);
        if (text.charCodeAt(i) === closing) {
          i += 1;
          expect = 'after';
        } else {
          stack.push(c === 0x7b ? OBJECT : ARRAY);
          expect = c === 0x7b ? 'key' : 'value';
        }
        continue;
      }
      if (c === 0x22) {
        const end = scanString(text, i);
        if (typeof end !== 'number') return end;
        i = end;
      } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
        NUMBER.lastIndex = i;
        if (!NUMBER.test(text))
          return problemAt(text, 'syntax', i, `invalid number starting with ${describeChar(text, i)}`);
        i = NUMBER.lastIndex;
      } else if (text.startsWith('true', i)) {
        i += 4;
      } else if (text.startsWith('false', i)) {
        i += 5;
      } else if (text.startsWith('null', i)) {
        i += 4;
      } else {
        return problemAt(text, 'syntax', i, `expected a value, found ${describeChar(text, i)}`);
      }
      expect = 'after';
    } else if (expect === 'key') {
      if (i >= text.length)
        return problemAt(text, 'syntax', i, 'unexpected end of the body: expected a property name (truncated?)');
      if (text.charCodeAt(i) !== 0x22) {
        return problemAt(
          text,
          'syntax',
          i,
          `expected a property name in double quotes, found ${describeChar(text, i)}`,
        );
      }
      const end = scanString(text, i);
      if (typeof end !== 'number') return end;
      i = skipWhitespace(text, end);
      if (text.charCodeAt(i) !== 0x3a) {
        return problemAt(text, 'syntax', i, `expected ':' after a property name, found ${describeChar(text, i)}`);
      }
      i = skipWhitespace(text, i + 1);
      expect = 'value';
      continue;
    }
    // After a value: end of text at the top level; ',' or the closing bracket inside a container.
    i = skipWhitespace(text, i);
    const container = stack[stack.length - 1];
    if (container === undefined) {
      return i >= text.length
        ? undefined
        : problemAt(text, 'syntax', i, `unexpected ${describeChar(text, i)} after the end of the JSON value`);
    }
    const closing = container === OBJECT ? 0x7d : 0x5d;
    const expected = container === OBJECT ? "',' or '}' after an object member" : "',' or ']' after an array element";
    if (i >= text.length)
      return problemAt(text, 'syntax', i, `unexpected end of the body: expected ${expected} (truncated?)`);
    const c = text.charCodeAt(i);
    if (c === 0x2c) {
      i = skipWhitespace(text, i + 1);
      expect = container === OBJECT ? 'key' : 'value';
    } else if (c === closing) {
      stack.pop();
      i += 1;
      expect = 'after';
    } else {
      return problemAt(text, 'syntax', i, `expected ${expected}, found ${describeChar(text, i)}`);
    }
  }
}

export { checkJsonSyntax, type JsonSyntaxProblem };
