import { describe, expect, it } from 'vitest';
import { EventAction, Severity } from '../../../shared/constants';
import { unmatchedResolveChangeEvent } from '../../../shared/delivery/unmatchedResolve';
import { deliveryRecord } from '../../support/deliveryRecords';

const NOW = Date.parse('2026-03-01T12:00:00.000Z');
const STARTED = Date.parse('2026-03-01T11:55:00.000Z');

/** The resolve the bridge would have sent for an occurrence that started at `occurrence`. */
function resolve(occurrence: number, links?: { href: string; text?: string }[]) {
  return deliveryRecord('r1', NOW, {
    action: EventAction.RESOLVE,
    occurrence,
    event: {
      event_action: EventAction.RESOLVE,
      dedup_key: 'identity-r1',
      payload: {
        summary: 'CPU above 90% on web-1',
        source: 'web-1',
        severity: Severity.CRITICAL,
        custom_details: { value: '93' },
      },
      ...(links ? { links } : {}),
    },
  });
}

describe('Function: unmatchedResolveChangeEvent', () => {
  it.each([
    {
      why: 'an occurrence with a start time: said so, with the details the page would have carried',
      record: resolve(STARTED),
      startedAt: '2026-03-01T11:55:00.000Z',
      links: undefined,
    },
    {
      why: 'no start time known (occurrence 0): none invented',
      record: resolve(0),
      startedAt: undefined,
      links: undefined,
    },
    {
      why: 'the links of the event are kept (the on-call can open the alert)',
      record: resolve(STARTED, [{ href: 'https://arms.console.aliyun.com/alert/1', text: 'ARMS alert' }]),
      startedAt: '2026-03-01T11:55:00.000Z',
      links: [{ href: 'https://arms.console.aliyun.com/alert/1', text: 'ARMS alert' }],
    },
  ])('$why', ({ record, startedAt, links }) => {
    // Act
    const event = unmatchedResolveChangeEvent(record, NOW);

    // Assess
    expect(event.payload).toEqual({
      summary: 'Resolved before it was paged: CPU above 90% on web-1',
      source: 'web-1',
      timestamp: '2026-03-01T12:00:00.000Z',
      custom_details: {
        dedup_key: 'identity-r1',
        started_at: startedAt,
        severity: 'critical',
        details: { value: '93' },
      },
    });
    expect(event.links).toEqual(links);
    expect('links' in event).toBe(links !== undefined);
  });
});
