/**
 * A real client: Debian's `prometheus-alertmanager` (0.25.0 on Debian 12) sends its own webhooks (payload v4) to the
 * bridge running under the local runtime (`npm start` without the build), with a bearer token, and the bridge
 * delivers to a fake PagerDuty on loopback. Firing, Alertmanager's repeats, then resolved: PagerDuty must see exactly
 * one trigger and one resolve, both under the alert's fingerprint as `dedup_key`.
 *
 * Alertmanager's timers: `group_interval` and `repeat_interval` only have to be non-zero (0.25 refuses `0s` with
 * "group_interval cannot be zero" / "repeat_interval cannot be zero"; `100ms` is accepted); `group_wait: 0s` is fine.
 * A repeat is decided at a `group_interval` tick once `repeat_interval` has elapsed since the last send, so with both
 * at 500 ms the same firing webhook comes again about every second. A resolved alert is sent once, at the next tick.
 *
 * The binary: `ALERTMANAGER_BIN`, else `/usr/bin/prometheus-alertmanager` (Debian), else `prometheus-alertmanager` or
 * `alertmanager` on PATH. Absent on a developer's machine, the test is skipped with a message saying so; absent under
 * CI (`CI=true`; `.ci/run` installs it with apt), the test fails instead, so a broken install cannot pass as green.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakePagerDuty, type ReceivedRequest, startFakePagerDuty } from '../support/fakePagerDuty';
import { type RunningRuntime, startRuntime } from '../support/runtime';

/** The webhook Alertmanager 0.25 sent for the same alert, captured from the wire (see the fixture file). */
const captured = JSON.parse(
  readFileSync(new URL('../fixtures/alertmanager/real-v4-firing.json', import.meta.url), 'utf8'),
) as { alerts: { labels: Record<string, string>; annotations: Record<string, string>; generatorURL: string }[] };
const capturedAlert = captured.alerts[0] as (typeof captured.alerts)[number] & { fingerprint: string };
/** Alertmanager's fingerprint is a pure function of the label set, so the same labels give the captured one. */
const LABELS = capturedAlert.labels;
const ANNOTATIONS = capturedAlert.annotations;
const FINGERPRINT = capturedAlert.fingerprint;

const ROUTING_KEY = 'AMROUTINGKEY00000000000000000042';
const TOKEN = 'alertmanager-e2e-bearer-token-7';
const RECEIVER = 'pagerduty-bridge';

const START_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;
const REQUEST_TIMEOUT_MS = 5_000;
const DELIVERY_TIMEOUT_MS = 10_000;
/** After the resolve: a few more `group_interval` ticks during which nothing else may reach PagerDuty. */
const SETTLE_MS = 1_500;

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function findBinary(): string | undefined {
  const explicit = process.env.ALERTMANAGER_BIN;
  if (explicit) return executable(explicit) ? explicit : undefined;
  if (executable('/usr/bin/prometheus-alertmanager')) return '/usr/bin/prometheus-alertmanager';
  const dirs = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  for (const name of ['prometheus-alertmanager', 'alertmanager']) {
    const found = dirs.map((dir) => join(dir, name)).find(executable);
    if (found) return found;
  }
  return undefined;
}

const binary = findBinary();
const MISSING =
  'prometheus-alertmanager is not installed: `apt-get install prometheus-alertmanager` (Debian), or set ALERTMANAGER_BIN';
const inCi = process.env.CI === 'true';

