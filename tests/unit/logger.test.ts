import { describe, expect, it } from 'vitest';
import { Secret } from '../../shared/config/Secret';
import { Logger } from '../../shared/logger';

const KEY = 'R0UTINGKEY0000000000000000000001';

/** A logger that keeps its lines, with `KEY` registered as a secret. */
function keptLogger() {
  const lines: string[] = [];
  const logger = new Logger({ service: 'alert-webhook', sink: (line) => lines.push(line) });
  logger.addSecrets([new Secret(KEY)]);
  return { logger, lines };
}

describe('Class: Logger', () => {
  describe('Method: info', () => {
    it.each<[string, string, Record<string, unknown> | undefined]>([
      ['the message', `sent with ${KEY}`, undefined],
      ['an extra field', 'sent', { note: `key ${KEY}` }],
      ['an error quoting it, cause included', 'failed', { error: new Error('outer', { cause: new Error(KEY) }) }],
    ])('scrubs a secret quoted in %s', (_case, message, extra) => {
      // Prepare
      const { logger, lines } = keptLogger();

      // Act
      logger.info(message, extra);

      // Assess
      expect(lines).toHaveLength(1);
      expect(lines[0]).not.toContain(KEY);
      expect(lines[0]).toContain('<secret>');
    });

    it('writes the data after the other fields, as one JSON object', () => {
      // Prepare
      const { logger, lines } = keptLogger();
      logger.appendKeys({ requestId: 'req-1' });
      const events = [{ deliveryKey: 'k1', event: { dedup_key: 'd1', payload: { summary: '内存' } } }];

      // Act
      logger.info('dry-run: events stored, not sent', { count: 1 }, { events });

      // Assess
      const line = JSON.parse(lines[0] as string);
      expect(Object.keys(line)).toEqual(['level', 'time', 'service', 'message', 'requestId', 'count', 'events']);
      expect(line.events).toEqual(events);
    });

    it.each<[string, Record<string, unknown> | undefined, Record<string, unknown>]>([
      ['events after fields', { count: 1 }, { events: [{ dedup_key: 'd1', summary: '内存 "q"' }] }],
      ['no extra fields', undefined, { deliveryKeys: ['k1', 'k2'] }],
      ['empty data', { count: 1 }, {}],
      ['data holding only undefined', { count: 1 }, { events: undefined }],
      ['a data key repeating a field (the data wins, in the field’s place)', { count: 1 }, { count: 2, message: 'm' }],
      ['a field left out as undefined that the data sets', { events: undefined }, { events: [1] }],
    ])('writes the text of its fields and data merged in one object: %s', (_case, extra, data) => {
      // Prepare
      const { logger, lines } = keptLogger();
      logger.appendKeys({ requestId: 'req-1' });

      // Act
      logger.info('dry-run: events stored, not sent', extra, data);

      // Assess: the line is what serializing the merged entry makes, byte for byte.
      const { time } = JSON.parse(lines[0] as string);
      const merged = {
        level: 'INFO',
        time,
        service: 'alert-webhook',
        message: 'dry-run: events stored, not sent',
        requestId: 'req-1',
        ...extra,
        ...data,
      };
      expect(lines[0]).toBe(JSON.stringify(merged));
    });

    it.each<[string, Record<string, unknown> | undefined]>([
      ['alone (a callback quoting the integration key in an annotation)', undefined],
      ['beside an error quoting it too', { error: new Error(`bad key ${KEY}`) }],
    ])('scrubs a secret in the data: %s', (_case, extra) => {
      // Prepare
      const { logger, lines } = keptLogger();

      // Act
      logger.warn('dry-run: events stored, not sent', extra, { events: [{ summary: `contact ${KEY}` }] });

      // Assess
      expect(lines[0]).not.toContain(KEY);
      expect(JSON.parse(lines[0] as string).events).toEqual([{ summary: 'contact <secret>' }]);
    });

    it('writes a line without data exactly as its fields serialize', () => {
      // Prepare
      const { logger, lines } = keptLogger();

      // Act
      logger.info('callback accepted', { received: 2, failures: {} });

      // Assess
      const line = JSON.parse(lines[0] as string);
      expect(line).toMatchObject({
        level: 'INFO',
        service: 'alert-webhook',
        message: 'callback accepted',
        received: 2,
      });
      expect(lines[0]).toBe(JSON.stringify({ ...line }));
    });

    it('writes nothing below its level, data or not', () => {
      // Prepare
      const { logger, lines } = keptLogger();

      // Act
      logger.debug('delivered', undefined, { events: [1] });

      // Assess
      expect(lines).toEqual([]);
    });
  });

  describe('Method: useRotatingSecrets', () => {
    it('scrubs the last four credential sets it was handed, and the configured secrets always', () => {
      // Prepare: six rotations of FC's credential set, each handed on several invocations.
      const { logger, lines } = keptLogger();
      const sets = Array.from({ length: 6 }, (_, index) => [`STS.AKID000000${index}`, `sk-secret-000000${index}`]);

      // Act
      for (const set of sets) {
        for (let invocation = 0; invocation < 3; invocation++) {
          logger.useRotatingSecrets(set.map((value) => new Secret(value)));
        }
      }
      for (const set of sets) logger.info('quoting', { values: set });
      logger.info('quoting the configured key', { value: KEY });

      // Assess: sets 3 to 6 and the configured key scrubbed; sets 1 and 2 are past the bound.
      const scrubbed = lines.map((line) => !sets.flat().some((value) => line.includes(value)));
      expect(scrubbed).toEqual([false, false, true, true, true, true, true]);
      expect(lines.at(-1)).not.toContain(KEY);
    });
  });
});
