/**
 * Every input class of the intake issue through the real handler chain: an FC Buffer event in, the FC response out,
 * in dry-run so the events the bridge would send can be read from the store.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { PagerDutyEventBody } from '../../../shared/pagerduty/types';
import { webhookHarness } from '../../support/webhook';

const fixture = (path: string) => readFileSync(new URL(`../../fixtures/${path}`, import.meta.url));
const sample = () => JSON.parse(fixture('arms/sample.json').toString('utf8'));

/** Posts in dry-run and returns the response and the events stored, in callback order. */
async function dryRun(body: string | Buffer, env: Record<string, string> = {}, init = {}) {
  const bridge = webhookHarness(env);
  const response = await bridge.post(body, init);
  const rows = (await bridge.store.list()).sort((a, b) => a.deliveryKey.localeCompare(b.deliveryKey));
  return { response, events: rows.map((row) => row.event as PagerDutyEventBody), bridge };
}

/** An ARMS callback of `count` alerts built from the documented sample. */
function armsGroup(count: number) {
  const base = sample();
  const template = base.alerts[0];
  base.alerts = Array.from({ length: count }, (_, index) => ({
    ...template,
    fingerprint: `fp-${index.toString().padStart(5, '0')}`,
    labels: { ...template.labels, pod_name: `pod-${index}` },
  }));
  return JSON.stringify(base);
}

describe('intake: ARMS $alertmanager_content', () => {
  it('forwards the documented sample with Chinese text and rendered placeholders', async () => {
    // Act
    const { response, events } = await dryRun(fixture('arms/sample.json'));

    // Assess
    expect(response.statusCode).toBe(200);
    expect(events).toHaveLength(1);
    const [event] = events;
    expect(event).toMatchObject({
      event_action: 'trigger',
      dedup_key: 'bec72890cc2c7b4a027e008df0cd1013',
      client: 'ARMS',
      client_url: 'https://alerts.console.aliyun.com/#/alarm/alert/detail/2848',
      payload: { severity: 'warning', source: '10.0.80.186:10255', timestamp: '2021-02-22T07:18:15.578Z' },
    });
    expect(event?.payload.summary).toContain('命名空间: arms-prom');
    expect(event?.payload.summary).toContain('当前值15.52%');
    expect(event?.payload.summary).not.toContain('{{');
    expect(event?.payload.custom_details).toMatchObject({ labels: { _aliyun_arms_alert_level: 'ERROR' } });
  });

  it('forwards a resolved callback as a resolve with the same dedup_key', async () => {
    // Act
    const { response, events } = await dryRun(fixture('arms/resolved.json'));

    // Assess
    expect(response.statusCode).toBe(200);
    expect(events.map((event) => [event.event_action, event.dedup_key])).toEqual([
      ['resolve', 'bec72890cc2c7b4a027e008df0cd1013'],
    ]);
  });

  it('forwards the valid alerts of a mixed callback and lists each rejected one with its index and reason', async () => {
    // Act
    const { response, events, bridge } = await dryRun(fixture('arms/multi-alert-with-invalid.json'));

    // Assess
    expect(response.statusCode).toBe(200);
    expect(response.json).toMatchObject({ received: 5, dryRun: 2 });
    expect(response.json.rejected.map((rejected: { index: number }) => rejected.index)).toEqual([1, 3, 4]);
    for (const rejected of response.json.rejected) expect(rejected.reason.length).toBeGreaterThan(10);
    expect(events.map((event) => event.event_action).sort()).toEqual(['resolve', 'trigger']);
    const logged = bridge.lines.filter((line) => line.includes('"alerts rejected"'));
    expect(logged).toHaveLength(1);
    expect(JSON.parse(logged[0] as string).rejected).toEqual(response.json.rejected);
  });

  it('renders the placeholders of a real callback from its labels, removing what it cannot render', async () => {
    // Act
    const { events } = await dryRun(fixture('arms/placeholders.json'));

    // Assess
    expect(events[0]?.payload.summary).toBe('Pod web-1 in prod restarted 3.1 times (node node-a, team )');
  });

  it('accepts a 1,000-alert group and stores one delivery per alert', async () => {
    // Act
    const { response, events } = await dryRun(armsGroup(1000));

    // Assess
    expect(response.statusCode).toBe(200);
    expect(response.json).toMatchObject({ received: 1000, dryRun: 1000, rejected: [] });
    expect(new Set(events.map((event) => event.dedup_key)).size).toBe(1000);
  });

  it.each([
    ['critical', 'critical'],
    ['CRIT', 'critical'],
    ['fatal', 'critical'],
    ['P1', 'critical'],
    ['error', 'error'],
    ['err', 'error'],
    ['major', 'error'],
    ['High', 'error'],
    ['p2', 'error'],
    ['warning', 'warning'],
    ['warn', 'warning'],
    ['minor', 'warning'],
    ['medium', 'warning'],
    ['p3', 'warning'],
    ['info', 'info'],
    ['informational', 'info'],
    ['notice', 'info'],
    ['low', 'info'],
    ['page', 'info'],
    ['p4', 'info'],
    ['P5', 'info'],
  ])('maps labels.severity %j to %s', async (spelling, expected) => {
    // Prepare
    const body = sample();
    body.alerts[0].labels.severity = spelling;

    // Act
    const { events } = await dryRun(JSON.stringify(body));

    // Assess
    expect(events[0]?.payload.severity).toBe(expected);
  });

  it.each([
    [{ severity: 'bogus', _aliyun_arms_alert_level: 'P1' }, 'critical'],
    [{ _aliyun_arms_alert_level: 'ERROR' }, 'error'],
    [{ severity: 'bogus', _aliyun_arms_alert_level: 'bogus' }, 'error'],
    [{}, 'error'],
  ])('falls through unknown severity sources %o to %s', async (levels, expected) => {
    // Prepare
    const body = sample();
    const { severity: _severity, _aliyun_arms_alert_level: _level, ...labels } = body.alerts[0].labels;
    body.alerts[0].labels = { ...labels, ...levels };

    // Act
    const { events } = await dryRun(JSON.stringify(body));

    // Assess
    expect(events[0]?.payload.severity).toBe(expected);
  });
});

