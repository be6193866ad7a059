import { describe, expect, it } from 'vitest';
import { DETAILS_REMOVED_MESSAGE, eventByteLength, fitEventSize } from '../../../shared/pagerduty/encode';
import type { PagerDutyEventBody } from '../../../shared/pagerduty/types';

function event(overrides: Partial<PagerDutyEventBody> = {}, details: Record<string, unknown> = {}): PagerDutyEventBody {
  return {
    event_action: 'trigger',
    dedup_key: 'k',
    payload: { summary: 's', source: 'h', severity: 'error', custom_details: details },
    ...overrides,
  };
}

describe('Function: eventByteLength', () => {
  it('counts UTF-8 bytes of the JSON including a 32-character routing key', () => {
    // Prepare
    const body = event({}, { note: '告警' });

    // Act
    const bytes = eventByteLength(body);

    // Assess
    const expected = Buffer.byteLength(JSON.stringify({ routing_key: 'R'.repeat(32), ...body }), 'utf8');
    expect(bytes).toBe(expected);
  });
});

describe('Function: fitEventSize', () => {
  it('returns an event that fits unchanged, with no cuts', () => {
    // Prepare
    const body = event({}, { labels: { a: '1' } });

    // Act
    const result = fitEventSize(body, 10_000);

    // Assess
    expect(result.event).toBe(body);
    expect(result.cuts).toEqual([]);
  });

  it('stops after the first step that is enough', () => {
    // Prepare
    const body = event({}, { labels: { a: '1' }, annotations: { long: 'x'.repeat(5000) } });

    // Act
    const result = fitEventSize(body, 4000);

    // Assess
    expect(result.bytes).toBeLessThanOrEqual(4000);
    expect(result.cuts).toHaveLength(1);
    expect(result.cuts[0]).toMatch(/cut to 1024 code points: custom_details\.annotations\.long \(5000 code points\)/);
  });

  it('names at most five cut paths and counts the rest', () => {
    // Prepare
    const annotations = Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`a${i}`, 'x'.repeat(2000)]));

    // Act
    const result = fitEventSize(event({}, { annotations }), 12_000);

    // Assess
    expect(result.cuts[0]).toContain('custom_details.annotations.a4 (2000 code points) and 3 more');
  });

  it('goes through every step in order until the event fits', () => {
    // Prepare: many medium values (no single long one), links, and a huge source
    const annotations = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`a${i}`, 'x'.repeat(900)]));
    const body = event({
      payload: {
        summary: 's',
        source: 'h'.repeat(50_000),
        severity: 'error',
        custom_details: { labels: { team: 'db' }, annotations },
      },
      links: [{ href: 'https://example.com/a' }],
      images: [{ src: 'https://example.com/i.png' }],
    });

    // Act
    const result = fitEventSize(body, 8_000);

    // Assess
    expect(result.bytes).toBeLessThanOrEqual(8_000);
    expect(result.cuts.map((cut) => cut.replace(/ \(\d+ → \d+ bytes\)$/, ''))).toEqual([
      'event over 8000 bytes: custom_details reduced to labels; removed annotations',
      'event over 8000 bytes: custom_details replaced by an explanation',
      'event over 8000 bytes: removed 1 links and 1 images',
      'event over 8000 bytes: cut to 1024 code points: payload.source (50000 code points)',
    ]);
    expect(result.event.payload.custom_details).toEqual({ error: DETAILS_REMOVED_MESSAGE });
    expect(result.event).not.toHaveProperty('links');
    expect(result.event).not.toHaveProperty('images');
    expect(body.payload.source).toHaveLength(50_000);
  });
});
