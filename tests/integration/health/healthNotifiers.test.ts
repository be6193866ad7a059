/**
 * The health notifiers over real HTTP on loopback: the self-alert against the fake PagerDuty (trigger on failing,
 * nothing repeated, resolve on recovery, nothing without a key) and the heartbeat against a tiny server started here
 * (healthy path, `/fail`, query kept, timeouts, errors). No routing key or heartbeat token in any result or log line.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Secret } from '../../../shared/config/Secret';
import { type HeartbeatResult, pingHeartbeat } from '../../../shared/health/heartbeat';
import {
  type ReconcileSelfAlertResult,
  reconcileSelfAlert,
  type SelfAlertReport,
  type SelfAlertState,
  selfAlertDedupKey,
} from '../../../shared/health/selfAlert';
import { type HealthVerdict, healthVerdict, type VerdictInput } from '../../../shared/health/verdict';
import { Logger } from '../../../shared/logger';
import { ROUTING_KEY } from '../../support/alerts';
import { fakePagerDutyPerFile } from '../../support/pagerDutyPerFile';

const HEALTH_KEY = 'HEALTHKEYabcdef0123456789ZYXWVUT';
const TIMEOUT_MS = 5_000;
const THRESHOLDS = { maxOutboxAgeSeconds: 900, maxDeadDeliveries: 0, maxFailureRatio: 0.5 };
const REPORT: SelfAlertReport = { deliveries: { PENDING: 4, RETRY: 2 }, oldestWaitingSeconds: 1_000 };

function verdictOf(change: (input: VerdictInput) => void): HealthVerdict {
  const input: VerdictInput = {
    now: Date.now(),
    deliveries: {},
    oldestWaitingSeconds: null,
    window: { delivered: 3, failures: {}, dead: 0 },
    storeReachable: true,
    configProblems: [],
  };
  change(input);
  return healthVerdict(input, THRESHOLDS);
}

const FAILING = verdictOf((input) => {
  input.oldestWaitingSeconds = 1_000;
  input.window.failures = { auth: 3 };
});
const DEGRADED = verdictOf((input) => {
  input.oldestWaitingSeconds = 300;
});
const HEALTHY = verdictOf(() => undefined);

/** Every log line and result of this file, checked for secrets at the end. */
const lines: string[] = [];
const outputs: unknown[] = [];
// No addSecrets: the notifiers must not leak on their own, without the logger's scrubbing.
const logger = new Logger({ service: 'delivery-health', level: 'DEBUG', sink: (line) => lines.push(line) });

