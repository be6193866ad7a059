/**
 * A fake PagerDuty Events API v2 on 127.0.0.1: a real HTTP server that validates events as PagerDuty does (limits,
 * severity enum, 512 KB, https images), answers with PagerDuty's real bodies (`tests/fixtures/pagerduty/`), records
 * every request with its routing key (so tests can assert routing), and misbehaves on a script: latency, scripted
 * answers, hangs, connection resets, a per-key rate limit.
 *
 * @example
 * const pd = await startFakePagerDuty({ rateLimit: { limit: 2, windowMs: 60_000 } });
 * pd.script([{ status: 500 }, { hang: true }]); // the next two requests; then normal answers again
 * await sendEvent({ url: pd.url, routingKey, event, timeoutMs: 1_000 });
 * expect(pd.events[0]?.routingKey).toBe(routingKey.reveal());
 * await pd.close();
 */

import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import errorBodies from '../fixtures/pagerduty/errorBodies.json';

const ALERT_PATH = '/v2/enqueue';
const CHANGE_PATH = '/v2/change/enqueue';
/** PagerDuty's size limit (reference §1.6). */
const MAX_EVENT_BYTES = 512_000;
const SEVERITIES = ['critical', 'error', 'warning', 'info'];
const ACTIONS = ['trigger', 'acknowledge', 'resolve'];

/** One scripted answer: a status with an optional body, headers and extra delay. */
interface ScriptedReply {
  status: number;
  /** A string is sent as is; an object as JSON. */
  body?: string | Record<string, unknown>;
  headers?: Record<string, string>;
  delayMs?: number;
}
/** A scripted answer, a request left without answer, or a TCP reset. */
type ScriptStep = ScriptedReply | { hang: true } | { reset: true };

interface FakePagerDutyOptions {
  /** Delay before every answer. @default 0 */
  latencyMs?: number;
  /** Per routing key: more than `limit` events within `windowMs` → 429 (not ingested, like PagerDuty). */
  rateLimit?: { limit: number; windowMs: number };
}

/** One request as the fake saw it. */
interface ReceivedRequest {
  path: string;
  /** The `routing_key` of the body, when it had one. */
  routingKey?: string;
  /** The parsed JSON body (undefined when not JSON). */
  body: unknown;
  raw: string;
  bytes: number;
  /** What the fake answered: a status, or `hang` / `reset`. */
  outcome: number | 'hang' | 'reset';
}

interface FakePagerDuty {
  /** The alert events URL (`…/v2/enqueue`). */
  url: string;
  /** The change events URL (`…/v2/change/enqueue`). */
  changeUrl: string;
  /** Every request to the alert events URL, in arrival order (accepted or not). */
  readonly events: ReceivedRequest[];
  /** Every request to the change events URL. */
  readonly changeEvents: ReceivedRequest[];
  /** Every request, any path. */
  readonly requests: ReceivedRequest[];
  /** Connections accepted so far: one per client socket, so keep-alive reuse shows as fewer connections than requests. */
  readonly connections: number;
  /** Alert events answered 202. */
  accepted(): ReceivedRequest[];
  /** Queues answers for the next requests (any path); normal validation resumes when the queue is empty. */
  script(steps: ScriptStep[]): void;
  /** Drops the scripted answers not used yet. */
  clearScript(): void;
  setLatency(ms: number): void;
  close(): Promise<void>;
}

function codePoints(value: string): number {
  return Array.from(value).length;
}

function isBlank(value: unknown): boolean {
  return typeof value !== 'string' || value.trim() === '';
}

/** PagerDuty's checks of an alert event, in PagerDuty's wording where it is known (see the fixture file). */
function alertEventErrors(event: Record<string, unknown>): string[] {
  const errors: string[] = [];
  if (isBlank(event.routing_key)) errors.push("'routing_key' is missing or blank");
  else if ((event.routing_key as string).length !== 32) errors.push("'routing_key' is invalid");
  const action = event.event_action;
  if (!ACTIONS.includes(action as string)) {
    errors.push("'event_action' is invalid (must be one of the following: 'trigger', 'acknowledge' or 'resolve')");
  }
  if (event.dedup_key !== undefined) {
    if (typeof event.dedup_key !== 'string') errors.push("'dedup_key' is invalid");
    else if (event.dedup_key.length > 255) errors.push("'dedup_key' is too long (maximum is 255 characters)");
  } else if (action === 'acknowledge' || action === 'resolve') {
    errors.push("'dedup_key' is missing or blank");
  }
  const payload = event.payload as Record<string, unknown> | undefined;
  if (action === 'trigger' || payload !== undefined) {
    if (payload === null || typeof payload !== 'object') {
      errors.push("'payload' is missing or blank");
    } else {
      if (isBlank(payload.summary)) errors.push("'payload.summary' is missing or blank");
      else if (codePoints(payload.summary as string) > 1024) {
        errors.push(errorBodies.summaryTooLong.body.errors[0] as string);
      }
      if (isBlank(payload.source)) errors.push(errorBodies.sourceBlank.body.errors[0] as string);
      if (isBlank(payload.severity)) errors.push(errorBodies.severityMissing.body.errors[0] as string);
      else if (!SEVERITIES.includes(payload.severity as string)) {
        errors.push(errorBodies.severityInvalid.body.errors[0] as string);
      }
      if (payload.timestamp !== undefined && Number.isNaN(Date.parse(String(payload.timestamp)))) {
        errors.push("'payload.timestamp' is invalid");
      }
    }
  }
  if (event.images !== undefined) {
    const images = Array.isArray(event.images) ? event.images : [null];
    images.forEach((image: { src?: unknown } | null, index) => {
      if (typeof image?.src !== 'string' || !image.src.startsWith('https://')) {
        errors.push(`'images[${index}].src' must be an https URL`);
      }
    });
  }
  if (event.links !== undefined) {
    const links = Array.isArray(event.links) ? event.links : [null];
    links.forEach((link: { href?: unknown } | null, index) => {
      if (isBlank(link?.href)) errors.push(`'links[${index}].href' is missing or blank`);
    });
  }
  return errors;
}

