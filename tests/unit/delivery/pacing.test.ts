import { describe, expect, it } from 'vitest';
import { PACING_RECOVERY_MS, PACING_WINDOW_MS, RATE_LIMIT_PAUSE_MS } from '../../../shared/constants';
import {
  available,
  EMPTY_PACING,
  giveBack,
  limitAt,
  narrow,
  nextSendAt,
  type PacingState,
  take,
} from '../../../shared/delivery/pacing';

const RATE = 120;
const T0 = 1_000_000;

describe('Function: take', () => {
  it.each([
    { case: 'an empty window grants the whole limit at once', state: EMPTY_PACING, wanted: 500, granted: 120 },
    { case: 'a small ask is granted whole', state: EMPTY_PACING, wanted: 3, granted: 3 },
    { case: 'a full window grants nothing', state: { window: [[T0, 120]] } as PacingState, wanted: 1, granted: 0 },
    {
      case: 'a part-full window grants the rest',
      state: { window: [[T0, 100]] } as PacingState,
      wanted: 50,
      granted: 20,
    },
    {
      case: 'entries older than the window no longer count',
      state: { window: [[T0 - PACING_WINDOW_MS, 120]] } as PacingState,
      wanted: 50,
      granted: 50,
    },
    {
      case: 'a paused key grants nothing',
      state: { window: [], pausedUntil: T0 + 1 } as PacingState,
      wanted: 1,
      granted: 0,
    },
  ])('$case', ({ state, wanted, granted }) => {
    // Act
    const result = take(state, RATE, T0, wanted);

    // Assess
    expect(result.granted).toBe(granted);
    expect(available(result.state, RATE, T0)).toBe(available(state, RATE, T0) - granted);
  });

  it('never lets any window of PACING_WINDOW_MS hold more than the limit, however the asks come', () => {
    // Prepare: asks of every size at uneven times over ten minutes.
    let state: PacingState = EMPTY_PACING;
    const sends: number[] = [];

    // Act
    for (let step = 0; step < 3_000; step++) {
      const now = T0 + step * 211;
      const result = take(state, RATE, now, (step * 7) % 40);
      state = result.state;
      for (let i = 0; i < result.granted; i++) sends.push(now);
    }

    // Assess: sliding over every send, the ones within one window never exceed the limit.
    let start = 0;
    for (let end = 0; end < sends.length; end++) {
      while ((sends[end] as number) - (sends[start] as number) >= PACING_WINDOW_MS) start++;
      expect(end - start + 1).toBeLessThanOrEqual(RATE);
    }
    // And the rate is used: about RATE per window over ten minutes.
    expect(sends.length).toBeGreaterThan(RATE * Math.floor((3_000 * 211) / PACING_WINDOW_MS));
  });

  it('keeps the window short: asks close together share one entry, stamped with the latest', () => {
    // Act
    let state: PacingState = EMPTY_PACING;
    for (let i = 0; i < 100; i++) state = take(state, 100_000, T0 + i * 10, 1).state;

    // Assess
    expect(state.window).toEqual([[T0 + 990, 100, T0]]);
  });

  it('never chains a steady stream of blocks into one entry: an entry spans at most PACING_COALESCE_MS', () => {
    // Act: a block every 500 ms for 10 s.
    let state: PacingState = EMPTY_PACING;
    for (let i = 0; i <= 20; i++) state = take(state, 100_000, T0 + i * 500, 1).state;

    // Assess: each entry's first and last block at most a second apart, so the first sends leave the window in time.
    expect(state.window.length).toBeGreaterThanOrEqual(7);
    for (const [last, , first] of state.window) expect(last - (first ?? last)).toBeLessThanOrEqual(1_000);
  });
});

describe('Function: nextSendAt', () => {
  it.each([
    { case: 'room now', state: { window: [[T0, 10]] } as PacingState, at: T0 },
    {
      case: 'full: when the oldest block leaves',
      state: {
        window: [
          [T0 - 5_000, 60],
          [T0, 60],
        ],
      } as PacingState,
      at: T0 - 5_000 + PACING_WINDOW_MS,
    },
    {
      case: 'paused: when the pause ends',
      state: { window: [], pausedUntil: T0 + 3_000 } as PacingState,
      at: T0 + 3_000,
    },
  ])('$case', ({ state, at }) => {
    expect(nextSendAt(state, RATE, T0)).toBe(at);
  });
});

describe('Function: narrow', () => {
  it('halves the limit, pauses for Retry-After, and grows back to the configured rate, never above', () => {
    // Act
    const narrowed = narrow(EMPTY_PACING, RATE, T0, 5_000);

    // Assess
    expect(narrowed.pausedUntil).toBe(T0 + 5_000);
    expect(limitAt(narrowed, RATE, T0)).toBe(60);
    expect(limitAt(narrowed, RATE, T0 + PACING_RECOVERY_MS / 4)).toBe(90);
    expect(limitAt(narrowed, RATE, T0 + PACING_RECOVERY_MS * 3)).toBe(RATE);
    expect(available(narrowed, RATE, T0 + 4_999)).toBe(0);
  });

  it('pauses at least RATE_LIMIT_PAUSE_MS without Retry-After, and narrows again on a second 429', () => {
    // Act
    const once = narrow(EMPTY_PACING, RATE, T0);
    const twice = narrow(once, RATE, T0 + 10);

    // Assess
    expect(once.pausedUntil).toBe(T0 + RATE_LIMIT_PAUSE_MS);
    expect(limitAt(twice, RATE, T0 + 10)).toBe(30);
  });
});

describe('Function: giveBack', () => {
  it('returns unused sends of a block to the window', () => {
    // Prepare
    const { state } = take(EMPTY_PACING, RATE, T0, 100);

    // Act
    const back = giveBack(state, T0, 40);

    // Assess
    expect(available(back, RATE, T0)).toBe(60);
  });
});
