import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type CallbackReading, type IntakeLimits, readCallback } from '../../../shared/alerts/readCallback';
import { PayloadInvalidError } from '../../../shared/errors';
import { DEFAULT_LIMITS, fixtureBytes, fixtureJson } from './fixtures';

const ARMS_CONTENT_TYPE = 'text/plain; charset=UTF-8';

/** The error `readCallback` throws, or a failure when it does not throw. */
function readError(
  body: Buffer | string,
  limits: IntakeLimits = DEFAULT_LIMITS,
  contentType?: string,
  as: 'bytes' | 'text' = 'bytes',
): PayloadInvalidError {
  try {
    readCallback(typeof body === 'string' && as === 'bytes' ? Buffer.from(body) : body, contentType, limits);
  } catch (error) {
    if (error instanceof PayloadInvalidError) return error;
    throw error;
  }
  throw new Error('readCallback did not throw');
}

/** The group of a reading that must be a callback. */
function groupOf(reading: CallbackReading) {
  if (reading.kind !== 'callback') throw new Error(`expected a callback, got ${reading.kind}`);
  return reading.group;
}

/** A valid alert with a distinct fingerprint. */
const alertNo = (i: number) => ({ status: 'firing', labels: { alertname: 'A', i: String(i) }, fingerprint: `fp-${i}` });

