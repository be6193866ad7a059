/**
 * The PagerDuty client over real HTTP against the loopback fake (`tests/support/fakePagerDuty.ts`): every verdict,
 * timeouts, resets, Retry-After, routing by key, redirects, Change Events, the builders' output as a contract, and
 * that no routing key ever appears in a result; and its transport against hand-written loopback answers
 * (`tests/support/loopbackServer.ts`): keep-alive reuse, the answer bound, aborts, `onWire` and `onSent`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Secret } from '../../../shared/config/Secret';
import { buildEvent } from '../../../shared/pagerduty/buildEvent';
import { buildGroupEvent } from '../../../shared/pagerduty/buildGroupEvent';
import { classifyResponse } from '../../../shared/pagerduty/classifyResponse';
import { sendChangeEvent, sendEvent } from '../../../shared/pagerduty/client';
import type { PagerDutyEventBody, SendResult } from '../../../shared/pagerduty/types';
import errorBodies from '../../fixtures/pagerduty/errorBodies.json';
import { makeAlert, makeGroup, OTHER_ROUTING_KEY, ROUTING_KEY } from '../../support/alerts';
import { closedAfterAll } from '../../support/closedAfterAll';
import { type FakePagerDuty, startFakePagerDuty } from '../../support/fakePagerDuty';
import { startLoopbackServer } from '../../support/loopbackServer';
import { fakePagerDutyPerFile } from '../../support/pagerDutyPerFile';

const routingKey = new Secret(ROUTING_KEY);
const TIMEOUT_MS = 5_000;

function anEvent(overrides: Partial<PagerDutyEventBody> = {}): PagerDutyEventBody {
  return { ...buildEvent(makeAlert(), makeGroup(), {}).event, ...overrides };
}

/** Every result of this file, checked for the routing key at the end. */
const results: SendResult[] = [];
async function send(pd: FakePagerDuty, options: Partial<Parameters<typeof sendEvent>[0]> = {}): Promise<SendResult> {
  const result = await sendEvent({ url: pd.url, routingKey, event: anEvent(), timeoutMs: TIMEOUT_MS, ...options });
  results.push(result);
  return result;
}

