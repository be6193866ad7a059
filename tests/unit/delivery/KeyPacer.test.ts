import { describe, expect, it } from 'vitest';
import { Secret } from '../../../shared/config/Secret';
import { KeyPacer } from '../../../shared/delivery/KeyPacer';

describe('Class: KeyPacer', () => {
  it('lets a quarter-minute burst through at once, then spaces sends at the rate', () => {
    // Prepare
    const clock = 0;
    const pacer = new KeyPacer(120, () => clock);

    // Act
    const burst = Array.from({ length: 30 }, () => pacer.reserve('k', 10_000));
    const next = [pacer.reserve('k', 10_000), pacer.reserve('k', 10_000)];

    // Assess
    expect(burst.every((wait) => wait === 0)).toBe(true);
    expect(next).toEqual([500, 1000]);
  });

  it('refills with time, never above the burst', () => {
    // Prepare
    let clock = 0;
    const pacer = new KeyPacer(120, () => clock);
    for (let i = 0; i < 30; i++) pacer.reserve('k', 0);

    // Act
    clock += 60_000;
    const waits = Array.from({ length: 31 }, () => pacer.reserve('k', 0));

    // Assess
    expect(waits.slice(0, 30).every((wait) => wait === 0)).toBe(true);
    expect(waits[30]).toBeUndefined();
  });

  it('reserves nothing when the wait would exceed the budget', () => {
    // Prepare
    const pacer = new KeyPacer(60, () => 0);
    for (let i = 0; i < 15; i++) pacer.reserve('k', 0);

    // Act / Assess
    expect(pacer.reserve('k', 999)).toBeUndefined();
    expect(pacer.reserve('k', 1000)).toBe(1000);
  });

  it('keeps keys apart, and stops a key after a 429 until the next invocation', () => {
    // Prepare
    const pacer = new KeyPacer(120, () => 0);

    // Act
    pacer.block('a');

    // Assess
    expect(pacer.reserve('a', 10_000)).toBeUndefined();
    expect(pacer.reserve('b', 10_000)).toBe(0);
    pacer.startInvocation();
    expect(pacer.reserve('a', 10_000)).toBe(0);
  });

  it('identifies a key by a hash, never by the key', () => {
    const key = new Secret('ABCDEFGHIJKLMNOPQRSTUVWXYZ012345');
    expect(KeyPacer.idOf(key)).toMatch(/^[0-9a-f]{16}$/);
    expect(KeyPacer.idOf(key)).not.toContain('ABCD');
  });
});
