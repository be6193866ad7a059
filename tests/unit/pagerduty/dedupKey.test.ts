import { describe, expect, it } from 'vitest';
import { alertDedupKey, groupDedupKey, sha256Hex } from '../../../shared/pagerduty/dedupKey';

describe('Function: alertDedupKey', () => {
  it.each([
    { case: 'a fingerprint', identity: 'bec72890cc2c7b4a027e008df0cd1013', hashed: false },
    { case: 'exactly 255 characters', identity: 'k'.repeat(255), hashed: false },
    { case: '256 characters', identity: 'k'.repeat(256), hashed: true },
    { case: 'empty', identity: '', hashed: true },
  ])('$case → hashed: $hashed', ({ identity, hashed }) => {
    // Act
    const result = alertDedupKey(identity);

    // Assess
    expect(result.hashed).toBe(hashed);
    expect(result.key).toBe(hashed ? `sha256:${sha256Hex(identity)}` : identity);
    expect(result.key.length).toBeLessThanOrEqual(255);
  });
});

describe('Function: groupDedupKey', () => {
  it('is pinned: changing the canonical form orphans open incidents, so it must bump the version', () => {
    // Act
    const key = groupDedupKey({ receiver: 'ops', groupLabels: { b: '2', a: '1' } }, 'db');

    // Assess
    expect(key).toBe(`group:v1:${sha256Hex('["pagerduty-group","db","ops",[["a","1"],["b","2"]]]')}`);
  });

  it('ignores label order and cannot be forged by separators inside values', () => {
    // Act
    const ordered = groupDedupKey({ groupLabels: { a: '1', b: '2' } }, 'r');
    const reordered = groupDedupKey({ groupLabels: { b: '2', a: '1' } }, 'r');
    const forged = groupDedupKey({ groupLabels: { a: '1","b","2' } }, 'r');

    // Assess
    expect(reordered).toBe(ordered);
    expect(forged).not.toBe(ordered);
  });
});
