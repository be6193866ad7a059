import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { eventByteLength, fitEvent, fitEventSize, surelyFits } from '../../../shared/pagerduty/encode';
import type { PagerDutyEventBody } from '../../../shared/pagerduty/types';

// Strings over the whole UTF-16 range: control characters (6-byte escapes), non-ASCII, lone surrogates.
const text = fc.string({ unit: 'binary', maxLength: 40 });
const json = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    text,
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(text, tie('value'), { maxKeys: 4 }),
  ),
})).value;
const events = fc.record({
  event_action: fc.constant('trigger' as const),
  dedup_key: text,
  payload: fc.record({
    summary: text,
    source: text,
    severity: fc.constant('error' as const),
    custom_details: fc.dictionary(text, json, { maxKeys: 4 }),
  }),
}) as fc.Arbitrary<PagerDutyEventBody>;

describe('Function: surelyFits', () => {
  it('never says an event fits when its exact size is over the limit', () => {
    fc.assert(
      fc.property(events, fc.integer({ min: 0, max: 4000 }), (event, maxBytes) => {
        if (surelyFits(event, maxBytes)) expect(eventByteLength(event)).toBeLessThanOrEqual(maxBytes);
      }),
      { numRuns: 2000 },
    );
  });

  it('leaves anything that is not plain JSON data to the exact measure', () => {
    const base: PagerDutyEventBody = {
      event_action: 'trigger',
      dedup_key: 'k',
      payload: { summary: 's', source: 'h', severity: 'error' },
    };
    expect(surelyFits(base, 512_000)).toBe(true);
    expect(surelyFits({ ...base, payload: { ...base.payload, custom_details: { at: new Date(0) } } }, 512_000)).toBe(
      false,
    );
    expect(surelyFits({ ...base, payload: { ...base.payload, custom_details: { n: 1n } } }, 512_000)).toBe(false);
  });
});

describe('Function: fitEvent', () => {
  it('gives the same event and cuts as fitEventSize', () => {
    fc.assert(
      fc.property(events, fc.integer({ min: 200, max: 4000 }), (event, maxBytes) => {
        const fitted = fitEventSize(event, maxBytes);
        expect(fitEvent(event, maxBytes)).toEqual({ event: fitted.event, cuts: fitted.cuts });
      }),
      { numRuns: 500 },
    );
  });
});