describe('Function: reconcileSelfAlert (over HTTP)', () => {
  // Each test reads the requests from an empty list.
  const fake = fakePagerDutyPerFile({
    eachTest: (pd) => {
      pd.requests.length = 0;
    },
  });

  async function reconcile(
    previous: SelfAlertState | undefined,
    verdict: HealthVerdict,
    options: { routingKey?: Secret | null; timeoutMs?: number } = {},
  ): Promise<ReconcileSelfAlertResult> {
    const result = await reconcileSelfAlert({
      previous,
      verdict,
      routingKey: options.routingKey === null ? undefined : (options.routingKey ?? new Secret(HEALTH_KEY)),
      eventsUrl: fake.pd.url,
      timeoutMs: options.timeoutMs ?? TIMEOUT_MS,
      report: REPORT,
      logger,
      instanceName: 'test-bridge',
    });
    outputs.push(result);
    return result;
  }

  it('triggers once on failing, stays quiet while failing or degraded, resolves once on recovery', async () => {
    // Prepare: the verdicts of successive runs
    const runs = [HEALTHY, FAILING, FAILING, DEGRADED, FAILING, HEALTHY, HEALTHY, DEGRADED];
    let state: SelfAlertState | undefined = 'closed';
    const sent: (string | undefined)[] = [];

    // Act
    for (const verdict of runs) {
      const result = await reconcile(state, verdict);
      state = result.state;
      sent.push(result.sent);
    }

    // Assess
    expect(sent).toEqual([undefined, 'trigger', undefined, undefined, undefined, 'resolve', undefined, undefined]);
    expect(state).toBe('closed');
    expect(fake.pd.accepted().map((request) => (request.body as { event_action: string }).event_action)).toEqual([
      'trigger',
      'resolve',
    ]);
    for (const request of fake.pd.events) {
      // Only through the health key, never the main one, and one stable dedup_key.
      expect(request.routingKey).toBe(HEALTH_KEY);
      expect(request.routingKey).not.toBe(ROUTING_KEY);
      expect((request.body as { dedup_key: string }).dedup_key).toBe(selfAlertDedupKey('test-bridge'));
    }
    const trigger = fake.pd.events[0]?.body as { payload: { severity: string; summary: string } };
    expect(trigger.payload.severity).toBe('critical');
    expect(trigger.payload.summary).toContain('is FAILING: PagerDuty refused a routing key');
  });

  it.each([
    { previous: undefined, verdict: FAILING, sent: 'trigger', state: 'open' },
    { previous: undefined, verdict: HEALTHY, sent: 'resolve', state: 'closed' },
    { previous: undefined, verdict: DEGRADED, sent: undefined, state: undefined },
    { previous: 'open', verdict: HEALTHY, sent: 'resolve', state: 'closed' },
    { previous: 'open', verdict: FAILING, sent: undefined, state: 'open' },
    { previous: 'closed', verdict: DEGRADED, sent: undefined, state: 'closed' },
  ] as const)(
    'previous $previous, $verdict.verdict → sends $sent, state $state',
    async ({ previous, verdict, sent, state }) => {
      // Act
      const result = await reconcile(previous, verdict);

      // Assess
      expect(result.sent).toBe(sent);
      expect(result.state).toBe(state);
      expect(fake.pd.events).toHaveLength(sent === undefined ? 0 : 1);
      if (sent !== undefined) expect(result.result).toMatchObject({ ok: true, statusCode: 202 });
    },
  );

  it.each([undefined, 'open', 'closed'] as const)(
    'sends nothing without a health key (previous %s)',
    async (previous) => {
      // Act
      const results = [];
      for (const verdict of [FAILING, DEGRADED, HEALTHY])
        results.push(await reconcile(previous, verdict, { routingKey: null }));

      // Assess
      expect(fake.pd.requests).toHaveLength(0);
      expect(results.map((result) => result.state)).toEqual([previous, previous, previous]);
      expect(results.every((result) => result.sent === undefined && result.result === undefined)).toBe(true);
    },
  );

  it('leaves the state unknown when a trigger fails, so the next failing run triggers again', async () => {
    // Prepare: PagerDuty answers 500 once
    fake.pd.script([{ status: 500 }]);

    // Act
    const failed = await reconcile('closed', FAILING);
    const retried = await reconcile(failed.state, FAILING);

    // Assess
    expect(failed).toMatchObject({ state: undefined, sent: 'trigger', result: { ok: false, reason: 'server' } });
    expect(retried).toMatchObject({ state: 'open', sent: 'trigger', result: { ok: true } });
    expect(lines.some((line) => line.includes('self-alert trigger not accepted by PagerDuty'))).toBe(true);
  });

  it('leaves the state unknown when a resolve times out, so the next healthy run resolves again', async () => {
    // Prepare: the first request hangs
    fake.pd.script([{ hang: true }]);

    // Act
    const failed = await reconcile('open', HEALTHY, { timeoutMs: 200 });
    const retried = await reconcile(failed.state, HEALTHY);

    // Assess
    expect(failed).toMatchObject({ state: undefined, sent: 'resolve', result: { ok: false, reason: 'network' } });
    expect(retried).toMatchObject({ state: 'closed', sent: 'resolve', result: { ok: true } });
  });

  it('reports a refused health key (401) as auth, without the key', async () => {
    // Prepare
    fake.pd.script([{ status: 401, body: { status: 'unauthorized', message: `bad key ${HEALTH_KEY}` } }]);

    // Act
    const result = await reconcile('closed', FAILING);

    // Assess
    expect(result).toMatchObject({ state: undefined, result: { ok: false, reason: 'auth', statusCode: 401 } });
    expect(JSON.stringify(result)).not.toContain(HEALTH_KEY);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Heartbeat
// ---------------------------------------------------------------------------------------------------------------

const TOKEN = '5f1c2e9a-7b3d-4c8e-9f0a-1b2c3d4e5f6a';

interface Ping {
  method: string;
  url: string;
  body: string;
  authorization?: string;
}

/** A Healthchecks-like endpoint: 200 "OK" for any path under /ping/, 404 elsewhere; `hang` answers nothing. */
async function startHeartbeatServer(): Promise<{
  base: string;
  pings: Ping[];
  mode: { hang: boolean; status?: number };
  close: () => Promise<void>;
}> {
  const pings: Ping[] = [];
  const mode: { hang: boolean; status?: number } = { hang: false };
  const sockets = new Set<Socket>();
  const server: Server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      pings.push({
        method: req.method ?? '',
        url: req.url ?? '',
        body: Buffer.concat(chunks).toString('utf8'),
        ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
      });
      if (mode.hang) return;
      const status = mode.status ?? ((req.url ?? '').startsWith('/ping/') ? 200 : 404);
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(status === 200 ? 'OK' : 'not found');
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}`,
    pings,
    mode,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('Function: pingHeartbeat (over HTTP)', () => {
  let hb: Awaited<ReturnType<typeof startHeartbeatServer>>;
  const results: HeartbeatResult[] = [];

  async function ping(url: string, options: Partial<Parameters<typeof pingHeartbeat>[0]> = {}) {
    const result = await pingHeartbeat({ url: new Secret(url), healthy: true, timeoutMs: TIMEOUT_MS, ...options });
    results.push(result);
    outputs.push(result);
    return result;
  }

  beforeAll(async () => {
    hb = await startHeartbeatServer();
  });
  afterEach(() => {
    hb.pings.length = 0;
    hb.mode.hang = false;
    delete hb.mode.status;
  });
  afterAll(async () => {
    await hb.close();
    // No token, URL or routing key in any result or log line of the whole file.
    const everything = JSON.stringify(outputs) + lines.join('\n');
    for (const secret of [TOKEN, HEALTH_KEY, ROUTING_KEY, 'hunter2secret']) expect(everything).not.toContain(secret);
    expect(everything).not.toContain('/ping/');
  });

  it.each([
    { title: 'healthy', suffix: '', healthy: true, expected: `/ping/${TOKEN}` },
    { title: 'failing', suffix: '', healthy: false, expected: `/ping/${TOKEN}/fail` },
    {
      title: 'healthy with a query',
      suffix: '?rid=42&create=1',
      healthy: true,
      expected: `/ping/${TOKEN}?rid=42&create=1`,
    },
    {
      title: 'failing with a query',
      suffix: '?rid=42&create=1',
      healthy: false,
      expected: `/ping/${TOKEN}/fail?rid=42&create=1`,
    },
    { title: 'failing with a trailing slash', suffix: '/', healthy: false, expected: `/ping/${TOKEN}/fail` },
  ])('$title → GET $expected, ok', async ({ suffix, healthy, expected }) => {
    // Act
    const result = await ping(`${hb.base}/ping/${TOKEN}${suffix}`, { healthy });

    // Assess
    expect(result).toEqual({ ok: true, status: 200 });
    expect(hb.pings).toEqual([{ method: 'GET', url: expected, body: '' }]);
  });

  it('POSTs the body when one is given (Healthchecks logs it)', async () => {
    // Act
    const result = await ping(`${hb.base}/ping/${TOKEN}`, { healthy: false, body: 'failing: outbox-age' });

    // Assess
    expect(result.ok).toBe(true);
    expect(hb.pings).toEqual([{ method: 'POST', url: `/ping/${TOKEN}/fail`, body: 'failing: outbox-age' }]);
  });

  it('sends credentials of the URL as a Basic header, not in the URL', async () => {
    // Act
    const result = await ping(`${hb.base.replace('http://', 'http://bridge:hunter2secret@')}/ping/${TOKEN}`);

    // Assess
    expect(result.ok).toBe(true);
    expect(hb.pings[0]?.url).toBe(`/ping/${TOKEN}`);
    expect(hb.pings[0]?.authorization).toBe(`Basic ${Buffer.from('bridge:hunter2secret').toString('base64')}`);
  });

  it.each([404, 500])('answers %i → not ok, with the status and the host only', async (status) => {
    // Prepare
    hb.mode.status = status;

    // Act
    const result = await ping(`${hb.base}/ping/${TOKEN}?rid=1`, { healthy: false });

    // Assess
    expect(result).toEqual({
      ok: false,
      status,
      error: `heartbeat endpoint ${new URL(hb.base).host} answered ${status}`,
    });
  });

  it('times out on a server that never answers', async () => {
    // Prepare
    hb.mode.hang = true;

    // Act
    const result = await ping(`${hb.base}/ping/${TOKEN}`, { timeoutMs: 200 });

    // Assess
    expect(result.ok).toBe(false);
    expect(result.status).toBeUndefined();
    expect(result.error).toBe(`heartbeat ping to ${new URL(hb.base).host} timed out after 200 ms`);
    expect(hb.pings).toHaveLength(1);
  });

  it("stops when the caller's signal fires", async () => {
    // Prepare
    hb.mode.hang = true;
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('deadline')), 100);

    // Act
    const result = await ping(`${hb.base}/ping/${TOKEN}`, { signal: controller.signal });

    // Assess
    expect(result).toEqual({
      ok: false,
      error: `heartbeat ping to ${new URL(hb.base).host} aborted (invocation deadline)`,
    });
  });

  it('reports a refused connection by its code', async () => {
    // Prepare: a port nobody listens on
    const closed = await startHeartbeatServer();
    await closed.close();

    // Act
    const result = await ping(`${closed.base}/ping/${TOKEN}`);

    // Assess
    expect(result).toEqual({ ok: false, error: `heartbeat ping to ${new URL(closed.base).host} failed: ECONNREFUSED` });
  });

  it.each([`not a url /ping/${TOKEN}`, `ftp://127.0.0.1/ping/${TOKEN}`])(
    'refuses an unusable URL without naming it: %s',
    async (url) => {
      // Act
      const result = await ping(url);

      // Assess
      expect(result.ok).toBe(false);
      expect(result.error).toMatch(/^HEARTBEAT_URL is not/);
    },
  );
});