describe('intake: native Alertmanager webhook v4', () => {
  it('records truncatedAlerts and shows it in the event details', async () => {
    // Act
    const { response, events } = await dryRun(
      fixture('alertmanager/v4-truncated.json'),
      {},
      {
        headers: { 'Content-Type': 'application/json' },
      },
    );

    // Assess
    expect(response.statusCode).toBe(200);
    expect(events).toHaveLength(2);
    for (const event of events) {
      expect(event.client).toBe('Alertmanager');
      expect(JSON.stringify(event.payload.custom_details)).toContain('"truncated_alerts":2');
    }
  });

  it('forwards a resolved v4 webhook as resolves', async () => {
    const { events } = await dryRun(fixture('alertmanager/v4-resolved.json'));
    expect(events.length).toBeGreaterThan(0);
    for (const event of events) expect(event.event_action).toBe('resolve');
  });
});

describe('intake: the ARMS console Test button', () => {
  it.each(['arms/console-test-literal.txt', 'arms/console-test-content.txt', 'arms/console-test-preset-template.txt'])(
    'answers %s with 200, forwarding and storing nothing',
    async (path) => {
      // Act
      const { response, events, bridge } = await dryRun(fixture(path));

      // Assess
      expect(response.statusCode).toBe(200);
      expect(response.json.status).toBe('test');
      expect(events).toHaveLength(0);
      expect(bridge.lines.some((line) => line.includes('ARMS console test received'))).toBe(true);
    },
  );

  it('answers a truncated real callback 400, never as a test', async () => {
    // Prepare
    const truncated = fixture('arms/sample.json').subarray(0, 900);

    // Act
    const { response } = await dryRun(truncated);

    // Assess
    expect(response.statusCode).toBe(400);
    expect(response.json.error.code).toBe('malformed_json');
  });
});

