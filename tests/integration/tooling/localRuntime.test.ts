/**
 * The local runtime (scripts/local-runtime/) against stand-in bundles: what a handler receives, how its answer
 * becomes the HTTP response, one invocation at a time, timeouts, the timer, start-up lines and a clean Ctrl-C.
 * The real bundles are exercised through the runtime by the e2e tests.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalRuntime } from '../../../scripts/local-runtime/startLocalRuntime';
import { type RunningRuntime, startRuntime } from '../../support/runtime';

/** alert-webhook stand-in: echoes what it received; a few paths misbehave on purpose. */
const WEBHOOK_STANDIN = `
const instanceId = Math.random().toString(36).slice(2);
let active = 0;
let maxActive = 0;
const started = [];
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
exports.handler = async (event, context) => {
  const request = JSON.parse(event.toString('utf8'));
  const path = request.requestContext.http.path;
  const tag = request.queryParameters.tag ?? '';
  active += 1;
  maxActive = Math.max(maxActive, active);
  started.push(tag);
  console.log('standin start ' + tag);
  try {
    if (path === '/slow') await sleep(Number(request.queryParameters.ms));
    if (path === '/throw') throw new TypeError('stand-in failure');
    if (path === '/leak') setTimeout(() => {}, 3000);
    if (path === '/binary') {
      return { statusCode: 200, headers: { 'Content-Type': 'application/octet-stream' }, isBase64Encoded: true,
        body: Buffer.from([0, 1, 2, 253, 254, 255]).toString('base64') };
    }
    if (request.requestContext.http.method !== 'POST') {
      return { statusCode: 405, headers: { 'Content-Type': 'application/json', Allow: 'POST' }, isBase64Encoded: false,
        body: JSON.stringify({ error: { code: 'METHOD_NOT_ALLOWED', message: 'POST only' } }) };
    }
    const { logger, ...contextData } = context;
    return {
      statusCode: 202,
      headers: { 'Content-Type': 'application/json', 'X-Stand-In': 'yes' },
      isBase64Encoded: false,
      body: JSON.stringify({
        isBuffer: Buffer.isBuffer(event),
        event: request,
        context: contextData,
        loggerMethods: Object.keys(logger).sort(),
        env: { FC_FUNCTION_NAME: process.env.FC_FUNCTION_NAME ?? null, STANDIN_MARKER: process.env.STANDIN_MARKER ?? null },
        instanceId, maxActive, started,
      }),
    };
  } finally {
    active -= 1;
  }
};
exports.describeConfig = () => ({
  ok: process.env.STANDIN_CONFIG_OK !== 'false',
  problems: process.env.STANDIN_CONFIG_OK === 'false' ? ['WEBHOOK_TOKENS is required when deployed'] : [],
  settings: { STORE: 'file', PAGERDUTY_ROUTING_KEY: null, WEBHOOK_TOKENS: '****abcd', DRY_RUN: false },
  dryRun: true,
  unauthenticated: true,
});
`;

/** delivery-health stand-in: reports the timer event it got. */
const HEALTH_STANDIN = `
exports.handler = async (event, context) => {
  const timer = JSON.parse(event.toString('utf8'));
  return { verdict: 'healthy', isBuffer: Buffer.isBuffer(event), timer, functionName: context.function.name };
};
`;

/** Functions as s.yaml describes them; alert-webhook's timeout is short so the timeout test is quick. */
const S_YAML = `edition: 3.0.0
name: stand-in
vars:
  region: \${env('REGION', 'cn-shanghai')}
resources:
  alert-webhook:
    component: fc3
    props:
      region: \${vars.region}
      functionName: alert-webhook
      code: ./dist/alert-webhook
      handler: index.handler
      memorySize: 256
      timeout: 2
      triggers:
        - triggerName: http
          triggerType: http
          triggerConfig: { authType: anonymous, methods: [POST] }
  delivery-health:
    component: fc3
    props:
      region: \${vars.region}
      functionName: delivery-health
      code: ./dist/delivery-health
      handler: index.handler
      timeout: 60
      triggers:
        - triggerName: every-minute
          triggerType: timer
          # Once a year, so only LOCAL_TIMER_SECONDS makes it run during a test.
          triggerConfig: { cronExpression: '0 0 0 1 1 *', enable: true, payload: 'stand-in payload' }
`;