function withTimeout<T>(promise: Promise<T>, ms: number, what: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(what())), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Polls `check` every 50 ms until it returns a value other than undefined; rejects after `ms` with `describe()`. */
async function waitFor<T>(check: () => Promise<T | undefined> | T | undefined, ms: number, describe: () => string) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms: ${describe()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

interface RunningAlertmanager {
  url: string;
  child: ChildProcess;
  log(): string;
  exited: Promise<unknown>;
}

/** Starts Alertmanager on a free loopback port with gossip off, and waits until `/-/ready` answers 200. */
async function startAlertmanager(binaryPath: string, dir: string, webhookUrl: string): Promise<RunningAlertmanager> {
  // JSON is YAML: no formatting pitfalls in the generated config.
  const config = {
    route: {
      receiver: RECEIVER,
      group_by: ['alertname'],
      group_wait: '0s',
      group_interval: '500ms',
      repeat_interval: '500ms',
    },
    receivers: [
      {
        name: RECEIVER,
        webhook_configs: [
          {
            url: webhookUrl,
            send_resolved: true,
            http_config: { authorization: { type: 'Bearer', credentials: TOKEN } },
          },
        ],
      },
    ],
  };
  const configPath = join(dir, 'alertmanager.yml');
  writeFileSync(configPath, JSON.stringify(config, null, 2));
  const child = spawn(
    binaryPath,
    [
      `--config.file=${configPath}`,
      `--storage.path=${join(dir, 'data')}`,
      '--web.listen-address=127.0.0.1:0',
      '--cluster.listen-address=',
      '--log.level=info',
    ],
    { cwd: dir, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let log = '';
  const onData = (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    log += text;
    for (const line of text.split('\n').filter(Boolean)) console.log(`[alertmanager] ${line}`);
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const running: RunningAlertmanager = { url: '', child, log: () => log, exited };

  // 0.25 logs the port it really bound: `msg="Listening on" address=127.0.0.1:NNNNN`.
  const port = await waitFor(
    () => {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`alertmanager exited:\n${log}`);
      return log.match(/msg="Listening on" address=127\.0\.0\.1:(\d+)/)?.[1];
    },
    START_TIMEOUT_MS,
    () => `alertmanager did not listen; log:\n${log}`,
  );
  running.url = `http://127.0.0.1:${port}`;
  await waitFor(
    async () => {
      const response = await fetch(`${running.url}/-/ready`, { signal: AbortSignal.timeout(1_000) }).catch(
        () => undefined,
      );
      return response?.ok ? true : undefined;
    },
    START_TIMEOUT_MS,
    () => `alertmanager never became ready; log:\n${log}`,
  );
  return running;
}

async function stopAlertmanager(am: RunningAlertmanager): Promise<void> {
  const { child } = am;
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  try {
    await withTimeout(am.exited, STOP_TIMEOUT_MS, () => 'alertmanager did not exit after SIGTERM');
  } catch {
    child.kill('SIGKILL');
    await withTimeout(am.exited, STOP_TIMEOUT_MS, () => 'alertmanager did not exit after SIGKILL');
  }
}

/** Alertmanager's own view: `POST /api/v2/alerts`, as Prometheus pushes alerts. */
async function pushAlert(am: RunningAlertmanager, alert: Record<string, unknown>): Promise<void> {
  const response = await fetch(`${am.url}/api/v2/alerts`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify([alert]),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  if (response.status !== 200) throw new Error(`POST /api/v2/alerts: ${response.status} ${await response.text()}`);
}

/** A counter of Alertmanager's webhook integration from `/metrics` (0 when the series is not there yet). */
async function webhookCounter(am: RunningAlertmanager, name: string): Promise<number> {
  const response = await fetch(`${am.url}/metrics`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  const text = await response.text();
  const match = text.match(new RegExp(`^${name}\\{[^}]*integration="webhook"[^}]*\\} (\\d+(?:\\.\\d+)?)$`, 'm'));
  return match ? Number(match[1]) : 0;
}

function eventOf(request: ReceivedRequest) {
  return request.body as {
    event_action: string;
    dedup_key: string;
    client?: string;
    client_url?: string;
    payload: { severity: string; source: string; custom_details: { labels?: Record<string, string> } };
  };
}

describe('e2e: a real Alertmanager as the client', () => {
  if (!binary) {
    if (inCi) {
      it('finds prometheus-alertmanager (CI installs it through .ci/run)', () => {
        throw new Error(MISSING);
      });
    } else {
      console.warn(`[e2e/alertmanager] SKIPPED: ${MISSING}`);
      it.skip(`SKIPPED: ${MISSING}`, () => {});
    }
  }

  let pd: FakePagerDuty | undefined;
  let runtime: RunningRuntime | undefined;
  let am: RunningAlertmanager | undefined;
  let dir: string | undefined;

  beforeAll(async () => {
    if (!binary) return;
    dir = mkdtempSync(join(tmpdir(), 'bridge-alertmanager-'));
    pd = await startFakePagerDuty();
    runtime = await startRuntime({
      env: { PAGERDUTY_ROUTING_KEY: ROUTING_KEY, PAGERDUTY_EVENTS_URL: pd.url, WEBHOOK_TOKENS: TOKEN },
    });
    am = await startAlertmanager(binary, dir, runtime.url);
  }, 40_000);

  afterAll(async () => {
    if (am) await stopAlertmanager(am);
    await runtime?.stop();
    await pd?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it.skipIf(!binary)(
    'firing, repeated, then resolved: one trigger and one resolve under the fingerprint',
    async () => {
      // Prepare
      if (!pd || !runtime || !am) throw new Error('setup did not finish');
      const fake = pd;
      const bridge = runtime;
      const alertmanager = am;
      const startsAt = new Date(Date.now() - 1_000).toISOString();
      const alert = { labels: LABELS, annotations: ANNOTATIONS, startsAt, generatorURL: capturedAlert.generatorURL };
      const accepted = (action: string) =>
        fake.accepted().filter((request) => eventOf(request).event_action === action);
      const state = () =>
        `PagerDuty saw ${JSON.stringify(fake.events.map((request) => [request.outcome, request.body]))}\n` +
        `bridge output:\n${bridge.output()}\nalertmanager log:\n${alertmanager.log()}`;

      // Act: firing, and wait for the first trigger
      await pushAlert(alertmanager, alert);
      const [trigger] = await waitFor(
        () => (accepted('trigger').length > 0 ? accepted('trigger') : undefined),
        DELIVERY_TIMEOUT_MS,
        () => `no trigger reached PagerDuty; ${state()}`,
      );
      const listed = (await (
        await fetch(`${alertmanager.url}/api/v2/alerts`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) })
      ).json()) as { fingerprint: string }[];
      const sentBeforeRepeat = await webhookCounter(alertmanager, 'alertmanager_notifications_total');
      // Alertmanager repeats the same firing webhook; the bridge must answer 2xx and forward nothing.
      await waitFor(
        async () =>
          (await webhookCounter(alertmanager, 'alertmanager_notifications_total')) >= sentBeforeRepeat + 1
            ? true
            : undefined,
        DELIVERY_TIMEOUT_MS,
        () => `alertmanager sent no repeat; ${state()}`,
      );
      const firingWebhooks = await webhookCounter(alertmanager, 'alertmanager_notifications_total');
      const triggersAfterRepeat = accepted('trigger').length;

      // Act: resolved (endsAt in the past), and wait for the resolve
      await pushAlert(alertmanager, { ...alert, endsAt: new Date(Date.now() - 500).toISOString() });
      await waitFor(
        () => (accepted('resolve').length > 0 ? true : undefined),
        DELIVERY_TIMEOUT_MS,
        () => `no resolve reached PagerDuty; ${state()}`,
      );
      await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));

      // Assess
      const triggerEvent = eventOf(trigger as ReceivedRequest);
      expect(firingWebhooks).toBeGreaterThanOrEqual(2);
      expect(triggersAfterRepeat).toBe(1);
      expect(await webhookCounter(alertmanager, 'alertmanager_notifications_failed_total')).toBe(0);
      expect(fake.events.map((request) => [eventOf(request).event_action, request.outcome])).toEqual([
        ['trigger', 202],
        ['resolve', 202],
      ]);
      expect(triggerEvent).toMatchObject({
        event_action: 'trigger',
        dedup_key: FINGERPRINT,
        client: 'Alertmanager',
        payload: { severity: 'critical', source: LABELS.instance, custom_details: { labels: LABELS } },
      });
      expect(triggerEvent.client_url).toMatch(new RegExp(`/#/alerts\\?receiver=${RECEIVER}$`));
      expect(eventOf(accepted('resolve')[0] as ReceivedRequest).dedup_key).toBe(FINGERPRINT);
      expect(fake.accepted().every((request) => request.routingKey === ROUTING_KEY)).toBe(true);
      expect(listed.map((entry) => entry.fingerprint)).toEqual([FINGERPRINT]);
      expect(bridge.output()).not.toContain(TOKEN);
      expect(bridge.output()).not.toContain(ROUTING_KEY);
    },
    45_000,
  );
});
