/**
 * One HTTP POST on `node:http` / `node:https` through one keep-alive agent per origin, with what a sender of alerts
 * needs from its transport: a bounded answer, one budget for the whole exchange, an abort that destroys the request,
 * no redirects (Node's clients never follow one), and a record of whether the request may have left the machine.
 * Never throws and never rejects: every outcome is an {@link HttpPostResult}.
 *
 * Why not `fetch`: undici took about half of the webhook's CPU per sent alert and most of its heap at a 1,000-alert
 * peak; this client answered a 100-alert callback in 255 ms where fetch took 832 ms (issue #12).
 */

import {
  type ClientRequest,
  Agent as HttpAgent,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
} from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import { takingPreconnected, wasReady } from '../preconnect';

/**
 * Sockets one origin may hold open at once: well above the 32 sends a sender keeps in flight, low enough that a burst cannot
 * open hundreds of connections to PagerDuty; further requests wait in the agent's queue (inside their own budget).
 */
const MAX_SOCKETS_PER_ORIGIN = 64;
/**
 * How long an idle kept-alive socket stays in the pool: undici's default `keepAliveTimeout`, which the bridge had
 * before. Node's agent shortens it to the server's `Keep-Alive: timeout=…` hint minus one second when that is lower,
 * so a socket is dropped before the server would close it under a new request.
 */
const IDLE_SOCKET_TIMEOUT_MS = 4_000;

/** The keep-alive agents, one per origin (`https://events.pagerduty.com`), for the life of the instance. */
const agents = new Map<string, HttpAgent>();

function agentFor(url: URL): HttpAgent {
  let agent = agents.get(url.origin);
  if (!agent) {
    const options = {
      keepAlive: true,
      maxSockets: MAX_SOCKETS_PER_ORIGIN,
      // LIFO reuses the socket used last, so a quiet period lets the others reach the idle timeout and close.
      scheduling: 'lifo' as const,
      timeout: IDLE_SOCKET_TIMEOUT_MS,
    };
    // The socket init opened to this origin (`preconnect`), if any, carries the first request.
    agent = takingPreconnected(url.protocol === 'https:' ? new HttpsAgent(options) : new HttpAgent(options));
    agents.set(url.origin, agent);
  }
  return agent;
}

/** Options of {@link httpPost}. */
interface HttpPostOptions {
  /** Request headers; `content-length` is set from the body. */
  headers: Record<string, string>;
  body: Buffer;
  /** Budget of the whole exchange: connecting, sending, and reading the answer. */
  timeoutMs: number;
  /** Another reason to stop (the invocation deadline); aborting destroys the request. */
  signal?: AbortSignal;
  /** Bytes of the answer's body kept; on reaching them the response is destroyed and the rest never read. */
  maxResponseBytes: number;
  /**
   * Called once, when the whole request (headers and body) has been handed to the operating system: from then on the
   * server may act on it whatever happens to the answer. Called from a socket event, so it must not throw.
   */
  onSent?: () => void;
}

/** How an exchange ended without an answer. */
type HttpFailure = 'timeout' | 'aborted' | 'network';

/**
 * An answer (any status: a 3xx is an answer, never followed) or a failure. `onWire` tells whether the request may have
 * reached the server: true from the moment its connection is established (a fresh socket's connect, after the TLS
 * handshake for HTTPS, or at once on a reused keep-alive socket); false when it failed or was stopped before that
 * (refused, DNS, TLS, aborted while connecting), so the server cannot have seen it.
 */
type HttpPostResult =
  | { ok: true; status: number; headers: IncomingHttpHeaders; body: string; onWire: true }
  | {
      ok: false;
      failure: HttpFailure;
      /** `TimeoutError`, `AbortError`, or a network error with the socket error (`ECONNREFUSED`…) in `cause`. */
      error: Error;
      onWire: boolean;
    };

function timeoutError(): Error {
  return Object.assign(new Error('request timeout'), { name: 'TimeoutError' });
}

