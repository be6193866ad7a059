import { describe, expect, it } from 'vitest';
import { parseTimerEvent } from '../../../shared/fc/timerEvent';

const now = new Date('2026-11-25T10:00:00.000Z');

describe('Function: parseTimerEvent', () => {
  it('reads the FC timer event', () => {
    // Prepare
    const raw = Buffer.from('{"triggerTime":"2019-03-29T06:41:57Z","triggerName":"timer","payload":"{}"}');

    // Act / Assess
    expect(parseTimerEvent(raw, now)).toEqual({
      triggerTime: '2019-03-29T06:41:57Z',
      triggerName: 'timer',
      payload: '{}',
    });
  });

  it.each([
    [Buffer.from(''), { triggerTime: now.toISOString(), triggerName: 'invoke', payload: '' }],
    [Buffer.from('run please'), { triggerTime: now.toISOString(), triggerName: 'invoke', payload: 'run please' }],
    [
      Buffer.from('{"reason":"kick"}'),
      { triggerTime: now.toISOString(), triggerName: 'invoke', payload: '{"reason":"kick"}' },
    ],
    [Buffer.from('42'), { triggerTime: now.toISOString(), triggerName: 'invoke', payload: '' }],
  ])('treats any other payload %s as "run now"', (raw, expected) => {
    expect(parseTimerEvent(raw, now)).toEqual(expected);
  });
});
