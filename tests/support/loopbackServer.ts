/**
 * A bare HTTP server on 127.0.0.1 whose answers a test writes by hand (a body that never ends, a head and then
 * silence), for the transport behaviour the fake PagerDuty cannot script. It counts connections and requests, tells
 * when a client's socket closed, and `close()` releases whatever is still hanging.
 *
 * @example
 * const server = await startLoopbackServer((_req, res) => res.writeHead(202).write('{"status":')); // never ends
 * const result = await sendEvent({ url: server.url, routingKey, event, timeoutMs: 200 });
 * await server.socketClosed; // the client gave up and destroyed its socket
 * await server.close();
 */

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

interface LoopbackServer {
  /** `http://127.0.0.1:<port>/v2/enqueue`: the path the PagerDuty client expects. */
  url: string;
  /** Connections accepted so far. */
  readonly connections: number;
  /** Requests whose body was read in full. */
  readonly requests: number;
  /** Resolves when the first client socket has closed. */
  socketClosed: Promise<void>;
  close(): Promise<void>;
}

/** Starts the server; `answer` runs once each request's body has been read. */
async function startLoopbackServer(
  answer: (req: IncomingMessage, res: ServerResponse, body: string) => void,
): Promise<LoopbackServer> {
  const sockets = new Set<Socket>();
  let connections = 0;
  let requests = 0;
  let closed: () => void = () => {};
  const socketClosed = new Promise<void>((resolve) => {
    closed = resolve;
  });
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      requests++;
      answer(req, res, Buffer.concat(chunks).toString('utf8'));
    });
  });
  server.on('connection', (socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => {
      sockets.delete(socket);
      closed();
    });
  });
  // A client that drops its socket mid-answer makes the server's writes fail; that is the point, not an error.
  server.on('clientError', (_error, socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v2/enqueue`,
    get connections() {
      return connections;
    },
    get requests() {
      return requests;
    },
    socketClosed,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export type { LoopbackServer };
export { startLoopbackServer };
