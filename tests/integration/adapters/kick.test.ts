/**
 * The kick (shared/kick/: `kickFunction`, `KickGate`, `createKicker`): an asynchronous FC 3.0 invocation through `@alicloud/fc2`'s signed request.
 *
 * (a) `kickFunction` against a loopback server playing FC: the exact request (method, path, headers, signature), and
 *     every failure (4xx, 5xx, hang) answered `ok: false` without a throw and without a credential in any output;
 * (b) the `overrides` axios is what fc2 loads at runtime, and the API fc2 calls on it still works;
 * (c) the local runtime's FC invoke API emulation, directly and through a bundled webhook stand-in that kicks with the
 *     real code path (fc2 bundled by esbuild, `FUNCTION_COMPUTE_ENDPOINT` set by the runtime).
 */
import { createHash, createHmac } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Secret } from '../../../shared/config/Secret';
import type { CloudCredentials } from '../../../shared/fc/credentials';
import { createKicker } from '../../../shared/kick/createKicker';
import { type KickFunctionOptions, type KickResult, kickFunction } from '../../../shared/kick/kickFunction';
import { Logger } from '../../../shared/logger';
import { MemoryStore } from '../../../shared/store/MemoryStore';
import { startFakePagerDuty } from '../../support/fakePagerDuty';
import { type RunningRuntime, startRuntime } from '../../support/runtime';
import { webhookHarness } from '../../support/webhook';

const ROOT = join(__dirname, '..', '..', '..');
const nodeRequire = createRequire(__filename);

const ACCESS_KEY_ID = 'STS.kickTestAccessKeyId0001';
const ACCESS_KEY_SECRET = 'kick-test-access-key-secret-0002';
const SECURITY_TOKEN = 'kick-test-security-token-0003';
const CREDENTIAL_VALUES = [ACCESS_KEY_ID, ACCESS_KEY_SECRET, SECURITY_TOKEN];
const INVOKE_PATH = '/2023-03-30/functions/delivery-health/invocations';