function changeEventErrors(event: Record<string, unknown>): string[] {
  const errors: string[] = [];
  if (isBlank(event.routing_key)) errors.push("'routing_key' is missing or blank");
  const payload = event.payload as Record<string, unknown> | undefined;
  if (payload === null || typeof payload !== 'object') errors.push("'payload' is missing or blank");
  else if (isBlank(payload.summary)) errors.push("'payload.summary' is missing or blank");
  else if (codePoints(payload.summary as string) > 1024)
    errors.push(errorBodies.summaryTooLong.body.errors[0] as string);
  if (event.images !== undefined) errors.push("'images' is not supported for change events");
  return errors;
}

function invalidEvent(errors: string[]): ScriptedReply {
  return { status: 400, body: { status: 'invalid event', message: 'Event object is invalid', errors } };
}

async function startFakePagerDuty(options: FakePagerDutyOptions = {}): Promise<FakePagerDuty> {
  let latencyMs = options.latencyMs ?? 0;
  const queue: ScriptStep[] = [];
  const requests: ReceivedRequest[] = [];
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const sentPerKey = new Map<string, number[]>();
  let connections = 0;

  function rateLimited(routingKey: string): boolean {
    const limit = options.rateLimit;
    if (!limit) return false;
    const now = Date.now();
    const recent = (sentPerKey.get(routingKey) ?? []).filter((at) => now - at < limit.windowMs);
    sentPerKey.set(routingKey, recent);
    if (recent.length >= limit.limit) return true;
    recent.push(now);
    return false;
  }

  /** PagerDuty's answer to a request nobody scripted. */
  function normalReply(path: string, raw: string, body: unknown): ScriptedReply {
    if (path !== ALERT_PATH && path !== CHANGE_PATH) return { status: 404, body: 'Not Found' };
    if (Buffer.byteLength(raw, 'utf8') > MAX_EVENT_BYTES) {
      return invalidEvent([`Event is too large (maximum is ${MAX_EVENT_BYTES} bytes)`]);
    }
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      return { status: errorBodies.unparsable.status, body: errorBodies.unparsable.body };
    }
    const event = body as Record<string, unknown>;
    const errors = path === ALERT_PATH ? alertEventErrors(event) : changeEventErrors(event);
    if (errors.length > 0) return invalidEvent(errors);
    if (rateLimited(event.routing_key as string)) {
      return { status: errorBodies.rateLimited.status, body: errorBodies.rateLimited.text };
    }
    const reply: Record<string, unknown> = { status: 'success', message: 'Event processed' };
    if (path === ALERT_PATH) reply.dedup_key = (event.dedup_key as string | undefined) ?? randomUUID();
    return { status: 202, body: reply };
  }

  function answer(res: ServerResponse, reply: ScriptedReply): void {
    const text = typeof reply.body === 'string' ? reply.body : reply.body ? JSON.stringify(reply.body) : '';
    const type = typeof reply.body === 'object' ? 'application/json' : 'text/plain';
    res.writeHead(reply.status, { 'content-type': type, ...reply.headers });
    res.end(text);
  }

  function later(ms: number, action: () => void): void {
    if (ms <= 0) {
      action();
      return;
    }
    const timer = setTimeout(() => {
      timers.delete(timer);
      action();
    }, ms);
    timers.add(timer);
  }

  function handle(req: IncomingMessage, res: ServerResponse, raw: string): void {
    const path = new URL(req.url ?? '/', 'http://fake').pathname;
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      body = undefined;
    }
    const routingKey = (body as { routing_key?: unknown } | undefined)?.routing_key;
    const record: ReceivedRequest = {
      path,
      body,
      raw,
      bytes: Buffer.byteLength(raw, 'utf8'),
      outcome: 0,
      ...(typeof routingKey === 'string' ? { routingKey } : {}),
    };
    requests.push(record);
    const step = queue.shift();
    if (step && 'hang' in step) {
      record.outcome = 'hang';
      return;
    }
    if (step && 'reset' in step) {
      record.outcome = 'reset';
      req.socket.resetAndDestroy();
      return;
    }
    const reply =
      req.method !== 'POST' ? { status: 405, body: 'Method Not Allowed' } : (step ?? normalReply(path, raw, body));
    record.outcome = reply.status;
    later(latencyMs + (reply.delayMs ?? 0), () => answer(res, reply));
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => handle(req, res, Buffer.concat(chunks).toString('utf8')));
  });
  server.on('connection', (socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const base = `http://127.0.0.1:${port}`;

  return {
    url: base + ALERT_PATH,
    changeUrl: base + CHANGE_PATH,
    get events() {
      return requests.filter((request) => request.path === ALERT_PATH);
    },
    get changeEvents() {
      return requests.filter((request) => request.path === CHANGE_PATH);
    },
    requests,
    get connections() {
      return connections;
    },
    accepted: () => requests.filter((request) => request.path === ALERT_PATH && request.outcome === 202),
    script: (steps) => {
      queue.push(...steps);
    },
    clearScript: () => {
      queue.length = 0;
    },
    setLatency: (ms) => {
      latencyMs = ms;
    },
    close: async () => {
      for (const timer of timers) clearTimeout(timer);
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export type { FakePagerDuty, FakePagerDutyOptions, ReceivedRequest, ScriptStep };
export { startFakePagerDuty };