describe('Function: sendEvent (over HTTP)', () => {
  // Each test reads the requests from an empty list.
  const fake = fakePagerDutyPerFile({
    eachTest: (pd) => {
      pd.requests.length = 0;
    },
  });
  afterAll(() => {
    // No routing key in any result, message or error of the whole file (Alertmanager's AssertNotifyLeaksNoSecret).
    for (const result of results) {
      expect(JSON.stringify(result)).not.toContain(ROUTING_KEY);
      expect(JSON.stringify(result)).not.toContain(OTHER_ROUTING_KEY);
    }
  });

  it('delivers an event: 202, echoed dedup_key, body = event + routing_key', async () => {
    // Prepare
    const event = anEvent();

    // Act
    const result = await send(fake.pd, { event });

    // Assess
    expect(result).toMatchObject({ ok: true, dedupKey: event.dedup_key, statusCode: 202 });
    expect(result.latencyMs).toBeGreaterThanOrEqual(0);
    expect(fake.pd.events).toHaveLength(1);
    expect(fake.pd.events[0]?.routingKey).toBe(ROUTING_KEY);
    expect(fake.pd.events[0]?.body).toEqual({ routing_key: ROUTING_KEY, ...event });
  });

  it.each([
    { status: 400, body: errorBodies.severityInvalid.body, retryable: false, reason: 'client' },
    { status: 401, body: undefined, retryable: false, reason: 'auth' },
    { status: 403, body: undefined, retryable: false, reason: 'auth' },
    { status: 404, body: 'Not Found', retryable: false, reason: 'auth' },
    { status: 408, body: undefined, retryable: true, reason: 'network' },
    { status: 413, body: undefined, retryable: false, reason: 'client' },
    { status: 429, body: errorBodies.rateLimited.text, retryable: true, reason: 'rate-limited' },
    { status: 500, body: undefined, retryable: true, reason: 'server' },
    { status: 502, body: '<html>Bad Gateway</html>', retryable: true, reason: 'server' },
    { status: 503, body: undefined, retryable: true, reason: 'server' },
    { status: 504, body: undefined, retryable: true, reason: 'server' },
  ])('answer $status → retryable $retryable, reason $reason', async ({ status, body, retryable, reason }) => {
    // Prepare
    fake.pd.script([{ status, body }]);

    // Act
    const result = await send(fake.pd);

    // Assess
    expect(result).toMatchObject({ ok: false, retryable, reason, statusCode: status });
    expect(result).toEqual({
      ...classifyResponse(status, typeof body === 'object' ? JSON.stringify(body) : (body ?? '')),
      statusCode: status,
      latencyMs: result.latencyMs,
      onWire: true,
    });
  });

  it('folds the real 400 body into the message', async () => {
    // Prepare
    fake.pd.script([{ status: 400, body: errorBodies.sourceBlank.body }]);

    // Act
    const result = await send(fake.pd);

    // Assess
    expect(result.ok || result.message).toBe(
      "PagerDuty rejected the event (400 Bad Request), not retried: Event object is invalid: 'payload.source' is missing or blank",
    );
  });

  it('reports Retry-After in milliseconds (seconds and HTTP-date)', async () => {
    // Prepare
    fake.pd.script([
      { status: 429, headers: { 'retry-after': '30' } },
      { status: 503, headers: { 'retry-after': new Date(Date.now() + 3_600_000).toUTCString() } },
      { status: 429 },
    ]);

    // Act
    const seconds = await send(fake.pd);
    const date = await send(fake.pd);
    const none = await send(fake.pd);

    // Assess
    expect(seconds.retryAfterMs).toBe(30_000);
    expect(date.retryAfterMs).toBeGreaterThan(3_000_000);
    expect(none).not.toHaveProperty('retryAfterMs');
  });

  it('times out on a hang: retryable, reason network, no status', async () => {
    // Prepare
    fake.pd.script([{ hang: true }]);

    // Act
    const result = await send(fake.pd, { timeoutMs: 200 });

    // Assess
    expect(result).toMatchObject({
      ok: false,
      retryable: true,
      reason: 'network',
      message: 'no response from PagerDuty before the request timeout',
    });
    expect(result.statusCode).toBeUndefined();
  });

  it("stops when the caller's signal fires (the invocation deadline)", async () => {
    // Prepare
    fake.pd.script([{ hang: true }]);
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('webhook deadline')), 100);

    // Act
    const result = await send(fake.pd, { signal: controller.signal });

    // Assess
    expect(result).toMatchObject({ ok: false, retryable: true, reason: 'network' });
    expect(result.ok || result.message).toBe('request to PagerDuty aborted (invocation deadline)');
  });

  it('treats a connection reset as a retryable network error', async () => {
    // Prepare
    fake.pd.script([{ reset: true }]);

    // Act
    const result = await send(fake.pd);

    // Assess
    expect(result).toMatchObject({ ok: false, retryable: true, reason: 'network' });
    expect(result.ok || result.message).toMatch(/^network error: /);
  });

  it('still delivers with added latency', async () => {
    // Prepare
    fake.pd.setLatency(50);

    // Act
    const result = await send(fake.pd);
    fake.pd.setLatency(0);

    // Assess
    expect(result).toMatchObject({ ok: true, statusCode: 202 });
  });

  it('never sends an event that fails the schema, and says why', async () => {
    // Prepare
    const event = anEvent();
    // biome-ignore lint/suspicious/noExplicitAny: an invalid severity is the point
    (event.payload as any).severity = 'none';

    // Act
    const result = await send(fake.pd, { event });

    // Assess
    expect(fake.pd.requests).toHaveLength(0);
    expect(result).toMatchObject({ ok: false, retryable: false, reason: 'client', latencyMs: 0 });
    expect(result.ok || result.message).toContain('payload.severity must be one of critical, error, warning, info');
  });

  it.each([
    { case: 'empty', key: '', message: 'no routing key for this event: not sent' },
    { case: 'short', key: 'abc', message: 'routing_key must NOT have fewer than 32 characters' },
  ])('never sends with a bad routing key ($case): reason auth', async ({ key, message }) => {
    // Act
    const result = await send(fake.pd, { routingKey: new Secret(key) });

    // Assess
    expect(fake.pd.requests).toHaveLength(0);
    expect(result).toMatchObject({ ok: false, retryable: false, reason: 'auth' });
    expect(result.ok || result.message).toContain(message);
  });

  it('scrubs the routing key from a body that echoes the request', async () => {
    // Prepare: a misbehaving proxy that echoes what it received
    fake.pd.script([{ status: 400, body: `bad request: {"routing_key":"${ROUTING_KEY}"}` }]);

    // Act
    const result = await send(fake.pd);

    // Assess
    expect(result.ok || result.message).toContain('"routing_key":"<secret>"');
  });

  it('never follows a redirect, so the key never reaches another host', async () => {
    // Prepare
    const elsewhere = await startFakePagerDuty();
    fake.pd.script([{ status: 307, headers: { location: elsewhere.url } }]);

    // Act
    const result = await send(fake.pd);
    await elsewhere.close();

    // Assess
    expect(result).toMatchObject({ ok: false, retryable: false, reason: 'client', statusCode: 307 });
    expect(result.ok || result.message).toContain('check PAGERDUTY_EVENTS_URL');
    expect(elsewhere.requests).toHaveLength(0);
  });

  it('reaches no server on a refused connection: retryable network error', async () => {
    // Prepare
    const closed = await startFakePagerDuty();
    const url = closed.url;
    await closed.close();

    // Act
    const result = await send(fake.pd, { url });

    // Assess
    expect(result).toMatchObject({ ok: false, retryable: true, reason: 'network' });
    expect(result.ok || result.message).toContain('ECONNREFUSED');
  });
});

