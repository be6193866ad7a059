import { describe, expect, it } from 'vitest';
import { matches, parseMatcher } from '../../../shared/pagerduty/parseMatcher';

describe('Function: parseMatcher', () => {
  it.each([
    { text: 'team="db"', name: 'team', type: '=', value: 'db' },
    { text: 'team=db', name: 'team', type: '=', value: 'db' },
    { text: ' env != staging ', name: 'env', type: '!=', value: 'staging' },
    { text: 'severity=~"critical|error"', name: 'severity', type: '=~', value: 'critical|error' },
    { text: 'job!~test.*', name: 'job', type: '!~', value: 'test.*' },
    { text: 'env=""', name: 'env', type: '=', value: '' },
    { text: 'env=', name: 'env', type: '=', value: '' },
    { text: 'msg="say \\"hi\\"\\n"', name: 'msg', type: '=', value: 'say "hi"\n' },
    { text: '"集群"="生产"', name: '集群', type: '=', value: '生产' },
    {
      text: '_aliyun_arms_alert_level=~"ERROR|CRITICAL"',
      name: '_aliyun_arms_alert_level',
      type: '=~',
      value: 'ERROR|CRITICAL',
    },
  ])('parses $text', ({ text, name, type, value }) => {
    // Act
    const { matcher, problem } = parseMatcher(text);

    // Assess
    expect(problem).toBeUndefined();
    expect(matcher).toMatchObject({ name, type, value, text });
  });

  it.each([
    { text: 'team==db', why: 'unexpected "=" after the operator' },
    { text: 'team=!db', why: 'unexpected "!" after the operator' },
    { text: 'team', why: 'expected name=value, name!=value, name=~regex or name!~regex' },
    { text: '=db', why: 'expected name=value, name!=value, name=~regex or name!~regex' },
    { text: '1team=db', why: 'expected name=value, name!=value, name=~regex or name!~regex' },
    { text: 'team="db', why: 'the quoted value is not closed' },
    { text: 'team=d"b', why: 'an unquoted value cannot contain "' },
    { text: 'sev=~"(critical"', why: 'the regex does not compile' },
    { text: 'sev=~"a)|(b"', why: 'the regex does not compile' },
  ])('rejects $text', ({ text, why }) => {
    // Act
    const { matcher, problem } = parseMatcher(text);

    // Assess
    expect(matcher).toBeUndefined();
    expect(problem).toContain(`matcher ${JSON.stringify(text)} is not a valid matcher: ${why}`);
  });
});

describe('Function: matches', () => {
  it.each([
    { text: 'team="db"', labels: { team: 'db' }, expected: true },
    { text: 'team="db"', labels: { team: 'dba' }, expected: false },
    { text: 'team!="db"', labels: {}, expected: true },
    { text: 'env=""', labels: {}, expected: true },
    { text: 'env=""', labels: { env: 'prod' }, expected: false },
    { text: 'severity=~"critical|error"', labels: { severity: 'error' }, expected: true },
    { text: 'severity=~"critical|error"', labels: { severity: 'errors' }, expected: false },
    { text: 'severity=~"crit"', labels: { severity: 'critical' }, expected: false },
    { text: 'job!~"test.*"', labels: { job: 'testing' }, expected: false },
    { text: 'job!~"test.*"', labels: { job: 'prod' }, expected: true },
    { text: 'job!~"test.*"', labels: {}, expected: true },
    { text: 'name=~".+"', labels: {}, expected: false },
    { text: 'emoji=~"^.$"', labels: { emoji: '🔥' }, expected: true },
    { text: 'toString="x"', labels: {}, expected: false },
  ])('$text on $labels → $expected', ({ text, labels, expected }) => {
    // Prepare
    const { matcher } = parseMatcher(text);
    if (!matcher) throw new Error(`fixture matcher ${text} does not parse`);

    // Act / Assess
    expect(matches(matcher, labels as Record<string, string>)).toBe(expected);
  });
});