let root: string;
let distDir: string;
let sYamlPath: string;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'local-runtime-'));
  distDir = join(root, 'dist');
  sYamlPath = join(root, 's.yaml');
  for (const [name, source] of [
    ['alert-webhook', WEBHOOK_STANDIN],
    ['delivery-health', HEALTH_STANDIN],
  ] as const) {
    mkdirSync(join(distDir, name), { recursive: true });
    writeFileSync(join(distDir, name, 'index.js'), source);
    writeFileSync(join(distDir, name, 'package.json'), '{"type":"commonjs"}\n');
  }
  writeFileSync(sYamlPath, S_YAML);
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

const start = (env: Record<string, string> = {}) => startRuntime({ distDir, sYamlPath, env });

interface Echo {
  isBuffer: boolean;
  event: {
    version: string;
    rawPath: string;
    body: string;
    isBase64Encoded: boolean;
    headers: Record<string, string>;
    queryParameters: Record<string, string>;
    requestContext: Record<string, unknown> & { http: Record<string, string>; timeEpoch: unknown; time: string };
  };
  context: Record<string, unknown>;
  loggerMethods: string[];
  env: Record<string, string | null>;
  instanceId: string;
  maxActive: number;
  started: string[];
}

describe('Local runtime: HTTP trigger emulation', () => {
  let runtime: RunningRuntime;

  beforeAll(async () => {
    runtime = await start({
      STANDIN_MARKER: 'passed-through',
      FC_FUNCTION_NAME: 'must-not-reach-the-function',
      ALIBABA_CLOUD_ACCESS_KEY_ID: 'LTAI-test-id',
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'test-secret',
    });
  });

  afterAll(async () => {
    await runtime?.stop();
  });

  it('prints the URL to point ARMS at, the masked config, and loud dry-run and unauthenticated warnings', () => {
    // Assess
    const out = runtime.stdout();
    expect(runtime.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(runtime.port).toBeGreaterThan(0);
    expect(out).toContain(`Point the ARMS webhook at: ${runtime.url}`);
    expect(out).toMatch(/WEBHOOK_TOKENS\s+\*\*\*\*abcd/);
    expect(out).toMatch(/PAGERDUTY_ROUTING_KEY\s+\(unset\)/);
    expect(out).toMatch(/!!\s+DRY-RUN/);
    expect(out).toMatch(/!!\s+UNAUTHENTICATED/);
    expect(out).not.toContain('CONFIGURATION PROBLEMS');
    expect(runtime.stderr()).toContain('FC_FUNCTION_NAME is set in this shell; it is not passed on');
  });

  it('delivers a POST as an FC3 HTTP-trigger event in a Buffer', async () => {
    // Act
    const response = await runtime.post('/arms/%E5%91%8A%E8%AD%A6?token=abc&tag=one&tag=two', '{"alerts":[]}', {
      'content-type': 'text/plain',
      'x-webhook-token': 'abc',
      'user-agent': 'ARMS-test/1.0',
    });

    // Assess
    expect(response.status).toBe(202);
    const echo = response.json as Echo;
    expect(echo.isBuffer).toBe(true);
    expect(echo.event).toMatchObject({
      version: 'v1',
      rawPath: '/arms/%E5%91%8A%E8%AD%A6',
      body: '{"alerts":[]}',
      isBase64Encoded: false,
      queryParameters: { token: 'abc', tag: 'one,two' },
    });
    expect(echo.event.headers).toMatchObject({
      'Content-Type': 'text/plain',
      'X-Webhook-Token': 'abc',
      'User-Agent': 'ARMS-test/1.0',
    });
    for (const name of Object.keys(echo.event.headers)) expect(name).toMatch(/^[A-Z][a-z0-9]*(-[A-Z][a-z0-9]*)*$/);
    expect(echo.event.requestContext).toMatchObject({
      accountId: expect.any(String),
      domainName: `127.0.0.1:${runtime.port}`,
      domainPrefix: expect.any(String),
      http: {
        method: 'POST',
        path: '/arms/告警',
        protocol: 'HTTP/1.1',
        sourceIp: '127.0.0.1',
        userAgent: 'ARMS-test/1.0',
      },
      requestId: response.headers.get('x-fc-request-id'),
    });
    expect(echo.event.requestContext.timeEpoch).toMatch(/^\d{13}$/);
    expect(echo.event.requestContext.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  it('comma-joins a header sent several times', async () => {
    // Prepare
    const headers = new Headers();
    headers.append('X-Multi', 'a');
    headers.append('x-multi', 'b');

    // Act
    const response = await fetch(new URL('/', runtime.url), { method: 'POST', headers, body: '{}' });

    // Assess
    const echo = (await response.json()) as Echo;
    expect(echo.event.headers['X-Multi']).toMatch(/^a,\s?b$/);
  });

  it('passes bytes that are not UTF-8 as base64', async () => {
    // Prepare
    const bytes = new Uint8Array([0xff, 0xfe, 0x00, 0x41, 0xc3]);

    // Act
    const response = await runtime.post('/', bytes, { 'content-type': 'application/octet-stream' });

    // Assess
    const echo = response.json as Echo;
    expect(echo.event.isBase64Encoded).toBe(true);
    expect(Buffer.from(echo.event.body, 'base64')).toEqual(Buffer.from(bytes));
  });

  it('gives the handler an FC-like context and the environment minus FC_FUNCTION_NAME', async () => {
    // Act
    const response = await runtime.post('/', '{}');

    // Assess
    const echo = response.json as Echo;
    expect(echo.context).toMatchObject({
      requestId: response.headers.get('x-fc-request-id'),
      credentials: { accessKeyId: 'LTAI-test-id', accessKeySecret: 'test-secret', securityToken: '' },
      function: { name: 'alert-webhook', handler: 'index.handler', memory: 256, timeout: 2 },
      service: {},
      region: 'cn-shanghai',
      accountId: expect.any(String),
    });
    expect(echo.loggerMethods).toEqual(expect.arrayContaining(['debug', 'error', 'info', 'warn']));
    expect(echo.env).toEqual({ FC_FUNCTION_NAME: null, STANDIN_MARKER: 'passed-through' });
  });

  it('turns the response struct into the HTTP response, decoding a base64 body', async () => {
    // Act
    const response = await fetch(new URL('/binary', runtime.url), { method: 'POST' });

    // Assess
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/octet-stream');
    expect(response.headers.get('x-fc-request-id')).toMatch(/^1-[0-9a-f]+-/);
    expect([...new Uint8Array(await response.arrayBuffer())]).toEqual([0, 1, 2, 253, 254, 255]);
  });

  it('passes other methods to the handler, which answers them itself', async () => {
    // Act
    const response = await runtime.request('GET', '/');

    // Assess
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('POST');
  });

  it('answers 502 with an FC-like JSON error when the handler throws, and logs it', async () => {
    // Act
    const response = await runtime.post('/throw', '{}');

    // Assess
    expect(response.status).toBe(502);
    expect(response.headers.get('x-fc-error-type')).toBe('UnhandledInvocationError');
    expect(response.json).toEqual({ errorMessage: 'stand-in failure', errorType: 'TypeError' });
    await runtime.waitForOutput(/POST \/throw → 502: the handler threw[\s\S]*TypeError: stand-in failure/);
  });

  it('runs one invocation at a time, in arrival order', async () => {
    // Prepare
    const first = runtime.post('/slow?ms=600&tag=fifo-1', '{}');
    await runtime.waitForOutput(/standin start fifo-1/);
    const second = runtime.post('/slow?ms=10&tag=fifo-2', '{}');
    await new Promise((resolve) => setTimeout(resolve, 200));
    const third = runtime.post('/slow?ms=10&tag=fifo-3', '{}');

    // Act
    const responses = await Promise.all([first, second, third]);

    // Assess
    for (const response of responses) expect(response.status).toBe(202);
    const last = responses[2]?.json as Echo;
    expect(last.maxActive).toBe(1);
    expect(last.started.filter((tag) => tag.startsWith('fifo-'))).toEqual(['fifo-1', 'fifo-2', 'fifo-3']);
  });

  it('stops an invocation at the s.yaml timeout with a 502 and serves the next one from a fresh instance', async () => {
    // Prepare
    const before = (await runtime.post('/', '{}')).json as Echo;

    // Act
    const timedOut = await runtime.post('/slow?ms=8000&tag=too-slow', '{}');
    const after = await runtime.post('/', '{}');

    // Assess
    expect(timedOut.status).toBe(502);
    expect(timedOut.headers.get('x-fc-error-type')).toBe('FunctionTimeoutError');
    expect(timedOut.json).toMatchObject({
      errorType: 'FunctionTimeoutError',
      errorMessage: expect.stringMatching(/2 seconds/),
    });
    expect(after.status).toBe(202);
    expect((after.json as Echo).instanceId).not.toBe(before.instanceId);
  });

  it('stays quiet about leaks when handlers finish their work, and warns when one leaves work running', async () => {
    // Assess (everything so far awaited its work)
    expect(runtime.output()).not.toContain('left work running');

    // Act
    const response = await runtime.post('/leak', '{}');

    // Assess
    expect(response.status).toBe(202);
    const [warning] = await runtime.waitForOutput(/WARNING: alert-webhook \(request [^)]+\) left work running[^\n]*/);
    expect(warning).toContain('Timeout');
    expect(warning).toContain(response.headers.get('x-fc-request-id') ?? 'missing id');
  });
});

describe('Local runtime: timer trigger emulation', () => {
  it('invokes delivery-health every LOCAL_TIMER_SECONDS with an FC timer event and prints each outcome on one line', async () => {
    // Prepare
    const runtime = await start({ LOCAL_TIMER_SECONDS: '1' });
    try {
      // Act
      await runtime.waitForOutput(/(\[delivery-health\] \S+ timer ok[^\n]*\n[\s\S]*){2}/, 10_000);

      // Assess
      const lines = runtime.stdout().match(/^\[delivery-health\] \S+ timer ok in \d+ ms: .*$/gm) ?? [];
      expect(lines.length).toBeGreaterThanOrEqual(2);
      const report = JSON.parse((lines[0] ?? '').replace(/^.*? ms: /, ''));
      expect(report).toMatchObject({
        verdict: 'healthy',
        isBuffer: true,
        functionName: 'delivery-health',
        timer: { triggerName: 'every-minute', payload: 'stand-in payload' },
      });
      expect(report.timer.triggerTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      expect(runtime.stdout()).toMatch(/delivery-health\s+timer every 1 s \(LOCAL_TIMER_SECONDS/);
    } finally {
      await runtime.stop();
    }
  });

  it('announces the s.yaml cron when LOCAL_TIMER_SECONDS is unset (empty counts as unset)', async () => {
    // Prepare
    const runtime = await start({ LOCAL_TIMER_SECONDS: '' });

    // Act
    const result = await runtime.stop();

    // Assess
    expect(runtime.stdout()).toContain('timer "0 0 0 1 1 *" (s.yaml, UTC)');
    expect(runtime.stdout()).not.toMatch(/timer ok/);
    expect(result.code).toBe(0);
  });
});

describe('Local runtime: start and stop', () => {
  it('on Ctrl-C stops accepting, finishes the invocation in flight, then exits 0', async () => {
    // Prepare
    const runtime = await start();
    const inFlight = runtime.post('/slow?ms=1500&tag=in-flight', '{}');
    await runtime.waitForOutput(/standin start in-flight/);

    // Act
    runtime.child.kill('SIGINT');
    const response = await inFlight;
    const exit = await runtime.exited;

    // Assess
    expect(response.status).toBe(202);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(runtime.stdout()).toContain('waiting for 1 invocation(s) to finish');
    expect(runtime.stdout()).toContain('stopped cleanly');
    await expect(fetch(runtime.url, { method: 'POST', body: '{}' })).rejects.toThrow();
    await runtime.stop();
  });

  it('prints the config problems when describeConfig() is not ok', async () => {
    // Prepare
    const runtime = await start({ STANDIN_CONFIG_OK: 'false' });

    // Act
    await runtime.stop();

    // Assess
    expect(runtime.stdout()).toMatch(/CONFIGURATION PROBLEMS[\s\S]*- WEBHOOK_TOKENS is required when deployed/);
  });

  it('refuses to start, exit code 1, when a bundle is missing', async () => {
    // Prepare
    const emptyDist = mkdtempSync(join(tmpdir(), 'local-runtime-empty-'));

    // Act
    const runtime = await startRuntime({ distDir: emptyDist, sYamlPath, waitForUrl: false });
    const exit = await runtime.exited;
    await runtime.kill(); // already exited: only removes its temporary STORE_PATH

    // Assess
    expect(exit.code).toBe(1);
    expect(runtime.stderr()).toMatch(
      /cannot start: alert-webhook: no bundle at .*index\.js — run `npm run build` first/,
    );
    rmSync(emptyDist, { recursive: true, force: true });
  });

  it('can be started in-process with its own environment, and closed', async () => {
    // Prepare
    const lines: string[] = [];
    const runtime = await startLocalRuntime({
      distDir,
      sYamlPath,
      port: 0,
      env: { STANDIN_MARKER: 'in-process' },
      log: (line) => lines.push(line),
      logError: (line) => lines.push(line),
    });

    try {
      // Act
      const response = await fetch(runtime.url, { method: 'POST', body: '{}' });

      // Assess
      const echo = (await response.json()) as Echo;
      expect(echo.env.STANDIN_MARKER).toBe('in-process');
      expect(lines).toContain(`Listening on ${runtime.url} (Ctrl-C to stop)`);
      await expect.poll(() => lines).toContain('standin start ');
    } finally {
      // Assess
      expect(await runtime.close()).toEqual({ clean: true });
    }
  });
});