interface Captured {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A loopback FC: records each request and answers as `respond` says (`'hang'` never answers). */
async function startFakeFc(respond: (request: Captured) => 'hang' | { status: number; json?: unknown }) {
  const requests: Captured[] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const captured = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(captured);
      const answer = respond(captured);
      if (answer === 'hang') return;
      res.statusCode = answer.status;
      res.setHeader('x-fc-request-id', `fake-${requests.length}`);
      if (answer.json !== undefined) {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify(answer.json));
      } else {
        res.end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A real Logger writing into an array: what would reach FC's log service. */
function captureLogger() {
  const lines: string[] = [];
  return { lines, logger: new Logger({ service: 'kick-test', level: 'DEBUG', sink: (line) => lines.push(line) }) };
}

function credentials(withToken: boolean): CloudCredentials {
  return {
    accessKeyId: new Secret(ACCESS_KEY_ID),
    accessKeySecret: new Secret(ACCESS_KEY_SECRET),
    securityToken: withToken ? new Secret(SECURITY_TOKEN) : undefined,
  };
}

/** FC's signature (fc2 lib/helper.js `composeStringToSign`), recomputed independently from the captured request. */
function expectedAuthorization(request: Captured, secret: string, keyId = ACCESS_KEY_ID): string {
  const h = request.headers;
  const fcHeaders = Object.keys(h)
    .filter((name) => name.startsWith('x-fc-'))
    .sort()
    .map((name) => `${name}:${h[name]}\n`)
    .join('');
  const stringToSign = `POST\n${h['content-md5'] ?? ''}\n${h['content-type'] ?? ''}\n${h.date}\n${fcHeaders}${INVOKE_PATH}`;
  return `FC ${keyId}:${createHmac('sha256', secret).update(stringToSign, 'utf8').digest('base64')}`;
}

function expectNoCredentials(texts: string[]): void {
  for (const text of texts) {
    for (const value of CREDENTIAL_VALUES) expect(text).not.toContain(value);
  }
}

function kickOptions(endpoint: string, logger: Logger, extra: Partial<KickFunctionOptions> = {}): KickFunctionOptions {
  return {
    functionName: 'delivery-health',
    endpoint,
    accountId: '1234567890123456',
    region: 'cn-shanghai',
    credentials: credentials(true),
    timeoutMs: 1_000,
    reason: 'deadline',
    logger,
    ...extra,
  };
}

describe('Module: shared/kick', () => {
  it('does not load @alicloud/fc2 when imported (the webhook cold start does not pay for it)', () => {
    // Assess: the module is imported at the top of this file; no kick has run yet
    expect(Object.keys(nodeRequire.cache).some((path) => path.includes('@alicloud/fc2'))).toBe(false);
  });
});

describe('Function: kickFunction against a loopback FC', () => {
  it('sends FC 3.0 async invoke: POST /2023-03-30/functions/{name}/invocations, Async, signed like FC', async () => {
    // Prepare
    const fc = await startFakeFc(() => ({ status: 202 }));
    const { lines, logger } = captureLogger();
    try {
      // Act
      const result = await kickFunction(kickOptions(fc.endpoint, logger));

      // Assess
      expect(result).toEqual({ ok: true, requestId: 'fake-1' });
      expect(fc.requests).toHaveLength(1);
      const [request] = fc.requests as [Captured];
      expect(request.method).toBe('POST');
      expect(request.url).toBe(INVOKE_PATH);
      expect(request.headers).toMatchObject({
        'x-fc-invocation-type': 'Async',
        'x-fc-account-id': '1234567890123456',
        'x-fc-security-token': SECURITY_TOKEN,
        'content-type': 'application/octet-stream',
        connection: 'close',
        accept: 'application/json',
      });
      expect(request.headers.authorization).toMatch(/^FC STS\.kickTestAccessKeyId0001:[A-Za-z0-9+/]+=*$/);
      expect(request.headers.authorization).toBe(expectedAuthorization(request, ACCESS_KEY_SECRET));
      const md5 = Buffer.from(createHash('md5').update(request.body).digest('hex')).toString('base64');
      expect(request.headers['content-md5']).toBe(md5);
      expect(new Date(String(request.headers.date)).getTime()).toBeGreaterThan(Date.now() - 60_000);
      const event = JSON.parse(request.body);
      expect(event).toEqual({ triggerTime: expect.any(String), triggerName: 'kick', payload: 'deadline' });
      expect(lines.some((line) => line.includes('kicked function'))).toBe(true);
      expectNoCredentials([...lines, JSON.stringify(result)]);
    } finally {
      await fc.close();
    }
  });

  it('sends the STS token header for any key id when a token is given, and none without one', async () => {
    // Prepare
    const fc = await startFakeFc(() => ({ status: 202 }));
    const { lines, logger } = captureLogger();
    const plainKeyId = 'LTAIplainKeyId0004';
    const plain = (token: boolean) => ({ ...credentials(token), accessKeyId: new Secret(plainKeyId) });
    try {
      // Act
      const withToken = await kickFunction(kickOptions(fc.endpoint, logger, { credentials: plain(true) }));
      const withoutToken = await kickFunction(kickOptions(fc.endpoint, logger, { credentials: plain(false) }));
      const stsWithoutToken = await kickFunction(kickOptions(fc.endpoint, logger, { credentials: credentials(false) }));

      // Assess
      expect([withToken.ok, withoutToken.ok]).toEqual([true, true]);
      expect(fc.requests[0]?.headers['x-fc-security-token']).toBe(SECURITY_TOKEN);
      expect(fc.requests[1]?.headers['x-fc-security-token']).toBeUndefined();
      expect(fc.requests[1]?.headers.authorization).toBe(
        expectedAuthorization(fc.requests[1] as Captured, ACCESS_KEY_SECRET, plainKeyId),
      );
      // fc2 refuses an STS key id without its token before sending anything: a result, not a throw.
      expect(stsWithoutToken).toMatchObject({ ok: false, error: expect.stringContaining('securityToken') });
      expect(fc.requests).toHaveLength(2);
      expectNoCredentials([...lines, JSON.stringify(stsWithoutToken)]);
    } finally {
      await fc.close();
    }
  });

  it.each([
    [400, 'InvalidArgument'],
    [403, 'AccessDenied'],
    [404, 'FunctionNotFound'],
    [429, 'ResourceThrottled'],
    [500, 'InternalServerError'],
    [503, 'ServiceUnavailable'],
  ])('answers ok: false with the status on %i, without throwing or leaking credentials', async (status, code) => {
    // Prepare
    const fc = await startFakeFc(() => ({
      status,
      json: { ErrorCode: code, ErrorMessage: `refused; your key ${ACCESS_KEY_ID} and ${SECURITY_TOKEN}` },
    }));
    const { lines, logger } = captureLogger();
    try {
      // Act
      const result = await kickFunction(kickOptions(fc.endpoint, logger));

      // Assess
      expect(result.ok).toBe(false);
      expect(result.status).toBe(status);
      expect(result.error).toContain(`FC${code}Error`);
      expect(result.error).toContain('<secret>');
      expectNoCredentials([...lines, JSON.stringify(result)]);
    } finally {
      await fc.close();
    }
  });

  it('gives up on a hang within its timeout, without throwing', async () => {
    // Prepare
    const fc = await startFakeFc(() => 'hang');
    const { lines, logger } = captureLogger();
    const started = Date.now();
    try {
      // Act
      const result = await kickFunction(kickOptions(fc.endpoint, logger, { timeoutMs: 300 }));

      // Assess
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(result.ok).toBe(false);
      expect(result.error).toMatch(/timeout|no answer/i);
      expect(fc.requests).toHaveLength(1);
      expectNoCredentials([...lines, JSON.stringify(result)]);
    } finally {
      await fc.close();
    }
  });

  it('answers ok: false when nothing listens, and when there are no credentials (no request then)', async () => {
    // Prepare
    const fc = await startFakeFc(() => ({ status: 202 }));
    const { logger } = captureLogger();
    await fc.close();

    // Act
    const refused = await kickFunction(kickOptions(fc.endpoint, logger));
    const anonymous = await kickFunction(kickOptions(fc.endpoint, logger, { credentials: undefined }));

    // Assess
    expect(refused).toMatchObject({ ok: false, error: expect.stringContaining('ECONNREFUSED') });
    expect(anonymous).toMatchObject({ ok: false, error: expect.stringContaining('no credentials') });
  });
});

describe('Function: createKicker', () => {
  function setup(results: KickResult[]) {
    let clock = 1_000_000;
    const calls: KickFunctionOptions[] = [];
    const { lines, logger } = captureLogger();
    const kicker = createKicker({
      functionName: 'delivery-health',
      endpoint: 'http://127.0.0.1:1',
      credentials: { accessKeyId: new Secret(ACCESS_KEY_ID), accessKeySecret: new Secret(ACCESS_KEY_SECRET) },
      minIntervalMs: 10_000,
      logger,
      now: () => clock,
      invoke: async (options) => {
        calls.push(options);
        return results.shift() ?? { ok: true };
      },
    });
    return { kicker, calls, lines, advance: (ms: number) => (clock += ms) };
  }
  const context = (requestId: string) => ({ requestId, accountId: '123', region: 'cn-hangzhou' });

  it('kicks at most once per invocation and once per interval on an instance', async () => {
    // Prepare
    const { kicker, calls, advance } = setup([]);

    // Act
    const first = await kicker.kick('deadline', context('r1'));
    const sameInvocation = await kicker.kick('rate-limited', context('r1'));
    advance(5_000);
    const tooSoon = await kicker.kick('deadline', context('r2'));
    advance(5_000);
    const later = await kicker.kick('deadline', context('r3'));

    // Assess
    expect(first).toEqual({ ok: true });
    expect(sameInvocation).toEqual({ ok: true, skipped: 'invocation' });
    expect(tooSoon).toEqual({ ok: true, skipped: 'interval' });
    expect(later).toEqual({ ok: true });
    expect(calls).toHaveLength(2);
    expect(calls[0]).toMatchObject({ functionName: 'delivery-health', accountId: '123', region: 'cn-hangzhou' });
    expect(calls[0]?.credentials?.accessKeySecret.reveal()).toBe(ACCESS_KEY_SECRET);
  });

  it('prefers the FC context credentials to the configured ones', async () => {
    // Prepare
    const { kicker, calls } = setup([]);

    // Act
    await kicker.kick('deadline', {
      ...context('r1'),
      credentials: { accessKeyId: 'STS.ctx', accessKeySecret: 'ctx-secret', securityToken: 'ctx-token' },
    });

    // Assess
    expect(calls[0]?.credentials?.accessKeyId.reveal()).toBe('STS.ctx');
    expect(calls[0]?.credentials?.securityToken?.reveal()).toBe('ctx-token');
  });

  it('warns once per distinct failure, so a misconfigured role does not flood the log', async () => {
    // Prepare
    const denied = { ok: false, status: 403, error: 'FCAccessDeniedError: denied' };
    const { kicker, lines, advance } = setup([denied, denied, { ok: false, status: 500, error: 'FCInternalError: x' }]);

    // Act
    for (const id of ['r1', 'r2', 'r3']) {
      await kicker.kick('deadline', context(id));
      advance(10_000);
    }

    // Assess
    const warnings = lines.filter((line) => line.includes('"level":"WARN"'));
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toContain('FCAccessDeniedError');
    expect(warnings[1]).toContain('FCInternalError');
    expectNoCredentials(lines);
  });
});

describe('Dependencies: the axios override', () => {
  it('is the axios fc2 really loads, in a fixed 1.x version', () => {
    // Prepare
    const pinned = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).overrides.axios as string;
    const fc2Require = createRequire(nodeRequire.resolve('@alicloud/fc2/package.json'));

    // Act
    const axiosEntry = fc2Require.resolve('axios');
    let dir = dirname(axiosEntry);
    while (
      !existsSync(join(dir, 'package.json')) ||
      !readFileSync(join(dir, 'package.json'), 'utf8').includes('"axios"')
    )
      dir = dirname(dir);
    const version = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).version as string;

    // Assess
    expect(version).toBe(pinned);
    expect(Number(version.split('.')[0])).toBeGreaterThanOrEqual(1);
  });

  it("still serves fc2's only axios call: axios.get(url) → response.data parsed as JSON", async () => {
    // Prepare: fc2 calls `axios.get('https://127.0.0.1/sts')` and reads `.data.credentials` (OSS STS refresh)
    const fc = await startFakeFc(() => ({ status: 200, json: { credentials: { AccessKeyId: 'id-from-sts' } } }));
    const axios = createRequire(nodeRequire.resolve('@alicloud/fc2/package.json'))('axios') as {
      get(url: string): Promise<{ data: { credentials: { AccessKeyId: string } } }>;
    };
    try {
      // Act
      const response = await axios.get(`${fc.endpoint}/sts`);

      // Assess
      expect(response.data.credentials.AccessKeyId).toBe('id-from-sts');
    } finally {
      await fc.close();
    }
  });
});