describe('intake: content types, charsets, encodings', () => {
  it.each([
    ['text/plain; charset=UTF-8', false],
    ['application/json', false],
    ['application/x-www-form-urlencoded', false],
    ['text/plain; charset=UTF-8', true],
  ])('accepts the sample as %s (base64: %s)', async (contentType, base64) => {
    const { response } = await dryRun(
      fixture('arms/sample.json'),
      {},
      {
        headers: { 'Content-Type': contentType },
        base64,
      },
    );
    expect(response.statusCode).toBe(200);
  });

  it('accepts a body with a UTF-8 byte order mark', async () => {
    const body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), fixture('arms/sample.json')]);
    const { response } = await dryRun(body);
    expect(response.statusCode).toBe(200);
  });

  it('decodes a UTF-16LE body with its BOM', async () => {
    // Prepare
    const body = Buffer.concat([
      Buffer.from([0xff, 0xfe]),
      Buffer.from(fixture('arms/sample.json').toString('utf8'), 'utf16le'),
    ]);

    // Act
    const { response, events } = await dryRun(body, {}, { headers: { 'Content-Type': 'application/json' } });

    // Assess
    expect(response.statusCode).toBe(200);
    expect(events[0]?.payload.summary).toContain('命名空间');
  });
});

describe('intake: bytes not valid in the declared charset (never two alerts merged into one)', () => {
  /** One alert without a fingerprint, so its identity is the hash of its labels; `pod` is the bytes given. */
  function podAlertBytes(pod: Buffer): Buffer {
    const [before, after] = JSON.stringify({
      alerts: [{ status: 'firing', labels: { alertname: 'PodDown', pod: 'POD' } }],
    }).split('POD') as [string, string];
    return Buffer.concat([Buffer.from(before), pod, Buffer.from(after)]);
  }

  it('refuses two alerts that differ only in an invalid byte instead of answering the second as a duplicate', async () => {
    // Prepare: one store, two different alerts; decoded with replacement both would be "web-\uFFFD"
    const bridge = webhookHarness({});
    const first = podAlertBytes(Buffer.from([0x77, 0x65, 0x62, 0x2d, 0xff]));
    const second = podAlertBytes(Buffer.from([0x77, 0x65, 0x62, 0x2d, 0xfe]));

    // Act: as FC passes a body that is not UTF-8 (base64)
    const responses = [await bridge.post(first), await bridge.post(second)];

    // Assess
    for (const response of responses) {
      expect(response.statusCode).toBe(400);
      expect(response.json.error.code).toBe('invalid_encoding');
      expect(response.json.error.message).toBe(
        'body is not valid UTF-8: invalid byte 0x' +
          (response === responses[0] ? 'FF' : 'FE') +
          " at byte offset 73; send the body as UTF-8 (ARMS's default), or declare its charset in the Content-Type",
      );
    }
    expect(await bridge.store.list()).toHaveLength(0);
  });

  it('refuses a text body holding a lone surrogate (it has no encoding at all)', async () => {
    // Prepare: FC passes a text body as a JSON string in its event, where "\\ud800" decodes to a lone surrogate: text
    // that no byte sequence decodes to (the escape inside the body, by contrast, is plain ASCII JSON)
    const bridge = webhookHarness({});
    const body = '{"alerts":[{"status":"firing","labels":{"alertname":"PodDown","pod":"web-\ud800"}}]}';

    // Act
    const response = await bridge.post(body);

    // Assess
    expect(response.statusCode).toBe(400);
    expect(response.json.error).toMatchObject({ code: 'invalid_encoding' });
    expect(response.json.error.message).toContain('lone surrogate U+D800 at byte offset 73');
    expect(await bridge.store.list()).toHaveLength(0);
  });

  it.each([
    ['ISO-8859-1', Buffer.from([0x77, 0xe9, 0xff]), 'wéÿ'],
    ['GBK', Buffer.from([0xb8, 0xe6, 0xbe, 0xaf]), '告警'],
  ])('still forwards a body valid in its declared %s', async (charset, pod, decoded) => {
    // Act
    const { response, events } = await dryRun(
      podAlertBytes(pod),
      {},
      {
        headers: { 'Content-Type': `application/json; charset=${charset}` },
      },
    );

    // Assess
    expect(response.statusCode).toBe(200);
    expect(events[0]?.payload.custom_details?.labels).toEqual({ alertname: 'PodDown', pod: decoded });
  });
});

