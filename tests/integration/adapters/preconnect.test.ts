/**
 * Sockets opened at init (`shared/preconnect.ts`) and taken by the keep-alive agents: the first POST to the origin
 * goes out on the preconnected socket (one connection in all, where it would otherwise be two), a second preconnect
 * to an origin that has one waiting opens nothing, and a preconnect that fails leaves the POST's outcome as it would
 * be without it (never on the wire, so safe to send again).
 */

import type { AddressInfo } from 'node:net';
import { createServer, Socket } from 'node:net';
import { describe, expect, it, vi } from 'vitest';
import { httpPost } from '../../../shared/pagerduty/httpPost';
import { preconnect } from '../../../shared/preconnect';
import { closedAfterAll } from '../../support/closedAfterAll';
import { startLoopbackServer } from '../../support/loopbackServer';

const base = {
  headers: { 'content-type': 'application/json' },
  body: Buffer.from('{}'),
  timeoutMs: 5_000,
  maxResponseBytes: 1024,
};

describe('Function: preconnect', () => {
  const keep = closedAfterAll();
  const loopback = async () =>
    keep(await startLoopbackServer((_req, res) => res.writeHead(202).end('{"status":"success"}')));

  it('gives the first POST to the origin the socket opened before it', async () => {
    // Prepare
    const server = await loopback();
    preconnect(server.url);

    // Act
    const first = await httpPost(server.url, base);
    const second = await httpPost(server.url, base);

    // Assess: both on the one preconnected socket
    expect(first).toMatchObject({ ok: true, status: 202, onWire: true });
    expect(second).toMatchObject({ ok: true, status: 202, onWire: true });
    expect(server.requests).toBe(2);
    expect(server.connections).toBe(1);
  });

  it('hands the socket over with Nagle off, as the agents open their own', async () => {
    // Prepare: Nagle on a kept-alive socket holds each request's body for the previous write's ACK (tens of ms on
    // every later request it carries).
    const server = await loopback();
    const noDelay = vi.spyOn(Socket.prototype, 'setNoDelay');
    preconnect(server.url);

    // Act
    const result = await httpPost(server.url, base);

    // Assess
    expect(result).toMatchObject({ ok: true, status: 202 });
    expect(server.connections).toBe(1);
    expect(noDelay).toHaveBeenCalledWith(true);
    noDelay.mockRestore();
  });

  it('opens one socket per origin however often it is asked', async () => {
    // Prepare
    const server = await loopback();
    preconnect(server.url);
    preconnect(server.url.replace('/v2/enqueue', '/other/path'));

    // Act
    const result = await httpPost(server.url, base);

    // Assess
    expect(result).toMatchObject({ ok: true, status: 202 });
    expect(server.connections).toBe(1);
  });

  it('leaves a POST whose preconnected socket was refused off the wire, as without it', async () => {
    // Prepare: a port nothing listens on any more
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const url = `http://127.0.0.1:${port}/v2/enqueue`;
    preconnect(url);

    // Act
    const result = await httpPost(url, base);

    // Assess
    expect(result).toMatchObject({ ok: false, failure: 'network', onWire: false });
  });
});