/** delivery-health stand-in: takes a while, then reports the event it got. */
const HEALTH_STANDIN = `
exports.handler = async (event, context) => {
  await new Promise((resolve) => setTimeout(resolve, 300));
  return { verdict: 'healthy', isBuffer: Buffer.isBuffer(event), event: JSON.parse(event.toString('utf8') || 'null') };
};
`;

/** alert-webhook stand-in: kicks delivery-health through the real module (bundled with fc2 by esbuild). */
const WEBHOOK_ENTRY = (modulePath: string) => `
import { createKicker } from ${JSON.stringify(modulePath)};
const logger = {
  debug: (message, extra) => console.log(JSON.stringify({ level: 'DEBUG', message, ...extra })),
  info: (message, extra) => console.log(JSON.stringify({ level: 'INFO', message, ...extra })),
  warn: (message, extra) => console.log(JSON.stringify({ level: 'WARN', message, ...extra })),
};
const kicker = createKicker({
  functionName: process.env.HEALTH_FUNCTION_NAME || 'delivery-health',
  endpoint: process.env.FUNCTION_COMPUTE_ENDPOINT,
  minIntervalMs: 0,
  logger,
});
export const handler = async (event, context) => {
  const result = await kicker.kick('stand-in webhook', context);
  const request = JSON.parse(event.toString('utf8'));
  return {
    statusCode: 200,
    headers: { 'Content-Type': 'application/json' },
    isBase64Encoded: false,
    body: JSON.stringify({ path: request.rawPath, result, endpoint: process.env.FUNCTION_COMPUTE_ENDPOINT }),
  };
};
`;

