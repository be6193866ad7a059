/**
 * A loopback HTTP proxy in front of the fake PagerDuty that fails ONE routing key on demand.
 *
 * The fake's `script()` answers the next requests whatever their key, so it cannot make PagerDuty fail for the alerts'
 * key while the bridge's own health key keeps working. This proxy can: while `failing` is true, a request whose JSON
 * body has `routing_key === failingKey` is answered `500` with PagerDuty's error body and never reaches the fake; every
 * other request (any key, any path, or `failing` false) is forwarded unchanged to the fake, and the fake's answer is
 * passed back. Every request is recorded with its routing key and what was answered.
 *
 * @example
 * const pd = await startFakePagerDuty();
 * const proxy = await startKeyFailingProxy({ target: pd.url, failingKey: MAIN_KEY });
 * // PAGERDUTY_EVENTS_URL = proxy.url
 * proxy.failing = false; // PagerDuty "recovers" for MAIN_KEY
 * await proxy.close();
 */
import { createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** One request as the proxy saw it. */
interface ProxiedRequest {
  path: string;
  routingKey?: string;
  /** The `dedup_key` of the body, when it had one. */
  dedupKey?: string;
  /** The HTTP status answered: 500 when failed here, the fake's status when forwarded (0: forwarding failed). */
  status: number;
  /** True when the proxy answered 500 itself. */
  failedHere: boolean;
}

interface KeyFailingProxy {
  /** The proxy's URL for the target's path (same path as `target`). */
  url: string;
  /** While true, requests with `failingKey` get 500. Starts true. */
  failing: boolean;
  readonly requests: ProxiedRequest[];
  close(): Promise<void>;
}

/** PagerDuty's body for a server error (what its Events API answers on a 5xx). */
const SERVER_ERROR_BODY = JSON.stringify({ status: 'error', message: 'Internal Server Error' });

async function startKeyFailingProxy(options: { target: string; failingKey: string }): Promise<KeyFailingProxy> {
  const target = new URL(options.target);
  const requests: ProxiedRequest[] = [];
  const sockets = new Set<Socket>();
  const state = { failing: true };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const path = req.url ?? '/';
      let body: { routing_key?: unknown; dedup_key?: unknown } = {};
      try {
        body = JSON.parse(raw.toString('utf8')) ?? {};
      } catch {
        body = {};
      }
      const routingKey = typeof body.routing_key === 'string' ? body.routing_key : undefined;
      const record: ProxiedRequest = {
        path,
        status: 0,
        failedHere: false,
        ...(routingKey !== undefined ? { routingKey } : {}),
        ...(typeof body.dedup_key === 'string' ? { dedupKey: body.dedup_key } : {}),
      };
      requests.push(record);
      if (state.failing && routingKey === options.failingKey) {
        record.status = 500;
        record.failedHere = true;
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(SERVER_ERROR_BODY);
        return;
      }
      const headers: Record<string, string> = {};
      const contentType = req.headers['content-type'];
      if (contentType) headers['content-type'] = contentType;
      fetch(new URL(path, target), {
        method: req.method ?? 'POST',
        headers,
        body: raw,
        signal: AbortSignal.timeout(5_000),
      })
        .then(async (answer) => {
          const body = Buffer.from(await answer.arrayBuffer());
          record.status = answer.status;
          res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'text/plain' });
          res.end(body);
        })
        .catch(() => {
          res.destroy();
        });
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}${target.pathname}`,
    get failing() {
      return state.failing;
    },
    set failing(value: boolean) {
      state.failing = value;
    },
    requests,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export type { KeyFailingProxy, ProxiedRequest };
export { startKeyFailingProxy };
