import { describe, expect, it } from 'vitest';
import { KickGate, type KickSkip } from '../../../shared/kick/KickGate';

/** One kick attempt: at this time (ms after the first), from this invocation. */
type Attempt = [atMs: number, requestId: string | undefined];

describe('Class: KickGate', () => {
  describe('Method: admit', () => {
    it.each<[string, Attempt[], (KickSkip | undefined)[]]>([
      ['the first kick of an instance', [[0, 'r1']], [undefined]],
      [
        'a second kick in one invocation',
        [
          [0, 'r1'],
          [20_000, 'r1'],
        ],
        [undefined, 'invocation'],
      ],
      [
        'the next invocation inside the interval',
        [
          [0, 'r1'],
          [14_999, 'r2'],
        ],
        [undefined, 'interval'],
      ],
      [
        'the next invocation once the interval passed',
        [
          [0, 'r1'],
          [15_000, 'r2'],
        ],
        [undefined, undefined],
      ],
      [
        'a skipped kick does not move the interval',
        [
          [0, 'r1'],
          [10_000, 'r2'],
          [15_000, 'r3'],
        ],
        [undefined, 'interval', undefined],
      ],
      [
        'invocations without a request id (local)',
        [
          [0, undefined],
          [0, undefined],
        ],
        [undefined, 'interval'],
      ],
    ])('%s', (_case, attempts, expected) => {
      // Prepare
      let clock = 1_000_000;
      const start = clock;
      const gate = new KickGate({ minIntervalMs: 15_000, now: () => clock });

      // Act
      const answers = attempts.map(([atMs, requestId]) => {
        clock = start + atMs;
        return gate.admit(requestId);
      });

      // Assess
      expect(answers).toEqual(expected);
    });

    it('with no interval, still kicks once per invocation (the health run chains every run)', () => {
      // Prepare
      const gate = new KickGate({ minIntervalMs: 0, now: () => 0 });

      // Act
      const answers = [gate.admit('r1'), gate.admit('r1'), gate.admit('r2')];

      // Assess
      expect(answers).toEqual([undefined, 'invocation', undefined]);
    });
  });
});
