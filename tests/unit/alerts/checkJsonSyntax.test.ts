import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkJsonSyntax } from '../../../shared/alerts/checkJsonSyntax';

/** Nesting depth of a parsed value (each object or array is one level), the way the intake counts it. */
function depthOf(value: unknown): number {
  if (typeof value !== 'object' || value === null) return 0;
  return 1 + Math.max(0, ...Object.values(value).map(depthOf));
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
    ['an empty text', '', 0, 'Unexpected end of JSON input (the body ends early: truncated?)'],
    ['a truncated array', '[1,2', 4, "Expected ',' or ']' after array element (the body ends early: truncated?)"],
    ['a truncated object', '{"a":1', 6, "Expected ',' or '}' after property value (the body ends early: truncated?)"],
    ['a truncated string', '{"a":"bc', 8, 'Unterminated string (the body ends early: truncated?)'],
    ['a truncated escape', '"ab\\', 4, 'Unexpected end of JSON input (the body ends early: truncated?)'],
    ['a trailing comma in an object', '{"a":1,}', 7, 'Expected double-quoted property name'],
    ['a single-quoted key', "{'a':1}", 1, "Expected property name or '}'"],
    ['a missing colon', '{"a" 1}', 5, "Expected ':' after property name"],
    ['a leading zero', '01', 1, 'Unexpected number'],
    ['a lone minus', '-', 1, 'No number after minus sign (the body ends early: truncated?)'],
    ['a raw newline in a string', '"a\nb"', 2, 'Bad control character in string literal'],
    ['a bad escape', '"\\x41"', 2, 'Bad escaped character'],
    ['a short unicode escape', '"\\u12"', 5, 'Bad Unicode escape'],
    ['two values', '{} {}', 3, 'Unexpected non-whitespace character after JSON'],
  ])('refuses %s at position %i', (_name, text, position, message) => {
    // Act
    const problem = checkJsonSyntax(text, 32);

    // Assess
    expect(problem).toMatchObject({ kind: 'syntax', position, message });
  });

  it.each([
    ['a trailing comma in an array', '[1,]', "Unexpected token ']'"],
    ['a bare word', 'abc', "Unexpected token 'a'"],
    ['an unrendered ARMS variable', '{"payload": $alertmanager_content}', "Unexpected token '$'"],
    ['a CJK character where a value belongs', '{"a": 告警}', "Unexpected token '告'"],
  ])('refuses %s with no position where V8 names none, and quotes no body back', (_name, text, message) => {
    // Act
    const problem = checkJsonSyntax(text, 32);

    // Assess
    expect(problem).toEqual({ kind: 'syntax', message });
  });

  it('counts lines and columns from 1', () => {
    // Prepare
    const text = '{\n  "alerts": [\n    {"a" 1}\n  ]\n}';

    // Act
    const problem = checkJsonSyntax(text, 32);

    // Assess
    expect(problem).toEqual({
      kind: 'syntax',
      position: 25,
      line: 3,
      column: 10,
      message: "Expected ':' after property name",
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

  it('refuses a too-deep body before reading the rest of it', () => {
    // Prepare: deep first, broken after
    const text = `${'['.repeat(40)}x`;

    // Act
    const problem = checkJsonSyntax(text, 32);

    // Assess
    expect(problem).toMatchObject({ kind: 'depth', position: 32 });
  });

  it('accepts any JSON value, and measures its depth whatever its strings hold', () => {
    // Prepare: strings made of brackets, quotes and backslashes, which the depth walk must skip
    const tricky = fc.constantFrom('[', ']', '{', '}', '"', '\\', 'a', '\n');
    const texts = fc.oneof(fc.json({ depthSize: 'medium' }), fc.json({ depthSize: 'medium', stringUnit: tricky }));

    fc.assert(
      fc.property(texts, (text) => {
        const depth = depthOf(JSON.parse(text));

        // Act & Assess
        expect(checkJsonSyntax(text, depth)).toBeUndefined();
        if (depth > 0) expect(checkJsonSyntax(text, depth - 1)?.kind).toBe('depth');
      }),
      { numRuns: 2_000 },
    );
  });
});