describe('intake: bad input gets a clear 4xx, never a 5xx', () => {
  it.each([
    ['over MAX_BODY_BYTES', armsGroup(10), { MAX_BODY_BYTES: '2048' }, 413, 'payload_too_large'],
    ['over MAX_ALERTS', armsGroup(3), { MAX_ALERTS: '2' }, 413, 'too_many_alerts'],
    ['nested deeper than MAX_JSON_DEPTH', `${'['.repeat(100)}${']'.repeat(100)}`, {}, 413, 'json_too_deep'],
    ['not JSON', 'alert!', {}, 400, 'malformed_json'],
    ['empty', '   ', {}, 400, 'empty_body'],
    ['a JSON string', '"hello"', {}, 422, 'invalid_callback'],
    ['an object without alerts', '{"status":"firing"}', {}, 422, 'invalid_callback'],
    ['alerts not an array', '{"alerts":"x"}', {}, 422, 'invalid_callback'],
    ['no valid alert', '{"alerts":[{"status":"firing","labels":{"a":1}}]}', {}, 422, 'no_valid_alerts'],
  ])('%s → %i %s', async (_name, body, env, status, code) => {
    // Act
    const { response, events } = await dryRun(body, env);

    // Assess
    expect(response.statusCode).toBe(status);
    expect(response.json.error.code).toBe(code);
    expect(response.json.error.message).toMatch(/[a-z]{3,}/);
    expect(events).toHaveLength(0);
  });

  it('names the problem: "alerts must be an array"', async () => {
    const { response } = await dryRun('{"alerts":{}}');
    expect(response.json.error.message).toContain('alerts must be an array');
  });

  it('lists every rejected alert when none is valid', async () => {
    const { response } = await dryRun('{"alerts":[{"status":"firing"},{"labels":{"a":"b"}}]}');
    expect(response.json.error.details.map((rejected: { index: number }) => rejected.index)).toEqual([0, 1]);
  });

  it('refuses an unknown charset with 415', async () => {
    const { response } = await dryRun(
      fixture('arms/sample.json'),
      {},
      { headers: { 'Content-Type': 'application/json; charset=klingon' } },
    );
    expect(response.statusCode).toBe(415);
    expect(response.json.error.code).toBe('unsupported_charset');
  });

  it('never throws and never answers 5xx, whatever the body (property)', async () => {
    // Prepare: one handler chain, many bodies; random bytes, random JSON, and mutations of the real sample.
    const bridge = webhookHarness({});
    const base = sample();
    const bodies = fc.oneof(
      fc.uint8Array({ maxLength: 512 }).map((bytes) => Buffer.from(bytes)),
      fc.json().map((json) => Buffer.from(json)),
      fc.jsonValue().map((value) => Buffer.from(JSON.stringify({ ...base, alerts: [value] }))),
      fc
        .record({
          key: fc.constantFrom('labels', 'annotations', 'status', 'startsAt', 'endsAt', 'fingerprint'),
          value: fc.jsonValue(),
        })
        .map(({ key, value }) =>
          Buffer.from(JSON.stringify({ ...base, alerts: [{ ...base.alerts[0], [key]: value }] })),
        ),
    );

    // Act & Assess
    await fc.assert(
      fc.asyncProperty(bodies, async (body) => {
        const response = await bridge.post(body);
        expect(response.statusCode).toBeLessThan(500);
        expect(typeof response.json).toBe('object');
      }),
      { numRuns: 300 },
    );
  });
});
