import { describe, expect, it } from 'vitest';
import {
  alertIdentity,
  canonicalLabelSet,
  labelSetIdentity,
  occurrenceKey,
  UNKNOWN_OCCURRENCE,
} from '../../../shared/alerts/identity';

describe('canonicalLabelSet', () => {
  it('sorts the pairs by name in UTF-16 code unit order and writes them as a JSON array of [name, value]', () => {
    // Prepare: upper case (0x41–0x5A) < '_' (0x5F) < lower case (0x61–0x7A) < CJK
    const labels = { zone: 'a', _aliyun_arms_alert_level: 'P1', Zone: 'b', 告警: 'c', alertname: 'X' };

    // Act
    const canonical = canonicalLabelSet(labels);

    // Assess
    expect(canonical).toBe(
      '[["Zone","b"],["_aliyun_arms_alert_level","P1"],["alertname","X"],["zone","a"],["告警","c"]]',
    );
  });

  it('escapes quotes, backslashes and control characters, and keeps empty values', () => {
    // Prepare
    const labels = { msg: 'a"b\\c\nd\u0001', empty: '' };

    // Act
    const canonical = canonicalLabelSet(labels);

    // Assess
    expect(canonical).toBe('[["empty",""],["msg","a\\"b\\\\c\\nd\\u0001"]]');
  });

  it('leaves out the excluded label names', () => {
    // Prepare
    const labels = { alertname: 'X', replica: 'a', job: 'j' };

    // Act
    const canonical = canonicalLabelSet(labels, ['replica']);

    // Assess
    expect(canonical).toBe('[["alertname","X"],["job","j"]]');
  });

  it('cannot be confused by values that look like separators', () => {
    // Prepare: naive "name=value,name=value" encodings would make these equal
    const a = { a: 'x","b":"y' };
    const b = { a: 'x', b: 'y' };

    // Act & Assess
    expect(canonicalLabelSet(a)).not.toBe(canonicalLabelSet(b));
    expect(labelSetIdentity(a)).not.toBe(labelSetIdentity(b));
  });
});

describe('labelSetIdentity', () => {
  // Pinned vectors: the expected hashes were computed outside the code under test
  // (printf '%s' '<canonical form>' | sha256sum). Changing them orphans every open PagerDuty incident.
  it.each([
    {
      name: 'ASCII labels',
      labels: { severity: 'critical', instance: '10.0.0.1:9100', alertname: 'HighCPU' },
      expected: 'v1:5d68539d7360da06f755bbdc10f060962be089cc815f89c53101826eec7eac1b',
    },
    {
      name: 'CJK text, escapes and an ARMS label',
      labels: { msg: 'line1\nquote"back\\slash', alertname: '容器内存使用率大于80%', _aliyun_arms_alert_level: 'P1' },
      expected: 'v1:71988f8ab87d682782fbac73b2614d8996396504f1edbe31844f5ef531b4df10',
    },
  ] as Array<{ name: string; labels: Record<string, string>; expected: string }>)(
    'pins the v1 identity of $name',
    ({ labels, expected }) => {
      // Act
      const identity = labelSetIdentity(labels);

      // Assess
      expect(identity).toBe(expected);
    },
  );

  it('does not depend on the order labels arrive in', () => {
    // Prepare
    const forward = { a: '1', b: '2', c: '3' };
    const backward = { c: '3', b: '2', a: '1' };

    // Act & Assess
    expect(labelSetIdentity(forward)).toBe(labelSetIdentity(backward));
  });

  it('fits a PagerDuty dedup_key', () => {
    // Act
    const identity = labelSetIdentity({ alertname: 'x'.repeat(10_000) });

    // Assess
    expect(identity).toMatch(/^v1:[0-9a-f]{64}$/);
  });
});

describe('alertIdentity', () => {
  it.each([
    { name: 'an ARMS fingerprint', fingerprint: 'bec72890cc2c7b4a027e008df0cd1013', source: 'fingerprint' },
    { name: 'an Alertmanager fingerprint', fingerprint: 'c4a1b2d3e4f50617', source: 'fingerprint' },
    { name: 'no fingerprint', fingerprint: undefined, source: 'labels' },
    { name: 'an empty fingerprint', fingerprint: '', source: 'labels' },
    { name: 'a blank fingerprint', fingerprint: '   ', source: 'labels' },
    { name: 'a fingerprint longer than a dedup_key', fingerprint: 'f'.repeat(256), source: 'labels' },
    { name: 'a fingerprint of exactly 255 characters', fingerprint: 'f'.repeat(255), source: 'fingerprint' },
    { name: 'a non-string fingerprint', fingerprint: 42, source: 'labels' },
  ])('uses $source for $name', ({ fingerprint, source }) => {
    // Prepare
    const labels = { alertname: 'HighCPU', severity: 'critical', instance: '10.0.0.1:9100' };

    // Act
    const result = alertIdentity({ fingerprint, labels });

    // Assess
    expect(result.identitySource).toBe(source);
    expect(result.identity).toBe(source === 'fingerprint' ? fingerprint : labelSetIdentity(labels));
  });
});

describe('occurrenceKey', () => {
  it.each([
    ['2021-02-22T07:18:15.578Z'],
    ['2021-02-22T07:18:15.578000000Z'],
    ['2021-02-22T15:18:15.578+08:00'],
    ['2021-02-22T07:18:15.578999Z'],
    [1613978295578],
  ])('gives %s the same occurrence as 2021-02-22T07:18:15.578Z', (startsAt) => {
    // Act
    const key = occurrenceKey(startsAt);

    // Assess
    expect(key).toBe('2021-02-22T07:18:15.578Z');
  });

  it('tells different instants apart', () => {
    // Act & Assess
    expect(occurrenceKey('2021-02-22T07:18:15.578Z')).not.toBe(occurrenceKey('2021-02-22T07:18:15.579Z'));
  });

  it.each([[undefined], ['0001-01-01T00:00:00Z'], ['not a time'], [Number.NaN], [0], [-5]])(
    'gives %s the unknown occurrence',
    (startsAt) => {
      // Act & Assess
      expect(occurrenceKey(startsAt)).toBe(UNKNOWN_OCCURRENCE);
    },
  );
});
