/**
 * The low-level POST (`shared/pagerduty/httpPost.ts`) against hand-written loopback answers: the exact answer bound,
 * that a cut-off socket is not reused, failures before any connection, and when `onSent` fires. The PagerDuty verdicts
 * on top of it are in `pagerdutyClient.test.ts`.
 */
import { describe, expect, it } from 'vitest';
import { httpPost } from '../../../shared/pagerduty/httpPost';
import { closedAfterAll } from '../../support/closedAfterAll';
import { startLoopbackServer } from '../../support/loopbackServer';

const body = Buffer.from('{"hello":"世界"}', 'utf8');
const base = { headers: { 'content-type': 'application/json' }, body, timeoutMs: 5_000, maxResponseBytes: 1024 };

describe('Function: httpPost', () => {
  const keep = closedAfterAll();
  const loopback = async (answer: Parameters<typeof startLoopbackServer>[0]) => keep(await startLoopbackServer(answer));

  it('sends the body with its content-length and returns status, headers and body', async () => {
    // Prepare
    let seen: { headers: Record<string, unknown>; body: string } | undefined;
    const server = await loopback((req, res, text) => {
      seen = { headers: req.headers, body: text };
      res.writeHead(202, { 'retry-after': '7' }).end('ok');
    });

    // Act
    const result = await httpPost(server.url, base);

    // Assess
    expect(result).toMatchObject({ ok: true, status: 202, body: 'ok', onWire: true });
    expect(result.ok && result.headers['retry-after']).toBe('7');
    expect(seen?.body).toBe(body.toString('utf8'));
    expect(seen?.headers['content-length']).toBe(String(body.byteLength));
  });

  it('keeps exactly maxResponseBytes of a longer answer and does not reuse the cut-off socket', async () => {
    // Prepare: the first answer is 5,000 bytes, the second a short one
    let calls = 0;
    const server = await loopback((_req, res) => {
      calls++;
      res.writeHead(200).end(calls === 1 ? 'a'.repeat(5_000) : 'short');
    });

    // Act
    const long = await httpPost(server.url, base);
    await server.socketClosed;
    const short = await httpPost(server.url, base);

    // Assess
    expect(long.ok && long.body).toBe('a'.repeat(1024));
    expect(short.ok && short.body).toBe('short');
    expect(server.connections).toBe(2);
  });

  it.each([
    { case: 'not a URL', url: 'not a url' },
    { case: 'unsupported protocol', url: 'ftp://127.0.0.1/v2/enqueue' },
  ])('fails before any connection: $case → network, onWire false', async ({ url }) => {
    // Prepare
    let onSentCalls = 0;

    // Act
    const result = await httpPost(url, { ...base, onSent: () => onSentCalls++ });

    // Assess
    expect(result).toMatchObject({ ok: false, failure: 'network', onWire: false });
    expect(result.ok || result.error.message).toBe('request failed');
    expect(onSentCalls).toBe(0);
  });

  it('calls onSent once, before the answer is returned', async () => {
    // Prepare
    const server = await loopback((_req, res) => res.writeHead(202).end());
    const order: string[] = [];

    // Act
    await httpPost(server.url, { ...base, onSent: () => order.push('sent') }).then(() => order.push('answered'));

    // Assess
    expect(order).toEqual(['sent', 'answered']);
  });
});