const S_YAML = `edition: 3.0.0
name: kick-test
resources:
  alert-webhook:
    component: fc3
    props:
      region: cn-shanghai
      functionName: alert-webhook
      code: ./dist/alert-webhook
      handler: index.handler
      timeout: 10
      triggers:
        - triggerName: http
          triggerType: http
          triggerConfig: { authType: anonymous, methods: [POST] }
  delivery-health:
    component: fc3
    props:
      region: cn-shanghai
      functionName: delivery-health
      code: ./dist/delivery-health
      handler: index.handler
      timeout: 10
      triggers:
        - triggerName: every-minute
          triggerType: timer
          # Once a year: only invocations through the invoke API run it during the test.
          triggerConfig: { cronExpression: '0 0 0 1 1 *', enable: true, payload: 'timer' }
`;

describe('Local runtime: FC invoke API emulation', () => {
  let root: string;
  let runtime: RunningRuntime;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'kick-runtime-'));
    const distDir = join(root, 'dist');
    for (const name of ['alert-webhook', 'delivery-health']) {
      mkdirSync(join(distDir, name), { recursive: true });
      writeFileSync(join(distDir, name, 'package.json'), '{"type":"commonjs"}\n');
    }
    writeFileSync(join(distDir, 'delivery-health', 'index.js'), HEALTH_STANDIN);
    const entry = join(root, 'webhook-entry.ts');
    writeFileSync(entry, WEBHOOK_ENTRY(join(ROOT, 'shared', 'kick', 'createKicker.ts')));
    // The same esbuild options as scripts/build.mjs.
    await build({
      entryPoints: [entry],
      outfile: join(distDir, 'alert-webhook', 'index.js'),
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      minify: true,
      keepNames: true,
      external: ['proxy-agent'],
      logLevel: 'error',
    });
    writeFileSync(join(root, 's.yaml'), S_YAML);
    runtime = await startRuntime({ distDir, sYamlPath: join(root, 's.yaml') });
  });

  afterAll(async () => {
    await runtime?.stop();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('points the functions at itself and announces the invoke API', () => {
    // Assess
    const endpoint = runtime.url.replace(/\/$/, '');
    expect(runtime.stdout()).toContain(`FUNCTION_COMPUTE_ENDPOINT=${endpoint}`);
    expect(runtime.stdout()).toContain(`POST ${runtime.url}2023-03-30/functions/<name>/invocations`);
  });

  it('answers an async invocation 202 at once, then runs the function with the body as a Buffer event', async () => {
    // Act
    const started = Date.now();
    const response = await runtime.post(INVOKE_PATH, '{"payload":"by-hand"}', {
      authorization: 'FC local:unchecked',
      'x-fc-invocation-type': 'Async',
    });
    const answeredIn = Date.now() - started;

    // Assess
    expect(response.status).toBe(202);
    expect(response.text).toBe('');
    expect(response.headers.get('x-fc-request-id')).toMatch(/^1-/);
    expect(answeredIn).toBeLessThan(300); // the stand-in takes 300 ms: the answer did not wait for the run
    const [line] = await runtime.waitForOutput(
      /\[delivery-health\] async invocation ok in \d+ ms: [^\n]*by-hand[^\n]*/,
    );
    expect(JSON.parse(line.replace(/^.*? ms: /, ''))).toEqual({
      verdict: 'healthy',
      isBuffer: true,
      event: { payload: 'by-hand' },
    });
  });

  it('runs a synchronous invocation and answers with its result', async () => {
    // Act
    const response = await runtime.post(INVOKE_PATH, '{"payload":"sync"}', { authorization: 'FC local:unchecked' });

    // Assess
    expect(response.status).toBe(200);
    expect(response.json).toMatchObject({ verdict: 'healthy', event: { payload: 'sync' } });
  });

  it('refuses an unsigned invocation (403) and an unknown function (404), in FC API error form', async () => {
    // Act
    const unsigned = await runtime.post(INVOKE_PATH, '{}', { 'x-fc-invocation-type': 'Async' });
    const unknown = await runtime.post('/2023-03-30/functions/nope/invocations', '{}', { authorization: 'FC a:b' });

    // Assess
    expect(unsigned.status).toBe(403);
    expect(unsigned.json).toMatchObject({ ErrorCode: 'AccessDenied' });
    expect(unknown.status).toBe(404);
    expect(unknown.json).toMatchObject({ ErrorCode: 'FunctionNotFound' });
  });

  it('kicks end to end: the bundled webhook signs with fc2, the runtime answers 202 and runs delivery-health', async () => {
    // Act
    const response = await runtime.post('/arms?tag=kick', '{"alerts":[]}');

    // Assess
    expect(response.status).toBe(200);
    const body = response.json as { path: string; result: KickResult; endpoint: string };
    expect(body.path).toBe('/arms');
    expect(body.endpoint).toBe(runtime.url.replace(/\/$/, ''));
    expect(body.result).toMatchObject({ ok: true, requestId: expect.stringMatching(/^1-/) });
    await runtime.waitForOutput(/\[delivery-health\] async invocation ok in \d+ ms: [^\n]*"triggerName":"kick"/);
    await runtime.waitForOutput(/"message":"kicked function"/);
    // fc2's socket is closed after the 202 (connection: close), so FC would freeze no open request.
    expect(runtime.output()).not.toContain('left work running');
    expect(runtime.output()).not.toContain('local-access-key-secret');
  });

  it('still gives the webhook every other POST, including an API-style post naming the webhook', async () => {
    // Act
    const response = await runtime.post('/2023-03-30/functions/alert-webhook/invocations', '{}');

    // Assess
    expect(response.status).toBe(200);
    expect((response.json as { path: string }).path).toBe('/2023-03-30/functions/alert-webhook/invocations');
  });
});

