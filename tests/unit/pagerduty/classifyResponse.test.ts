import { describe, expect, it } from 'vitest';
import { classifyResponse } from '../../../shared/pagerduty/classifyResponse';
import errorBodies from '../../fixtures/pagerduty/errorBodies.json';

const success = JSON.stringify(errorBodies.success.body);

describe('Function: classifyResponse', () => {
  it.each([
    { status: 200, body: '{"status":"success"}', dedupKey: undefined },
    { status: 202, body: success, dedupKey: 'srv01/HTTP' },
    { status: 202, body: '', dedupKey: undefined },
    { status: 202, body: 'not json', dedupKey: undefined },
    { status: 204, body: '', dedupKey: undefined },
  ])('$status $body → delivered', ({ status, body, dedupKey }) => {
    // Act
    const verdict = classifyResponse(status, body);

    // Assess
    expect(verdict).toEqual(dedupKey === undefined ? { ok: true } : { ok: true, dedupKey });
  });

  // Every status class against its verdict (Alertmanager's TestPagerDutyRetryV2, with PagerDuty's own table).
  it.each([
    { status: 100, retryable: true, reason: 'server' },
    { status: 301, retryable: false, reason: 'client' },
    { status: 302, retryable: false, reason: 'client' },
    { status: 307, retryable: false, reason: 'client' },
    { status: 308, retryable: false, reason: 'client' },
    { status: 400, retryable: false, reason: 'client' },
    { status: 401, retryable: false, reason: 'auth' },
    { status: 403, retryable: false, reason: 'auth' },
    { status: 404, retryable: false, reason: 'auth' },
    { status: 405, retryable: false, reason: 'client' },
    { status: 408, retryable: true, reason: 'network' },
    { status: 409, retryable: false, reason: 'client' },
    { status: 413, retryable: false, reason: 'client' },
    { status: 415, retryable: false, reason: 'client' },
    { status: 422, retryable: false, reason: 'client' },
    { status: 429, retryable: true, reason: 'rate-limited' },
    { status: 499, retryable: false, reason: 'client' },
    { status: 500, retryable: true, reason: 'server' },
    { status: 501, retryable: true, reason: 'server' },
    { status: 502, retryable: true, reason: 'server' },
    { status: 503, retryable: true, reason: 'server' },
    { status: 504, retryable: true, reason: 'server' },
    { status: 599, retryable: true, reason: 'server' },
    { status: 600, retryable: true, reason: 'server' },
  ])('$status → retryable $retryable, reason $reason', ({ status, retryable, reason }) => {
    // Act
    const verdict = classifyResponse(status, '');

    // Assess
    expect(verdict).toMatchObject({ ok: false, retryable, reason });
    expect(verdict.ok || verdict.message).toContain(String(status));
  });

  it.each(
    Object.entries(errorBodies)
      .filter(([name, fixture]) => name !== '_comment' && typeof fixture === 'object' && fixture.status === 400)
      .map(([name, fixture]) => ({ name, fixture: fixture as { body: { message: string; errors: string[] } } })),
  )("folds PagerDuty's real 400 body into the message: $name", ({ fixture }) => {
    // Act
    const verdict = classifyResponse(400, JSON.stringify(fixture.body));

    // Assess
    expect(verdict).toMatchObject({ ok: false, retryable: false, reason: 'client' });
    expect(verdict.ok || verdict.message).toBe(
      `PagerDuty rejected the event (400 Bad Request), not retried: ${fixture.body.message}: ${fixture.body.errors.join('; ')}`,
    );
  });

  it.each([
    {
      case: 'several errors',
      body: '{"message":"Event object is invalid","errors":["a","b"]}',
      details: 'Event object is invalid: a; b',
    },
    { case: 'status only', body: '{"status":"invalid event"}', details: 'invalid event' },
    {
      case: 'an HTML page, whitespace collapsed',
      body: '<html>\n  <b>Bad</b>\n</html>',
      details: '<html> <b>Bad</b> </html>',
    },
    { case: 'a long text body, cut', body: 'e'.repeat(1000), details: `${'e'.repeat(300)}…` },
  ])('describes other bodies: $case', ({ body, details }) => {
    // Act
    const verdict = classifyResponse(400, body);

    // Assess
    expect(verdict.ok || verdict.message).toBe(
      `PagerDuty rejected the event (400 Bad Request), not retried: ${details}`,
    );
  });

  it('says what to check on 401/403/404', () => {
    // Act
    const verdict = classifyResponse(403, '');

    // Assess
    expect(verdict.ok || verdict.message).toBe(
      'PagerDuty answered 403 Forbidden: check the routing key and PAGERDUTY_EVENTS_URL (not retried; replay after fixing)',
    );
  });

  it('keeps the 429 body', () => {
    // Act
    const verdict = classifyResponse(429, errorBodies.rateLimited.text);

    // Assess
    expect(verdict.ok || verdict.message).toBe(
      'PagerDuty answered 429 Too Many Requests: rate limit of the routing key reached, event not ingested: 429 - Request Limit Exceeded',
    );
  });

  it.each([
    {
      case: 'timeout',
      error: Object.assign(new Error('x'), { name: 'TimeoutError' }),
      message: 'no response from PagerDuty before the request timeout',
    },
    {
      case: 'caller abort',
      error: Object.assign(new Error('x'), { name: 'AbortError' }),
      message: 'request to PagerDuty aborted (invocation deadline)',
    },
    {
      case: 'reset, with undici cause',
      error: new TypeError('fetch failed', {
        cause: Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }),
      }),
      message: 'network error: fetch failed (ECONNRESET read ECONNRESET)',
    },
    { case: 'plain error', error: new Error('socket hang up'), message: 'network error: socket hang up' },
    { case: 'no error object', error: undefined, message: 'no response from PagerDuty' },
  ])('network failure: $case → retryable, reason network', ({ error, message }) => {
    // Act
    const verdict = classifyResponse(undefined, '', error);

    // Assess
    expect(verdict).toEqual({ ok: false, retryable: true, reason: 'network', message });
  });
});
