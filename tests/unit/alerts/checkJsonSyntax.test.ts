import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkJsonSyntax } from '../../../shared/alerts/checkJsonSyntax';

/** Whether V8's parser accepts the text. */
function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

describe('checkJsonSyntax', () => {
  it.each([
    ['an object', '{"alerts":[{"labels":{"a":"b"}}]}'],
    ['surrounding whitespace', ' \t\r\n{ "a" : [ 1 , 2 ] }\n '],
    ['every scalar', '[true,false,null,0,-1,1.5,-0.25e+10,1E-3,"s"]'],
    ['every escape', '"\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u00e9 \\uD83D\\uDE00"'],
    ['a lone surrogate escape (JSON.parse accepts it)', '"\\ud800"'],
    ['CJK text', '{"告警名称":"容器内存使用率大于80%"}'],
    ['empty containers', '{"a":{},"b":[],"c":[{}]}'],
    ['a top-level scalar', '42'],
  ])('accepts %s', (_name, text) => {
    // Act & Assess
    expect(checkJsonSyntax(text, 32)).toBeUndefined();
  });

  it.each([
    ['an empty text', '', 0, 'unexpected end of the body: expected a value (truncated?)'],
    [
      'a truncated array',
      '[1,2',
      4,
      "unexpected end of the body: expected ',' or ']' after an array element (truncated?)",
    ],
    [
      'a truncated object',
      '{"a":1',
      6,
      "unexpected end of the body: expected ',' or '}' after an object member (truncated?)",
    ],
    ['a truncated string', '{"a":"bc', 8, 'unterminated string: the body ends inside a string (truncated?)'],
    ['a truncated escape', '"ab\\', 3, 'unterminated string: the body ends inside a string (truncated?)'],
    ['a trailing comma in an object', '{"a":1,}', 7, "expected a property name in double quotes, found '}'"],
    ['a trailing comma in an array', '[1,]', 3, "expected a value, found ']'"],
    ['a single-quoted key', "{'a':1}", 1, "expected a property name in double quotes, found '''"],
    ['a missing colon', '{"a" 1}', 5, "expected ':' after a property name, found '1'"],
    ['a bare word', 'abc', 0, "expected a value, found 'a'"],
    ['a leading zero', '01', 1, "unexpected '1' after the end of the JSON value"],
    ['a lone minus', '-', 0, "invalid number starting with '-'"],
    ['a raw newline in a string', '"a\nb"', 2, 'control character U+000A in a string must be escaped'],
    ['a bad escape', '"\\x41"', 1, 'invalid escape \\x in a string'],
    ['a short unicode escape', '"\\u12"', 1, 'invalid \\u escape: expected four hex digits'],
    ['two values', '{} {}', 3, "unexpected '{' after the end of the JSON value"],
    ['an unrendered ARMS variable', '{"payload": $alertmanager_content}', 12, "expected a value, found '$'"],
    ['a CJK character where a value belongs', '{"a": 告警}', 6, "expected a value, found '告'"],
  ])('refuses %s at position %i', (_name, text, position, message) => {
    // Act
    const problem = checkJsonSyntax(text, 32);

    // Assess
    expect(problem).toMatchObject({ kind: 'syntax', position, message });
    expect(parses(text)).toBe(false);
  });

  it('counts lines and columns from 1', () => {
    // Prepare
    const text = '{\n  "alerts": [\n    {"a": x}\n  ]\n}';

    // Act
    const problem = checkJsonSyntax(text, 32);

    // Assess
    expect(problem).toEqual({
      kind: 'syntax',
      position: 26,
      line: 3,
      column: 11,
      message: "expected a value, found 'x'",
    });
  });

  it.each([
    ['4 levels within a limit of 4', '{"alerts":[{"labels":{}}]}', 4, undefined],
    ['5 levels over a limit of 4', '{"alerts":[{"labels":{"a":[]}}]}', 4, 'depth'],
    ['33 arrays over the default 32', `${'['.repeat(33)}${']'.repeat(33)}`, 32, 'depth'],
    ['32 arrays within the default 32', `${'['.repeat(32)}${']'.repeat(32)}`, 32, undefined],
  ])('checks depth: %s', (_name, text, maxDepth, kind) => {
    // Act
    const problem = checkJsonSyntax(text, maxDepth);

    // Assess
    expect(problem?.kind).toBe(kind);
  });

  it('stops at the depth limit without recursion on a 1 MB nesting', () => {
    // Prepare
    const text = '['.repeat(1_000_000);

    // Act
    const problem = checkJsonSyntax(text, 32);

    // Assess
    expect(problem).toMatchObject({ kind: 'depth', position: 32, message: 'JSON is nested more than 32 levels deep' });
  });

  it('agrees with JSON.parse on any JSON value', () => {
    fc.assert(
      fc.property(fc.json({ depthSize: 'medium' }), (text) => {
        // Act & Assess
        expect(checkJsonSyntax(text, 1_000)).toBeUndefined();
      }),
    );
  });

  it('agrees with JSON.parse on mutated and random text', () => {
    // Prepare: JSON with one character replaced, inserted or cut, and random strings of JSON-ish characters
    const mutated = fc
      .tuple(
        fc.json(),
        fc.nat(),
        fc.constantFrom('', '"', '\\', ',', ':', '{', '}', '[', ']', '0', '-', '.', 'e', ' ', '\n', '\u0001', 'u'),
        fc.boolean(),
      )
      .map(([text, at, char, replace]) => {
        const i = at % (text.length + 1);
        return text.slice(0, i) + char + text.slice(replace ? i + 1 : i);
      });
    const jsonish = fc
      .array(
        fc.constantFrom(
          '{',
          '}',
          '[',
          ']',
          '"',
          '\\',
          ':',
          ',',
          '1',
          '-',
          '.',
          'e',
          'E',
          '+',
          't',
          'rue',
          'null',
          ' ',
          'a',
          'u',
          '0',
        ),
        {
          maxLength: 30,
        },
      )
      .map((parts) => parts.join(''));

    fc.assert(
      fc.property(fc.oneof(mutated, jsonish, fc.string()), (text) => {
        // Act
        const problem = checkJsonSyntax(text, 1_000);

        // Assess
        expect(problem === undefined).toBe(parses(text));
      }),
      { numRuns: 5_000 },
    );
  });
});
