/**
 * Connections opened during an instance's init, for its first invocation: the TCP (and TLS) handshake to PagerDuty and
 * to Tablestore then runs while the bundle finishes loading and the first request is read, instead of in front of the
 * first send and the first store call. On FC that handshake is the larger part of a first call (TLS over the
 * internet); FC bills init too, and the socket costs nothing while it waits.
 *
 * A keep-alive agent takes such a socket through `createConnection` (the documented way to give an agent its sockets),
 * so the first request of the origin goes out on it and the agent keeps it as one of its own afterwards. A socket that
 * nothing takes within `PRECONNECT_IDLE_MS`, or that fails, is closed and forgotten: the next request connects as
 * before. It never keeps the process alive. It is opened with Node's default TLS options (certificate checked against
 * the host name), the options of every agent that takes one here.
 */
import type { Agent } from 'node:http';
import { connect as netConnect, type Socket } from 'node:net';
import { type TLSSocket, connect as tlsConnect } from 'node:tls';

/**
 * How long an opened socket waits for its first request: the keep-alive agents' own idle timeout
 * (`IDLE_SOCKET_TIMEOUT_MS` in `shared/pagerduty/httpPost.ts`), so a preconnected socket lives no longer than a free one.
 */
const PRECONNECT_IDLE_MS = 4_000;

/** TCP keep-alive probes' initial delay on a taken socket: the agents' `keepAliveMsecs` default. */
const KEEP_ALIVE_PROBE_MS = 1_000;

/** An opened socket waiting for its first request, and the listener that forgets it (removed when it is taken). */
interface Waiting {
  socket: Socket;
  forget: () => void;
}

/** Opened sockets waiting for their first request, one per origin (`https://events.pagerduty.com:443`). */
const waiting = new Map<string, Waiting>();
/** Sockets whose handshake (TCP, and TLS for https) completed before an agent took them. */
const ready = new WeakSet<Socket>();

function originKey(protocol: string, host: string, port: string | number | undefined): string {
  const defaultPort = protocol === 'https:' ? 443 : 80;
  return `${protocol}//${host.toLowerCase()}:${port === undefined || port === '' ? defaultPort : Number(port)}`;
}

/**
 * Starts a connection to the origin of `url` (http or https) for the next request an agent of
 * {@link takingPreconnected} makes there. Does nothing for another protocol, an unparsable URL, or an origin that
 * already has one waiting.
 *
 * @example
 * preconnect('https://events.pagerduty.com/v2/enqueue'); // at init; the first send reuses the socket
 */
function preconnect(url: string): void {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return;
  }
  if (target.protocol !== 'https:' && target.protocol !== 'http:') return;
  const host = target.hostname.replace(/^\[|\]$/g, '');
  const key = originKey(target.protocol, host, target.port);
  if (waiting.has(key)) return;
  const port = Number(target.port || (target.protocol === 'https:' ? 443 : 80));
  const socket: Socket =
    target.protocol === 'https:'
      ? tlsConnect({ host, port, servername: /^[\d.:]+$/.test(host) ? undefined : host })
      : netConnect({ host, port });
  const forget = () => {
    if (waiting.get(key)?.socket === socket) waiting.delete(key);
    socket.destroy();
  };
  socket.once(target.protocol === 'https:' ? 'secureConnect' : 'connect', () => ready.add(socket));
  socket.on('error', forget);
  socket.on('close', forget);
  socket.on('timeout', forget);
  socket.setTimeout(PRECONNECT_IDLE_MS);
  socket.unref();
  waiting.set(key, { socket, forget });
}

/** The waiting socket of this origin, handed over: our listeners off, the agent's from here on. */
function take(key: string): Socket | undefined {
  const entry = waiting.get(key);
  if (entry === undefined) return undefined;
  waiting.delete(key);
  const { socket, forget } = entry;
  if (socket.destroyed) return undefined;
  // Only our own listeners: a TLS socket has its own on 'close' (it frees the TLS state).
  socket.removeListener('error', forget);
  socket.removeListener('close', forget);
  socket.removeListener('timeout', forget);
  socket.setTimeout(0);
  // As the agents' own sockets (their `noDelay` default): without it, Nagle holds a request's second write (the body
  // after the headers) for the previous one's ACK, which costs every later request on this kept-alive socket.
  socket.setNoDelay(true);
  socket.setKeepAlive(true, KEEP_ALIVE_PROBE_MS);
  socket.ref();
  return socket;
}

/**
 * Whether `socket` was preconnected and had finished its handshake when it was handed over: for the first request on
 * it, the connection is established at once, as on a reused keep-alive socket.
 */
function wasReady(socket: Socket | TLSSocket): boolean {
  return ready.has(socket);
}

/**
 * `agent`, made to take the waiting socket of an origin for its first connection there.
 *
 * @example
 * const agent = takingPreconnected(new HttpsAgent({ keepAlive: true }));
 */
function takingPreconnected<A extends Agent>(agent: A): A {
  const protocol = (agent as A & { protocol?: string }).protocol ?? 'http:';
  // biome-ignore lint/suspicious/noExplicitAny: Node's own signature (options, callback), typed loosely in @types/node.
  const create = (agent as any).createConnection.bind(agent) as (...args: any[]) => Socket;
  Object.defineProperty(agent, 'createConnection', {
    configurable: true,
    writable: true,
    value: (options: { host?: string; port?: string | number }, callback?: unknown) =>
      (waiting.size > 0 ? take(originKey(protocol, options.host ?? 'localhost', options.port)) : undefined) ??
      create(options, callback),
  });
  return agent;
}

export { PRECONNECT_IDLE_MS, preconnect, takingPreconnected, wasReady };