describe('Function: sendEvent (keep-alive transport, onWire, onSent)', () => {
  /** Every result of this block, checked for the routing key at the end. */
  const sent: SendResult[] = [];
  const keep = closedAfterAll();
  async function sendTo(url: string, options: Partial<Parameters<typeof sendEvent>[0]> = {}): Promise<SendResult> {
    const result = await sendEvent({ url, routingKey, event: anEvent(), timeoutMs: TIMEOUT_MS, ...options });
    sent.push(result);
    return result;
  }
  const fake = async () => keep(await startFakePagerDuty());
  const loopback = async (answer: Parameters<typeof startLoopbackServer>[0]) => keep(await startLoopbackServer(answer));

  afterAll(() => {
    for (const result of sent) {
      expect(JSON.stringify(result)).not.toContain(ROUTING_KEY);
    }
  });

  it('sends sequential events over one kept-alive connection, onSent once each', async () => {
    // Prepare
    const pd = await fake();
    let onSentCalls = 0;

    // Act
    const answers: SendResult[] = [];
    for (let i = 0; i < 5; i++) answers.push(await sendTo(pd.url, { onSent: () => onSentCalls++ }));

    // Assess
    expect(answers.map((result) => [result.ok, result.statusCode, result.onWire])).toEqual(
      Array.from({ length: 5 }, () => [true, 202, true]),
    );
    expect(pd.events).toHaveLength(5);
    expect(pd.connections).toBe(1);
    expect(onSentCalls).toBe(5);
  });

  it('sends JSON with its Content-Length and User-Agent; the routing key only in the body', async () => {
    // Prepare
    let seen: { headers: Record<string, unknown>; body: string } | undefined;
    const server = await loopback((req, res, body) => {
      seen = { headers: req.headers, body };
      res.writeHead(202, { 'content-type': 'application/json' }).end('{"status":"success"}');
    });
    const event = anEvent(); // its summary is Chinese: Content-Length counts bytes, not characters

    // Act
    const result = await sendTo(server.url, { event });

    // Assess
    expect(result).toMatchObject({ ok: true, statusCode: 202, onWire: true });
    expect(seen?.headers).toMatchObject({
      'content-type': 'application/json',
      accept: 'application/json',
      'user-agent': 'arms-pagerduty-bridge',
      'content-length': String(Buffer.byteLength(seen?.body ?? '', 'utf8')),
    });
    expect(JSON.parse(seen?.body ?? '')).toEqual({ routing_key: ROUTING_KEY, ...event });
    expect(JSON.stringify(seen?.headers)).not.toContain(ROUTING_KEY);
  });

  it('reads at most the bound of an endless answer, then drops the socket', async () => {
    // Prepare: a 400 whose body goes on and on (1 MB written, never ended)
    const server = await loopback((_req, res) => {
      res.writeHead(400, { 'content-type': 'text/plain' });
      res.write('x'.repeat(1024 * 1024));
    });

    // Act
    const result = await sendTo(server.url);

    // Assess
    expect(result).toMatchObject({ ok: false, retryable: false, reason: 'client', statusCode: 400, onWire: true });
    expect(result.ok || result.message).toBe(
      `PagerDuty rejected the event (400 Bad Request), not retried: ${'x'.repeat(300)}…`,
    );
    await server.socketClosed;
  });

  it("stops mid-answer when the caller's signal fires, and destroys the request", async () => {
    // Prepare: the head and part of a body, then silence
    let wrote: () => void = () => {};
    const partWritten = new Promise<void>((resolve) => {
      wrote = resolve;
    });
    const server = await loopback((_req, res) => {
      res.writeHead(202, { 'content-type': 'application/json' });
      res.write('{"status":"succ', () => wrote());
    });
    const controller = new AbortController();
    // Not a timing assertion: a moment for the head to arrive; the verdict is the same either way.
    void partWritten.then(() => setTimeout(() => controller.abort(new Error('webhook deadline')), 50));

    // Act
    const result = await sendTo(server.url, { signal: controller.signal });

    // Assess
    expect(result).toMatchObject({ ok: false, retryable: true, reason: 'network', onWire: true });
    expect(result.ok || result.message).toBe('request to PagerDuty aborted (invocation deadline)');
    expect(result.statusCode).toBeUndefined();
    await server.socketClosed;
  });

  it('times out on a hang after sending: timeout verdict, onWire true, onSent called', async () => {
    // Prepare
    const pd = await fake();
    pd.script([{ hang: true }]);
    let onSentCalls = 0;

    // Act
    const result = await sendTo(pd.url, { timeoutMs: 200, onSent: () => onSentCalls++ });

    // Assess
    expect(result).toMatchObject({
      ok: false,
      retryable: true,
      reason: 'network',
      message: 'no response from PagerDuty before the request timeout',
      onWire: true,
    });
    expect(result.statusCode).toBeUndefined();
    expect(pd.requests).toHaveLength(1);
    expect(onSentCalls).toBe(1);
  });

  it('is off the wire on a refused connection: network verdict, onWire false, onSent not called', async () => {
    // Prepare
    const closed = await startFakePagerDuty();
    const url = closed.url;
    await closed.close();
    let onSentCalls = 0;

    // Act
    const result = await sendTo(url, { onSent: () => onSentCalls++ });

    // Assess
    expect(result).toMatchObject({ ok: false, retryable: true, reason: 'network', onWire: false });
    expect(result.ok || result.message).toContain('ECONNREFUSED');
    expect(onSentCalls).toBe(0);
  });

  it('is off the wire when the signal fired before the send: nothing reaches the server', async () => {
    // Prepare
    const pd = await fake();
    const controller = new AbortController();
    controller.abort(new Error('webhook deadline'));
    let onSentCalls = 0;

    // Act
    const result = await sendTo(pd.url, { signal: controller.signal, onSent: () => onSentCalls++ });

    // Assess
    expect(result).toMatchObject({ ok: false, retryable: true, reason: 'network', onWire: false });
    expect(result.ok || result.message).toBe('request to PagerDuty aborted (invocation deadline)');
    expect(pd.connections).toBe(0);
    expect(onSentCalls).toBe(0);
  });

  it('counts a reset on a reused kept-alive socket as on the wire', async () => {
    // Prepare: one normal answer keeps a socket alive; the next request on it is reset
    const pd = await fake();
    await sendTo(pd.url);
    pd.script([{ reset: true }]);

    // Act
    const result = await sendTo(pd.url);

    // Assess
    expect(result).toMatchObject({ ok: false, retryable: true, reason: 'network', onWire: true });
    expect(result.ok || result.message).toMatch(/^network error: /);
    expect(pd.connections).toBe(1);
    expect(pd.requests).toHaveLength(2);
  });

  it.each([301, 302, 303, 308])('never follows a %i: client verdict, nothing reaches the target', async (status) => {
    // Prepare
    const pd = await fake();
    const elsewhere = await fake();
    pd.script([{ status, headers: { location: elsewhere.url } }]);

    // Act
    const result = await sendTo(pd.url);

    // Assess
    expect(result).toMatchObject({ ok: false, retryable: false, reason: 'client', statusCode: status, onWire: true });
    expect(result.ok || result.message).toContain('check PAGERDUTY_EVENTS_URL');
    expect(elsewhere.requests).toHaveLength(0);
  });

  it('marks an event that is never sent as off the wire', async () => {
    // Act
    const result = await sendTo('http://127.0.0.1:1/v2/enqueue', { routingKey: new Secret('') });

    // Assess
    expect(result).toMatchObject({ ok: false, reason: 'auth', onWire: false });
  });

  it('passes onSent through for change events', async () => {
    // Prepare
    const pd = await fake();
    let onSentCalls = 0;

    // Act
    const result = await sendChangeEvent({
      url: pd.url,
      routingKey,
      timeoutMs: TIMEOUT_MS,
      event: { payload: { summary: 's', source: 'arms' } },
      onSent: () => onSentCalls++,
    });
    sent.push(result);

    // Assess
    expect(result).toMatchObject({ ok: true, statusCode: 202, onWire: true });
    expect(onSentCalls).toBe(1);
  });
});