describe('readCallback', () => {
  describe('real callbacks', () => {
    it('reads the verbatim ARMS sample sent with the ARMS default Content-Type', () => {
      // Act
      const reading = readCallback(fixtureBytes('arms/sample.json'), ARMS_CONTENT_TYPE, DEFAULT_LIMITS);

      // Assess
      const group = groupOf(reading);
      expect(group.format).toBe('arms');
      expect(group.rejected).toEqual([]);
      expect(group.alerts).toHaveLength(1);
      expect(group.alerts[0]).toMatchObject({
        identity: 'bec72890cc2c7b4a027e008df0cd1013',
        status: 'firing',
        severity: 'warning',
        source: '10.0.80.186:10255',
        summary:
          '报警：命名空间: arms-prom / Pod: kube-state-metrics-ccb59dbff-jljg4 / 容器: kube-state-metrics 内存使用率超>过80%, 当前值15.52%',
      });
    });

    it('reads the resolved ARMS callback', () => {
      // Act
      const group = groupOf(readCallback(fixtureBytes('arms/resolved.json'), ARMS_CONTENT_TYPE, DEFAULT_LIMITS));

      // Assess
      expect(group.alerts.map(({ identity, status }) => ({ identity, status }))).toEqual([
        { identity: 'bec72890cc2c7b4a027e008df0cd1013', status: 'resolved' },
      ]);
    });

    it('forwards the valid alerts of a callback and lists each invalid one with its index and reason', () => {
      // Act
      const group = groupOf(
        readCallback(fixtureBytes('arms/multi-alert-with-invalid.json'), 'application/json', DEFAULT_LIMITS),
      );

      // Assess
      expect(
        group.alerts.map(({ identity, status, summary, severity }) => ({ identity, status, summary, severity })),
      ).toEqual([
        {
          identity: '3f5c1d2e8a9b4c7d6e5f4a3b2c1d0e9f',
          status: 'firing',
          summary: '支付服务 Pod pay-api-7d9f8-abcde 在 10 分钟内重启超过 3 次',
          severity: 'critical',
        },
        {
          identity: 'v1:0c476b4a0d11848382141072e63593f0f58ead86161f644ceb1e61a8e21cbc17',
          status: 'resolved',
          summary: '内存使用率恢复正常',
          severity: 'warning',
        },
      ]);
      expect(group.rejected).toEqual([
        { index: 1, reason: 'labels.severity must be a string (got a number)' },
        { index: 3, reason: 'labels is required' },
        { index: 4, reason: 'status must be "firing" or "resolved" (got "FIRING")' },
      ]);
    });

    it('renders placeholders in the summary of a real callback (not a console test)', () => {
      // Act
      const group = groupOf(readCallback(fixtureBytes('arms/placeholders.json'), ARMS_CONTENT_TYPE, DEFAULT_LIMITS));

      // Assess
      expect(group.alerts[0]?.summary).toBe('Pod web-1 in prod restarted 3.1 times (node node-a, team )');
    });

    it('reads a native Alertmanager v4 webhook with truncatedAlerts', () => {
      // Act
      const group = groupOf(
        readCallback(fixtureBytes('alertmanager/v4-truncated.json'), 'application/json', DEFAULT_LIMITS),
      );

      // Assess
      expect(group).toMatchObject({ format: 'alertmanager', version: '4', truncatedAlerts: 2 });
      expect(group.alerts.map((alert) => alert.identity)).toEqual(['c4a1b2d3e4f50617', 'd5b2c3e4f5061728']);
    });

    it('reads a native Alertmanager v4 resolved webhook', () => {
      // Act
      const group = groupOf(readCallback(fixtureBytes('alertmanager/v4-resolved.json'), undefined, DEFAULT_LIMITS));

      // Assess
      expect(group.alerts.map(({ identity, status }) => ({ identity, status }))).toEqual([
        { identity: 'c4a1b2d3e4f50617', status: 'resolved' },
      ]);
    });

    it('treats a callback that mentions $content in an annotation as a real callback', () => {
      // Prepare
      const body = JSON.stringify({
        alerts: [{ status: 'firing', labels: { alertname: 'A' }, annotations: { summary: 'template uses $content' } }],
      });

      // Act
      const reading = readCallback(Buffer.from(body), undefined, DEFAULT_LIMITS);

      // Assess
      expect(groupOf(reading).alerts[0]?.summary).toBe('template uses $content');
    });

    it.each([
      [
        'a UTF-8 BOM',
        Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), fixtureBytes('arms/sample.json')]),
        ARMS_CONTENT_TYPE,
      ],
      [
        'UTF-16LE with a BOM',
        Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(fixtureBytes('arms/sample.json').toString(), 'utf16le')]),
        ARMS_CONTENT_TYPE,
      ],
      [
        'declared UTF-16LE',
        Buffer.from(fixtureBytes('arms/sample.json').toString(), 'utf16le'),
        'application/json; charset=utf-16le',
      ],
      ['no Content-Type', fixtureBytes('arms/sample.json'), undefined],
      ['a quoted charset', fixtureBytes('arms/sample.json'), 'application/json; charset="utf-8"'],
    ])('reads the sample with %s', (_name, body, contentType) => {
      // Act
      const group = groupOf(readCallback(body, contentType, DEFAULT_LIMITS));

      // Assess
      expect(group.alerts[0]?.labels.alertname).toBe('容器内存使用率大于80%');
    });

    it('reads a 1,000-alert group, mixed firing and resolved, in order', () => {
      // Prepare
      const alerts = Array.from({ length: 1_000 }, (_, i) => ({
        ...alertNo(i),
        status: i % 2 === 0 ? 'firing' : 'resolved',
      }));

      // Act
      const group = groupOf(readCallback(Buffer.from(JSON.stringify({ alerts })), undefined, DEFAULT_LIMITS));

      // Assess
      expect(group.alerts).toHaveLength(1_000);
      expect(group.alerts[999]).toMatchObject({ identity: 'fp-999', status: 'resolved' });
      expect(group.alerts.filter((alert) => alert.status === 'firing')).toHaveLength(500);
    });
  });

  describe('ARMS console test', () => {
    it.each([
      ['the literal $alertmanager_content', 'arms/console-test-literal.txt', '$alertmanager_content'],
      ['$content inside JSON', 'arms/console-test-content.txt', '$content'],
      ['the unrendered preset template', 'arms/console-test-preset-template.txt', 'preset webhook template'],
    ])('recognises %s and forwards nothing', (_name, path, mention) => {
      // Act
      const reading = readCallback(fixtureBytes(path), ARMS_CONTENT_TYPE, DEFAULT_LIMITS);

      // Assess
      expect(reading.kind).toBe('console-test');
      expect(reading.kind === 'console-test' && reading.detail).toContain(mention);
      expect(reading.kind === 'console-test' && reading.detail).toContain('nothing was forwarded');
    });
  });

  describe('bad input', () => {
    it.each([
      ['an empty body', '', 400, 'empty_body', 'body is empty: expected an ARMS or Alertmanager callback (JSON)'],
      [
        'whitespace only',
        ' \r\n\t',
        400,
        'empty_body',
        'body is empty: expected an ARMS or Alertmanager callback (JSON)',
      ],
      ['a BOM only', '\uFEFF', 400, 'empty_body', 'body is empty: expected an ARMS or Alertmanager callback (JSON)'],
      [
        'a truncated callback',
        '{"alerts":[{"status":"firing","labels":{"alertname":"A"',
        400,
        'malformed_json',
        "body is not valid JSON at line 1, column 56 (position 55): Expected ',' or '}' after property value (the body ends early: truncated?)",
      ],
      [
        'a truncated real callback mentioning $content (never taken for the console test)',
        '{"alerts":[{"status":"firing","fingerprint":"f1","annotations":{"summary":"uses $content"',
        400,
        'malformed_json',
        "body is not valid JSON at line 1, column 90 (position 89): Expected ',' or '}' after property value (the body ends early: truncated?)",
      ],
      ['plain text', 'hello', 400, 'malformed_json', "body is not valid JSON: Unexpected token 'h'"],
      [
        'a rendered preset template missing alerts',
        '{"Alert name":"HighCPU","Notification Policy":"default"}',
        422,
        'invalid_callback',
        "alerts is required: this is ARMS's human-readable webhook template; set the webhook body to $alertmanager_content",
      ],
      [
        'an array',
        '[{"status":"firing"}]',
        422,
        'invalid_callback',
        'body must be a JSON object with an alerts array, got an array',
      ],
      [
        'a string',
        '"alerts"',
        422,
        'invalid_callback',
        'body must be a JSON object with an alerts array, got a string',
      ],
      ['null', 'null', 422, 'invalid_callback', 'body must be a JSON object with an alerts array, got null'],
      ['a number', '42', 422, 'invalid_callback', 'body must be a JSON object with an alerts array, got a number'],
      ['an object without alerts', '{"status":"firing"}', 422, 'invalid_callback', 'alerts is required'],
      [
        'alerts not an array',
        '{"alerts":{"0":{}}}',
        422,
        'invalid_callback',
        'alerts must be an array (got an object)',
      ],
      ['alerts a string', '{"alerts":"[]"}', 422, 'invalid_callback', 'alerts must be an array (got a string)'],
      [
        'a wrong truncatedAlerts',
        '{"alerts":[{"status":"firing","labels":{"a":"b"}}],"truncatedAlerts":"2"}',
        422,
        'invalid_callback',
        'truncatedAlerts must be an integer (got a string)',
      ],
      [
        'no alert at all',
        '{"alerts":[]}',
        422,
        'no_valid_alerts',
        'alerts is empty: the callback has no alert to forward',
      ],
      [
        'a single invalid alert',
        '{"alerts":[{"status":"firing"}]}',
        422,
        'no_valid_alerts',
        "the callback's only alert is invalid: alerts[0]: labels is required",
      ],
      [
        'only invalid alerts',
        '{"alerts":[1,{"status":"x","labels":{"a":"b"}},{"labels":{"a":1},"status":"firing"},null]}',
        422,
        'no_valid_alerts',
        'none of the 4 alerts is valid: alerts[0]: alert must be an object (got a number); alerts[1]: status must be "firing" or "resolved" (got "x"); alerts[2]: labels.a must be a string (got a number); and 1 more',
      ],
    ])('refuses %s', (_name, body, statusCode, code, message) => {
      // Act
      const error = readError(body);

      // Assess
      expect({ statusCode: error.statusCode, code: error.code, message: error.message }).toEqual({
        statusCode,
        code,
        message,
      });
    });

    it('lists every rejected alert in the details of no_valid_alerts', () => {
      // Act
      const error = readError('{"alerts":[{"status":"firing"},{"status":"firing","labels":{}}]}');

      // Assess
      expect(error.details).toEqual([
        { index: 0, reason: 'labels is required' },
        { index: 1, reason: 'labels must not be empty' },
      ]);
    });

    it('checks the size on the bytes before decoding anything', () => {
      // Prepare: over the limit and not even valid UTF-8 or JSON
      const body = Buffer.alloc(1025, 0xff);

      // Act
      const error = readError(body, { ...DEFAULT_LIMITS, maxBodyBytes: 1024 });

      // Assess
      expect(error).toMatchObject({
        statusCode: 413,
        code: 'payload_too_large',
        message: 'body is 1,025 bytes, over the limit of 1,024 bytes',
      });
    });

    it('accepts a body of exactly the size limit', () => {
      // Prepare
      const body = fixtureBytes('arms/sample.json');

      // Act
      const reading = readCallback(body, undefined, { ...DEFAULT_LIMITS, maxBodyBytes: body.length });

      // Assess
      expect(reading.kind).toBe('callback');
    });

    it('counts the size of a text body in its UTF-8 bytes, as FC received them', () => {
      // Prepare: 348 UTF-16 units, 1,028 UTF-8 bytes
      const body = `{"a":"${'数'.repeat(340)}"}`;

      // Act
      const error = readError(body, { ...DEFAULT_LIMITS, maxBodyBytes: 1024 }, undefined, 'text');

      // Assess
      expect(error).toMatchObject({ statusCode: 413, message: 'body is 1,028 bytes, over the limit of 1,024 bytes' });
    });

    it.each([
      ['arms/sample.json', ARMS_CONTENT_TYPE],
      ['arms/multi-alert-with-invalid.json', 'application/json'],
      ['arms/placeholders.json', undefined],
      ['alertmanager/v4-truncated.json', 'application/json'],
    ])('reads %s the same from FC text as from its bytes', (path, contentType) => {
      // Prepare
      const bytes = fixtureBytes(path);

      // Act
      const fromText = readCallback(bytes.toString('utf8'), contentType, DEFAULT_LIMITS);

      // Assess
      expect(fromText).toEqual(readCallback(bytes, contentType, DEFAULT_LIMITS));
    });

    it('refuses more alerts than the limit with 413 too_many_alerts', () => {
      // Prepare
      const body = JSON.stringify({ alerts: Array.from({ length: 11 }, (_, i) => alertNo(i)) });

      // Act
      const error = readError(body, { ...DEFAULT_LIMITS, maxAlerts: 10 });

      // Assess
      expect(error).toMatchObject({
        statusCode: 413,
        code: 'too_many_alerts',
        message: 'callback has 11 alerts, more than the limit of 10 per callback',
      });
    });

    it('accepts exactly the alert limit', () => {
      // Prepare
      const body = JSON.stringify({ alerts: Array.from({ length: 10 }, (_, i) => alertNo(i)) });

      // Act
      const group = groupOf(readCallback(Buffer.from(body), undefined, { ...DEFAULT_LIMITS, maxAlerts: 10 }));

      // Assess
      expect(group.alerts).toHaveLength(10);
    });

    it.each([
      ['deep arrays', `{"alerts":${'['.repeat(40)}${']'.repeat(40)}}`, 'at line 1, column 42'],
      [
        'deep objects inside an alert',
        `{"alerts":[{"status":"firing","labels":{"a":"b"},"x":${'{"y":'.repeat(40)}1${'}'.repeat(40)}}]}`,
        '',
      ],
      ['a 1 MB unterminated nesting', '['.repeat(1_000_000), 'at line 1, column 33'],
    ])('refuses %s with 413 json_too_deep before parsing', (_name, body, where) => {
      // Act
      const error = readError(body);

      // Assess
      expect(error).toMatchObject({ statusCode: 413, code: 'json_too_deep' });
      expect(error.message).toMatch(
        /^body is nested more than 32 levels deep \(at line 1, column \d+\); an ARMS or Alertmanager callback is 4 levels deep$/,
      );
      expect(error.message).toContain(where);
    });

    it.each([
      ['32 levels, the innermost empty', `${'['.repeat(31)}{}${']'.repeat(31)}`, 422],
      ['33 levels, the innermost empty', `${'['.repeat(32)}{}${']'.repeat(32)}`, 413],
      ['32 levels of objects', `${'{"a":'.repeat(32)}1${'}'.repeat(32)}`, 422],
      ['33 levels of objects', `${'{"a":'.repeat(33)}1${'}'.repeat(33)}`, 413],
      [
        'a callback 32 levels deep',
        `{"alerts":[{"status":"firing","labels":{"a":"b"},"x":${'['.repeat(29)}${']'.repeat(29)}}]}`,
        200,
      ],
      [
        'a callback 33 levels deep',
        `{"alerts":[{"status":"firing","labels":{"a":"b"},"x":${'['.repeat(30)}${']'.repeat(30)}}]}`,
        413,
      ],
    ])('counts %s as the scan does (parsed first)', (_name, body, status) => {
      // Act
      let answer = 200;
      try {
        readCallback(Buffer.from(body), undefined, DEFAULT_LIMITS);
      } catch (error) {
        answer = (error as PayloadInvalidError).statusCode;
      }

      // Assess
      expect(answer).toBe(status);
    });

    it('scans before parsing a body with more brackets than it parses first, and still accepts a valid one', () => {
      // Prepare: 260,000 brackets inside strings; then 1 MB of closed nesting, never built by the parser
      const brackets = '[{'.repeat(65_000);
      const valid = JSON.stringify({
        alerts: [{ ...alertNo(1), annotations: { summary: brackets, message: brackets } }],
      });
      const deep = `${'['.repeat(500_000)}${']'.repeat(500_000)}`;

      // Act
      const group = groupOf(readCallback(Buffer.from(valid), undefined, DEFAULT_LIMITS));
      const error = readError(deep);

      // Assess
      expect(group.alerts).toHaveLength(1);
      expect(error).toMatchObject({ statusCode: 413, code: 'json_too_deep', details: { position: 32 } });
    });

    it('answers json_too_deep before looking for the console test', () => {
      // Act
      const error = readError(`${'['.repeat(40)}"$alertmanager_content"`);

      // Assess
      expect(error).toMatchObject({ statusCode: 413, code: 'json_too_deep' });
    });

    it('refuses an unknown charset with 415', () => {
      // Act
      const error = readError(fixtureBytes('arms/sample.json'), DEFAULT_LIMITS, 'text/plain; charset=x-unknown');

      // Assess
      expect(error).toMatchObject({ statusCode: 415, code: 'unsupported_charset' });
      expect(error.message).toBe(
        'charset "x-unknown" of the Content-Type is not supported: send the body as UTF-8 (ARMS\'s default), UTF-16 or GB18030',
      );
    });

    it('applies a smaller depth limit to a real callback', () => {
      // Act
      const error = readError(fixtureBytes('arms/sample.json'), { ...DEFAULT_LIMITS, maxJsonDepth: 3 });

      // Assess
      expect(error).toMatchObject({ statusCode: 413, code: 'json_too_deep' });
    });
  });

  describe('fuzzing: only a reading or a 4xx PayloadInvalidError comes out', () => {
    const limits: IntakeLimits = { maxBodyBytes: 4_096, maxAlerts: 20, maxJsonDepth: 8 };

    /** Reads and checks the outcome; returns the reading when there was one. */
    function readSafely(body: Buffer, contentType?: string): CallbackReading | undefined {
      try {
        const reading = readCallback(body, contentType, limits);
        if (reading.kind === 'callback') {
          expect(reading.group.alerts.length).toBeGreaterThan(0);
          for (const alert of reading.group.alerts) {
            expect(alert.identity.length).toBeGreaterThan(0);
            expect(alert.identity.length).toBeLessThanOrEqual(255);
            expect(alert.source.trim()).not.toBe('');
            expect(alert.summary.trim()).not.toBe('');
            expect(['firing', 'resolved']).toContain(alert.status);
          }
        }
        return reading;
      } catch (error) {
        expect(error).toBeInstanceOf(PayloadInvalidError);
        expect((error as PayloadInvalidError).statusCode).toBeLessThan(500);
        expect((error as PayloadInvalidError).message.length).toBeLessThan(2_000);
        return undefined;
      }
    }

    const label = fc.oneof(
      fc.string(),
      fc.constantFrom('severity', 'alertname', 'instance', '__proto__', 'constructor', ''),
    );
    const anyValue = fc.oneof(
      fc.string(),
      fc.integer(),
      fc.constant(null),
      fc.boolean(),
      fc.array(fc.string(), { maxLength: 2 }),
    );
    const alert = fc.record(
      {
        status: fc.oneof(fc.constantFrom('firing', 'resolved'), anyValue),
        labels: fc.oneof(fc.dictionary(label, fc.oneof(fc.string(), anyValue), { maxKeys: 5 }), anyValue),
        annotations: fc.dictionary(
          fc.constantFrom('summary', 'message', 'value', 'runbook_url'),
          fc.oneof(fc.string(), fc.constant('{{ printf "%.2f" $value }}'), anyValue),
        ),
        startsAt: fc.oneof(
          fc.constantFrom('2021-02-22T07:18:15.578000000Z', '0001-01-01T00:00:00Z'),
          fc.string(),
          anyValue,
        ),
        endsAt: fc.oneof(fc.constantFrom('2021-02-22T07:27:15.404000000Z'), anyValue),
        fingerprint: fc.oneof(fc.string(), anyValue),
        generatorURL: fc.oneof(fc.webUrl(), fc.string()),
      },
      { requiredKeys: [] },
    );
    const callback = fc.record(
      {
        alerts: fc.oneof(fc.array(fc.oneof(alert, anyValue), { maxLength: 25 }), anyValue),
        version: fc.oneof(fc.constant('4'), anyValue),
        groupKey: fc.oneof(fc.string(), anyValue),
        truncatedAlerts: fc.oneof(fc.nat(), anyValue),
        externalURL: fc.oneof(fc.webUrl(), fc.string(), anyValue),
        commonLabels: fc.oneof(fc.dictionary(fc.string(), fc.string()), anyValue),
      },
      { requiredKeys: [] },
    );

    it('for random bytes', () => {
      fc.assert(
        fc.property(
          fc.uint8Array({ maxLength: 5_000 }),
          fc.option(
            fc.constantFrom(
              ARMS_CONTENT_TYPE,
              'application/json; charset=utf-16be',
              'text/plain; charset=gbk',
              'x; charset=nope',
            ),
          ),
          (bytes, contentType) => {
            // Act & Assess
            readSafely(Buffer.from(bytes), contentType ?? undefined);
          },
        ),
        { numRuns: 2_000 },
      );
    });

    it('for random JSON values', () => {
      fc.assert(
        fc.property(fc.jsonValue({ maxDepth: 12 }), (value) => {
          // Act & Assess
          readSafely(Buffer.from(JSON.stringify(value) ?? ''));
        }),
        { numRuns: 2_000 },
      );
    });

    it('for callback-shaped values with random fields', () => {
      fc.assert(
        fc.property(callback, (value) => {
          // Act & Assess
          readSafely(Buffer.from(JSON.stringify(value)));
        }),
        { numRuns: 2_000 },
      );
    });

    it('for truncated and mutated real fixtures', () => {
      // Prepare
      const fixtures = ['arms/sample.json', 'arms/multi-alert-with-invalid.json', 'alertmanager/v4-truncated.json'].map(
        (path) => fixtureBytes(path),
      );

      fc.assert(
        fc.property(
          fc.constantFrom(...fixtures),
          fc.nat(),
          fc.integer({ min: 0, max: 255 }),
          fc.boolean(),
          (fixture, at, byte, truncate) => {
            // Prepare
            const i = at % fixture.length;
            const body = truncate
              ? fixture.subarray(0, i)
              : Buffer.concat([fixture.subarray(0, i), Buffer.from([byte]), fixture.subarray(i + 1)]);

            // Act & Assess
            readSafely(body);
          },
        ),
        { numRuns: 2_000 },
      );
    });
  });

  it('sends the parsed fixture through unchanged: labels and annotations as structured objects', () => {
    // Prepare
    const parsed = fixtureJson<{ alerts: Array<{ labels: object; annotations: object }> }>('arms/sample.json');

    // Act
    const group = groupOf(readCallback(fixtureBytes('arms/sample.json'), undefined, DEFAULT_LIMITS));

    // Assess
    expect(group.alerts[0]?.labels).toEqual(parsed.alerts[0]?.labels);
    expect(group.alerts[0]?.annotations).toEqual(parsed.alerts[0]?.annotations);
  });
});