function abortError(signal: AbortSignal): Error {
  const reason = signal.reason instanceof Error ? signal.reason.message : String(signal.reason);
  return Object.assign(new Error(`aborted: ${reason}`), { name: 'AbortError' });
}

/** The socket error (`ECONNREFUSED`, `ECONNRESET`…) kept in `cause`, like undici's, for the message. */
function networkError(error: unknown): Error {
  return new Error('request failed', { cause: error });
}

/**
 * POSTs `body` to `url` and reads at most `maxResponseBytes` of the answer, all within `timeoutMs` and until `signal`.
 *
 * @example
 * const result = await httpPost('https://events.pagerduty.com/v2/enqueue', {
 *   headers: { 'content-type': 'application/json' }, body: Buffer.from(json), timeoutMs: 2_000,
 *   maxResponseBytes: 64 * 1024, signal,
 * });
 * if (!result.ok && !result.onWire) console.log('never reached the server: safe to send again');
 */
function httpPost(url: string, options: HttpPostOptions): Promise<HttpPostResult> {
  return new Promise<HttpPostResult>((resolve) => {
    let target: URL;
    try {
      target = new URL(url);
    } catch (error) {
      resolve({ ok: false, failure: 'network', error: networkError(error), onWire: false });
      return;
    }
    const request = target.protocol === 'https:' ? httpsRequest : target.protocol === 'http:' ? httpRequest : undefined;
    if (!request) {
      const error = networkError(new Error(`unsupported protocol ${target.protocol}`));
      resolve({ ok: false, failure: 'network', error, onWire: false });
      return;
    }
    const { signal } = options;
    if (signal?.aborted) {
      resolve({ ok: false, failure: 'aborted', error: abortError(signal), onWire: false });
      return;
    }

    let onWire = false;
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const settle = (result: HttpPostResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      resolve(result);
    };
    const fail = (failure: HttpFailure, error: Error) => settle({ ok: false, failure, error, onWire });

    let req: ClientRequest;
    try {
      req = request(target, {
        method: 'POST',
        agent: agentFor(target),
        headers: { ...options.headers, 'content-length': String(options.body.byteLength) },
      });
    } catch (error) {
      // An invalid header value, say: nothing was sent.
      fail('network', networkError(error));
      return;
    }
    // Settle first, then destroy: the error the destroy emits finds the exchange already decided.
    const stop = (failure: HttpFailure, error: Error) => {
      fail(failure, error);
      req.destroy();
    };
    timer = setTimeout(() => stop('timeout', timeoutError()), options.timeoutMs);
    const onAbort = () => stop('aborted', abortError(signal as AbortSignal));
    signal?.addEventListener('abort', onAbort, { once: true });

    req.on('socket', (socket: Socket) => {
      // A reused keep-alive socket, or one preconnected at init that has finished its handshake: connected already.
      if (req.reusedSocket || wasReady(socket)) {
        onWire = true;
        return;
      }
      socket.once(socket instanceof TLSSocket ? 'secureConnect' : 'connect', () => {
        onWire = true;
      });
    });
    req.on('finish', () => {
      onWire = true;
      if (!settled) options.onSent?.();
    });
    req.on('error', (error) => fail('network', networkError(error)));
    req.on('response', (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const answer = () =>
        settle({
          ok: true,
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8'),
          onWire: true,
        });
      res.on('data', (chunk: Buffer) => {
        if (settled) return;
        const room = options.maxResponseBytes - size;
        chunks.push(chunk.byteLength > room ? chunk.subarray(0, room) : chunk);
        size += Math.min(chunk.byteLength, room);
        if (size >= options.maxResponseBytes) {
          // Enough read: settle with what is kept, and drop the socket rather than drain an unbounded rest.
          answer();
          res.destroy();
        }
      });
      res.on('end', answer);
      res.on('error', (error) => fail('network', networkError(error)));
      res.on('close', () => {
        if (!res.complete) fail('network', networkError(new Error('connection closed before the end of the answer')));
      });
    });
    req.end(options.body);
  });
}

export type { HttpFailure, HttpPostOptions, HttpPostResult };
export { httpPost };