describe('delivery-health chains the next run (continuous drain)', () => {
  const sample = readFileSync(join(__dirname, '../../fixtures/arms/sample.json'), 'utf8');
  const storm = (count: number) => {
    const parsed = JSON.parse(sample);
    const alerts = Array.from({ length: count }, (_, index) => ({
      ...parsed.alerts[0],
      fingerprint: `chain-${index}`,
    }));
    return JSON.stringify({ ...parsed, alerts });
  };

  it.each([
    { case: 'due work left at its deadline: invokes itself at once, asynchronously', queued: 300, chained: 1 },
    { case: 'nothing left: no invocation (the timer is the backstop)', queued: 5, chained: 0 },
  ])('$case', async ({ queued, chained }) => {
    // Prepare: a loopback FC invoke API; PagerDuty answering in 300 ms, so a 5 s run's relay cannot send 300.
    const fc = await startFakeFc(() => ({ status: 202 }));
    const pd = await startFakePagerDuty({ latencyMs: 300 });
    try {
      const env = {
        PAGERDUTY_ROUTING_KEY: 'CHA1NROUTINGKEY00000000000000001',
        PAGERDUTY_EVENTS_URL: pd.url,
        PAGERDUTY_RATE_PER_MINUTE: '100000',
        HEALTH_TIME_BUDGET_SECONDS: '5',
        FUNCTION_COMPUTE_ENDPOINT: fc.endpoint,
        ALIBABA_CLOUD_ACCESS_KEY_ID: 'test-ak',
        ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'test-sk',
      };
      const store = new MemoryStore();
      await webhookHarness({ ...env, WEBHOOK_DEADLINE_MS: '500' }, store).post(storm(queued));
      const before = fc.requests.length;

      // Act
      const report = await webhookHarness(env, store).tick();

      // Assess
      expect(report.relay.more).toBe(chained > 0);
      const invocations = fc.requests.slice(before).filter((request) => request.url === INVOKE_PATH);
      expect(invocations).toHaveLength(chained);
      for (const request of invocations) expect(request.headers['x-fc-invocation-type']).toBe('Async');
    } finally {
      await fc.close();
      await pd.close();
    }
  });
});
