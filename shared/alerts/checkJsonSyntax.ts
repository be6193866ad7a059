/**
 * Why a body is not JSON the intake takes: `JSON.parse`'s own verdict, after a depth walk over the text. The intake
 * parses first and asks this only to explain a refusal, or before parsing a body with so many brackets that their
 * nesting could cost the parse too much memory (`readCallback.ts`). The walk is a loop over the characters with a
 * counter, not a recursion, so 8 MB of `[` stop at the first bracket over the limit, with no parse and no deep stack.
 */

/** What is wrong with the text, where. `position` counts UTF-16 code units from 0; `line`/`column` count from 1. */
interface JsonSyntaxProblem {
  kind: 'syntax' | 'depth';
  /** Absent when V8 names no position (`Unexpected token 'a', "abc" is not valid JSON`). */
  position?: number;
  line?: number;
  column?: number;
  /** A sentence without the position, e.g. `Expected ',' or '}' after property value`. */
  message: string;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** Where `text` opens its first object or array nested deeper than `maxDepth` (brackets in strings skipped), or -1. */
function firstTooDeep(text: string, maxDepth: number): number {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      for (i++; i < text.length && text.charCodeAt(i) !== QUOTE; i++) if (text.charCodeAt(i) === BACKSLASH) i++;
    } else if (c === 0x7b || c === 0x5b) {
      depth += 1;
      if (depth > maxDepth) return i;
    } else if (c === 0x7d || c === 0x5d) {
      depth -= 1;
    }
  }
  return -1;
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

/**
 * V8's message without what varies between Node versions or quotes the body back: the position (` in JSON at position
 * 7`, ` (line 1 column 8)` on newer V8s) and the excerpt (`, "abc" is not valid JSON`); a text that ends where V8
 * stopped is said to be truncated, the usual reason an ARMS callback does not parse.
 */
function syntaxProblem(text: string, error: SyntaxError): JsonSyntaxProblem {
  const at = / at position (\d+)/.exec(error.message);
  const message = error.message.replace(/(?: in JSON)? at position \d+.*$/s, '').replace(/, (?:\.\.\.)?".*$/s, '');
  const position = at ? Number(at[1]) : /^Unexpected end/.test(message) ? text.length : undefined;
  if (position === undefined) return { kind: 'syntax', message };
  const ended = position === text.length ? ' (the body ends early: truncated?)' : '';
  return problemAt(text, 'syntax', position, `${message}${ended}`);
}
/**
 * Checks that `text` is one JSON value nested at most `maxDepth` levels deep (each object or array is one level, empty
 * ones too; `{"alerts":[{"labels":{}}]}` is 4).
 *
 * @returns undefined when `JSON.parse(text)` succeeds and the depth is within the limit; else the problem: too deep
 * first (nothing after the deep point is read), then `JSON.parse`'s.
 * @example checkJsonSyntax('{"a":1,}', 32) // { kind: 'syntax', position: 7, line: 1, column: 8, message: 'Expected double-quoted property name' }
 */
function checkJsonSyntax(text: string, maxDepth: number): JsonSyntaxProblem | undefined {
  const deep = firstTooDeep(text, maxDepth);
  if (deep >= 0) return problemAt(text, 'depth', deep, `JSON is nested more than ${maxDepth} levels deep`);
  try {
    JSON.parse(text);
    return undefined;
  } catch (error) {
    return syntaxProblem(text, error as SyntaxError);
  }
}

export { checkJsonSyntax, type JsonSyntaxProblem };