describe('Fake PagerDuty: validates like PagerDuty', () => {
  let pd: FakePagerDuty;

  beforeAll(async () => {
    pd = await startFakePagerDuty({ rateLimit: { limit: 2, windowMs: 60_000 } });
  });
  afterAll(async () => {
    await pd.close();
  });

  async function post(body: unknown): Promise<{ status: number; body: unknown }> {
    const response = await fetch(pd.url, {
      method: 'POST',
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text.startsWith('{') ? JSON.parse(text) : text };
  }

  const base = {
    routing_key: 'k'.repeat(32),
    event_action: 'trigger',
    dedup_key: 'd',
    payload: { summary: 's', source: 'h', severity: 'error' },
  };

  it.each([
    {
      case: 'summary over 1024',
      body: { ...base, payload: { ...base.payload, summary: 's'.repeat(1025) } },
      expected: { ...errorBodies.summaryTooLong.body, status: 'invalid event' },
    },
    {
      case: 'blank source',
      body: { ...base, payload: { ...base.payload, source: ' ' } },
      expected: {
        status: 'invalid event',
        message: 'Event object is invalid',
        errors: errorBodies.sourceBlank.body.errors,
      },
    },
    {
      case: 'severity none',
      body: { ...base, payload: { ...base.payload, severity: 'none' } },
      expected: errorBodies.severityInvalid.body,
    },
    {
      case: 'severity missing',
      body: { ...base, payload: { summary: 's', source: 'h' } },
      expected: errorBodies.severityMissing.body,
    },
    { case: 'not JSON', body: '{nope', expected: errorBodies.unparsable.body },
  ])('answers $case with the real 400 body', async ({ body, expected }) => {
    // Act
    const answer = await post(body);

    // Assess
    expect(answer).toEqual({ status: 400, body: expected });
  });

  it('rejects an event over 512,000 bytes', async () => {
    // Act
    const answer = await post({ ...base, payload: { ...base.payload, custom_details: { big: 'x'.repeat(512_000) } } });

    // Assess
    expect(answer.status).toBe(400);
  });

  it('rate-limits per routing key: 429 over the limit, other keys unaffected', async () => {
    // Act
    const verdicts = [];
    for (let i = 0; i < 3; i += 1) {
      verdicts.push(await sendEvent({ url: pd.url, routingKey, event: anEvent(), timeoutMs: TIMEOUT_MS }));
    }
    const other = await sendEvent({
      url: pd.url,
      routingKey: new Secret(OTHER_ROUTING_KEY),
      event: anEvent(),
      timeoutMs: TIMEOUT_MS,
    });
    results.push(...verdicts, other);

    // Assess
    expect(verdicts.map((verdict) => verdict.statusCode)).toEqual([202, 202, 429]);
    expect(verdicts[2]).toMatchObject({ ok: false, retryable: true, reason: 'rate-limited' });
    expect(other).toMatchObject({ ok: true, statusCode: 202 });
    expect(pd.accepted().map((request) => request.routingKey)).toEqual([ROUTING_KEY, ROUTING_KEY, OTHER_ROUTING_KEY]);
  });
});

describe('Contract: built events are accepted by the fake PagerDuty', () => {
  let pd: FakePagerDuty;

  beforeAll(async () => {
    pd = await startFakePagerDuty();
  });
  afterAll(async () => {
    await pd.close();
  });

  const alerts = {
    'the ARMS sample': makeAlert(),
    'its resolve': makeAlert({ status: 'resolved' }),
    'a 5,000-character Chinese summary': makeAlert({ summary: '数据库连接失败'.repeat(715) }),
    'an emoji summary over the limit': makeAlert({ summary: '🔥'.repeat(2000) }),
    'no severity, no times': makeAlert({ severity: undefined, startsAt: undefined, endsAt: undefined }),
    'a 513 KB annotation': makeAlert({ annotations: { description: '告'.repeat(175_000) } }),
    'a 300-character identity': makeAlert({ identity: 'i'.repeat(300) }),
    'http and data images': makeAlert({ images: [{ src: 'http://x/a.png' }, { src: 'https://x/b.png' }] }),
  };

  it.each(Object.entries(alerts))('per alert: %s', async (_, alert) => {
    // Prepare
    const { event } = buildEvent(alert, makeGroup({ alerts: [alert] }), { defaultSeverity: 'warning' });

    // Act
    const result = await sendEvent({ url: pd.url, routingKey, event, timeoutMs: TIMEOUT_MS });
    results.push(result);

    // Assess
    expect(result).toMatchObject({ ok: true, statusCode: 202, dedupKey: event.dedup_key });
  });

  it('per group: a mixed group and its final resolve', async () => {
    // Prepare
    const all = Object.values(alerts).map((alert, i) => ({ ...alert, identity: `id${i}` }));
    const group = makeGroup({ alerts: all });
    const trigger = buildGroupEvent(all, group, { routeName: 'db' }).event;
    const resolvedAlerts = all.map((alert) => ({ ...alert, status: 'resolved' as const }));
    const resolve = buildGroupEvent(resolvedAlerts, group, { routeName: 'db' }).event;

    // Act
    const sent = [];
    for (const event of [trigger, resolve]) {
      sent.push(await sendEvent({ url: pd.url, routingKey, event, timeoutMs: TIMEOUT_MS }));
    }
    results.push(...sent);

    // Assess
    expect(sent.map((result) => result.statusCode)).toEqual([202, 202]);
    expect(
      pd
        .accepted()
        .slice(-2)
        .map((request) => (request.body as PagerDutyEventBody).event_action),
    ).toEqual(['trigger', 'resolve']);
    expect(resolve.dedup_key).toBe(trigger.dedup_key);
  });
});

describe('Function: sendChangeEvent (over HTTP)', () => {
  let pd: FakePagerDuty;

  beforeAll(async () => {
    pd = await startFakePagerDuty();
  });
  afterAll(async () => {
    await pd.close();
  });

  it('posts to /v2/change/enqueue derived from the alert URL, summary cut to 1024 code points', async () => {
    // Act
    const result = await sendChangeEvent({
      url: pd.url,
      routingKey,
      timeoutMs: TIMEOUT_MS,
      event: { payload: { summary: '告'.repeat(2000), source: 'arms' }, links: [{ href: 'https://example.com' }] },
    });
    results.push(result);

    // Assess
    expect(result).toMatchObject({ ok: true, statusCode: 202 });
    expect(pd.changeEvents).toHaveLength(1);
    expect(pd.events).toHaveLength(0);
    const body = pd.changeEvents[0]?.body as { routing_key: string; payload: { summary: string } };
    expect(body.routing_key).toBe(ROUTING_KEY);
    expect(Array.from(body.payload.summary)).toHaveLength(1024);
  });

  it('does not send when the change URL cannot be derived', async () => {
    // Act
    const result = await sendChangeEvent({
      url: 'http://127.0.0.1:1/elsewhere',
      routingKey,
      timeoutMs: TIMEOUT_MS,
      event: { payload: { summary: 's' } },
    });
    results.push(result);

    // Assess
    expect(result).toMatchObject({ ok: false, retryable: false, reason: 'client' });
  });
});
