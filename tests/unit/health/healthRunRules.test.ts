import { describe, expect, it } from 'vitest';
import { chainsNextRun, relayBudgetMs, relayRetryDelayMs } from '../../../shared/health/healthRunRules';

const NOW = Date.parse('2026-03-01T12:00:00.000Z');

describe('Function: relayBudgetMs', () => {
  it.each([
    // The default budget (50 s): the report keeps its 10 s.
    [50_000, 40_000],
    // Exactly where the reserve is a third of the budget.
    [30_000, 20_000],
    // A short budget: the report keeps a third, so the relay still has two thirds.
    [9_000, 6_000],
    [3_000, 2_000],
  ])('a run of %i ms relays for %i ms', (budgetMs, expected) => {
    expect(relayBudgetMs(budgetMs)).toBe(expected);
  });
});

describe('Function: chainsNextRun', () => {
  it.each([
    ['nothing left', { more: false }, false],
    ['nothing left, a key paused', { more: false, resumeAt: NOW + 1_000 }, false],
    ['work left, no key paused', { more: true }, true],
    ['work left, a key reopens inside the next run', { more: true, resumeAt: NOW + 39_999 }, true],
    ['work left, a key reopens as the next run ends', { more: true, resumeAt: NOW + 40_000 }, false],
    ['work left, a key shut for minutes (the timer runs it)', { more: true, resumeAt: NOW + 300_000 }, false],
    ['work left, a key already reopened', { more: true, resumeAt: NOW - 1 }, true],
  ])('%s → %s', (_case, relay, expected) => {
    // Act
    const chains = chainsNextRun(relay, NOW, 40_000);

    // Assess
    expect(chains).toBe(expected);
  });
});

describe('Function: relayRetryDelayMs', () => {
  it.each([
    // Three tries again, the wait doubling from 250 ms.
    [1, 40_000, 2_500, 250],
    [2, 40_000, 2_500, 500],
    [3, 40_000, 2_500, 1_000],
    // Then the run stops trying: the report says the store is unreachable.
    [4, 40_000, 2_500, undefined],
    // The wait must leave one send's time of the relay's budget.
    [1, 2_751, 2_500, 250],
    [1, 2_750, 2_500, undefined],
    [3, 3_000, 2_500, undefined],
    // Attempts count from 1.
    [0, 40_000, 2_500, undefined],
  ])('before try %i again, with %i ms left and sends of %i ms: %s', (attempt, leftMs, sendTimeoutMs, expected) => {
    expect(relayRetryDelayMs(attempt, leftMs, sendTimeoutMs)).toBe(expected);
  });
});
