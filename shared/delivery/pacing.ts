/**
 * The shared pacing budget of one routing key, as pure functions over the key's stored state. It models PagerDuty's
 * own limiter (reference `pagerduty.md` §1.6: about 120 events per integration key over a sliding 60 s look-back), so
 * a storm's first events go out at once, the rest at the rate, and no 60 s window ever holds more than the limit,
 * whichever instance (webhook or relay) sends.
 *
 * The window is a short list of reservations `[lastAt, count, firstAt]`: a sender takes a block of sends in one
 * compare-and-set of the key's row, and the block leaves the window `PACING_WINDOW_MS` after it was taken. Blocks taken
 * within `PACING_COALESCE_MS` of an entry's first block share that entry, stamped with the latest (a block then leaves
 * the window at most that much late, never early), so the list stays short at any rate.
 *
 * A 429 narrows the key's limit by half and pauses the key for PagerDuty's `Retry-After` (or a second); the limit then
 * grows back linearly to the configured rate over `PACING_RECOVERY_MS`, never above it.
 */
import { PACING_COALESCE_MS, PACING_RECOVERY_MS, PACING_WINDOW_MS, RATE_LIMIT_PAUSE_MS } from '../constants';

/** One window entry: when its last block was taken, how many sends it holds, when its first block was taken. */
type PacingEntry = [number, number, number?];

/** The pacing part of a key's state (`KeyState.data.pacing`). */
interface PacingState {
  /** Reservations still inside the window: `[last epoch ms, sends, first epoch ms]`, oldest first. */
  window: PacingEntry[];
  /** The narrowed limit after a 429 and when it was narrowed; absent at the configured rate. */
  narrowed?: { limit: number; at: number };
  /** No sends before this (a 429's `Retry-After`). */
  pausedUntil?: number;
}

const EMPTY_PACING: PacingState = { window: [] };

/** The limit per window at `now`: the configured one, or the narrowed one growing back to it. */
function limitAt(state: PacingState, ratePerWindow: number, now: number): number {
  if (state.narrowed === undefined) return ratePerWindow;
  const regained = ((now - state.narrowed.at) / PACING_RECOVERY_MS) * ratePerWindow;
  return Math.min(ratePerWindow, Math.floor(state.narrowed.limit + Math.max(0, regained)));
}

/** The reservations still inside the window at `now`. */
function live(state: PacingState, now: number): PacingEntry[] {
  return state.window.filter(([at]) => at + PACING_WINDOW_MS > now);
}

/** Sends the key may make at `now` without breaking the limit. */
function available(state: PacingState, ratePerWindow: number, now: number): number {
  if ((state.pausedUntil ?? 0) > now) return 0;
  const used = live(state, now).reduce((sum, [, count]) => sum + count, 0);
  return Math.max(0, limitAt(state, ratePerWindow, now) - used);
}

/**
 * When the next send may be made (epoch ms): `now` when there is room, else when enough of the window has left it
 * (or the pause ends).
 */
function nextSendAt(state: PacingState, ratePerWindow: number, now: number): number {
  if ((state.pausedUntil ?? 0) > now) return state.pausedUntil as number;
  if (available(state, ratePerWindow, now) > 0) return now;
  const limit = limitAt(state, ratePerWindow, now);
  let used = live(state, now).reduce((sum, [, count]) => sum + count, 0);
  for (const [at, count] of live(state, now)) {
    used -= count;
    if (used < limit) return at + PACING_WINDOW_MS;
  }
  return now + PACING_WINDOW_MS;
}

/** Takes up to `wanted` sends at `now`; returns the next state and how many were granted (possibly 0). */
function take(
  state: PacingState,
  ratePerWindow: number,
  now: number,
  wanted: number,
): { state: PacingState; granted: number } {
  const granted = Math.max(0, Math.min(wanted, available(state, ratePerWindow, now)));
  const window = live(state, now);
  if (granted > 0) {
    const last = window[window.length - 1];
    const lastFirst = last === undefined ? undefined : (last[2] ?? last[0]);
    if (last !== undefined && lastFirst !== undefined && now - lastFirst <= PACING_COALESCE_MS) {
      window[window.length - 1] = [now, last[1] + granted, lastFirst];
    } else window.push([now, granted, now]);
  }
  const narrowed =
    state.narrowed !== undefined && limitAt(state, ratePerWindow, now) < ratePerWindow ? state.narrowed : undefined;
  const pausedUntil = (state.pausedUntil ?? 0) > now ? state.pausedUntil : undefined;
  return { state: { window, ...(narrowed && { narrowed }), ...(pausedUntil && { pausedUntil }) }, granted };
}

/** Gives back sends taken at `takenAt` and not made (the block was cut short). */
function giveBack(state: PacingState, takenAt: number, count: number): PacingState {
  if (count <= 0) return state;
  const window = state.window.map((entry): PacingEntry => [...entry]);
  // The entry holding the block: the one stamped at or after it (coalescing only moves stamps later).
  const entry = window.find(([at]) => at >= takenAt);
  if (entry !== undefined) entry[1] = Math.max(0, entry[1] - count);
  return { ...state, window: window.filter(([, sends]) => sends > 0) };
}

/** PagerDuty answered 429: halve the limit, pause for its `Retry-After` (at least `RATE_LIMIT_PAUSE_MS`). */
function narrow(state: PacingState, ratePerWindow: number, now: number, retryAfterMs = 0): PacingState {
  const limit = Math.max(1, Math.floor(limitAt(state, ratePerWindow, now) / 2));
  const pausedUntil = Math.max(state.pausedUntil ?? 0, now + Math.max(RATE_LIMIT_PAUSE_MS, retryAfterMs));
  return { window: live(state, now), narrowed: { limit, at: now }, pausedUntil };
}

export type { PacingState };
export { available, EMPTY_PACING, giveBack, limitAt, narrow, nextSendAt, take };
