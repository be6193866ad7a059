import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../shared/config/config';
import { buildHealthReport } from '../../../shared/health/report';

const config = loadConfig({});
const trigger = { triggerTime: '2026-11-25T10:00:00Z', triggerName: 'timer', payload: '' };
const base = { trigger, relay: undefined, counters: { counts: {}, latest: {} }, config, now: 1_000_000 };

describe('Function: buildHealthReport', () => {
  it('judges the backlog only from the outbox on the timer run (no scan): kept DEAD rows are not seen', () => {
    // Act
    const report = buildHealthReport({ ...base, outbox: { waiting: {} } });

    // Assess
    expect(report).toMatchObject({ verdict: 'healthy', rule: 'ok', storeReachable: true });
  });

  it('sees DEAD rows kept for a redrive when a full scan supplies every state (npm run status -- --scan)', () => {
    // Act
    const report = buildHealthReport({ ...base, outbox: { waiting: {} }, stored: { DELIVERED: 40, DEAD: 2 } });

    // Assess
    expect(report).toMatchObject({ verdict: 'degraded', rule: 'dead-kept' });
  });

  it('says the store is unreachable when it could not be read', () => {
    const report = buildHealthReport({ ...base, outbox: undefined, counters: undefined });
    expect(report).toMatchObject({ verdict: 'failing', rule: 'store-unreachable', storeReachable: false });
  });
});
