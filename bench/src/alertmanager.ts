/**
 * (9) Against Alertmanager, where `prometheus-alertmanager` (or `alertmanager`) is installed: the same 1,000 firing
 * alerts pushed into Alertmanager (`group_by: ['...']`, `group_wait: 0s`, a PagerDuty receiver pointed at the fake
 * PagerDuty) and, as one callback, into the bridge's local runtime (delivery-health on s.yaml's cron, as `npm start`
 * runs it, so what the webhook queues goes through its kick and chained runs; pacing off: the fake sets no limit here). Reported side by side: time from the first POST until the last trigger is accepted, PagerDuty
 * requests, events lost, peak RSS of the process (the bridge's is the whole local runtime: host plus both function
 * workers). Runs alternate, one pair per PagerDuty latency.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FakePagerDuty } from '../../tests/support/fakePagerDuty';
import { startTimedPagerDuty, tally } from './pd';
import { type BenchStore, createStore } from './store';
import { armsCallback, type Json, postCallback, ROUTING_KEY, round, sleep, startLocalRuntime } from './support';

const BINARIES = ['prometheus-alertmanager', 'alertmanager'];

function findAlertmanager(): { binary: string; version: string } | undefined {
  for (const binary of BINARIES) {
    const probe = spawnSync(binary, ['--version'], { encoding: 'utf8' });
    if (probe.status === 0) {
      const text = `${probe.stdout}${probe.stderr}`;
      return { binary, version: /version (\S+)/.exec(text)?.[1] ?? 'unknown' };
    }
  }
  return undefined;
}

function freePort(): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolvePromise(port));
    });
  });
}

function peakRssMb(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? round(Number(match[1]) / 1024, 1) : null;
  } catch {
    return null;
  }
}

/** Waits until `count` distinct triggers were accepted, or the cap; then a short settle for stragglers. */
async function waitForTriggers(pd: FakePagerDuty, count: number, capMs: number): Promise<boolean> {
  const started = Date.now();
  while (Date.now() - started < capMs) {
    if (tally(pd).distinctAccepted >= count) {
      await sleep(500);
      return true;
    }
    await sleep(50);
  }
  return false;
}

function summarize(pd: FakePagerDuty, count: number, startedAt: number, drained: boolean, rssMb: number | null) {
  const counts = tally(pd);
  return {
    lastTriggerSeconds: counts.lastAcceptedAt ? round((counts.lastAcceptedAt - startedAt) / 1000, 3) : null,
    firstRequestSeconds: counts.firstAt ? round((counts.firstAt - startedAt) / 1000, 3) : null,
    drained,
    pagerdutyRequests: counts.requests,
    accepted: counts.accepted,
    lost: count - counts.distinctAccepted,
    duplicates: counts.duplicatesTotal,
    peakRssMb: rssMb,
  };
}

async function runAlertmanager(binary: string, alerts: Json[], latencyMs: number, capMs: number) {
  const pd = await startTimedPagerDuty({ latencyMs });
  const dir = mkdtempSync(join(tmpdir(), 'bench-am-'));
  const port = await freePort();
  const config = [
    'route:',
    '  receiver: pd',
    "  group_by: ['...']",
    '  group_wait: 0s',
    '  group_interval: 5m',
    '  repeat_interval: 4h',
    'receivers:',
    '  - name: pd',
    '    pagerduty_configs:',
    `      - routing_key: ${ROUTING_KEY}`,
    `        url: ${pd.url}`,
    '        send_resolved: false',
    '',
  ].join('\n');
  writeFileSync(join(dir, 'alertmanager.yml'), config);
  const child = spawn(
    binary,
    [
      `--config.file=${join(dir, 'alertmanager.yml')}`,
      `--storage.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--cluster.listen-address=',
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-4000);
  });
  const base = `http://127.0.0.1:${port}`;
  try {
    const readyBy = Date.now() + 15_000;
    for (;;) {
      try {
        if ((await fetch(`${base}/-/ready`)).ok) break;
      } catch {
        // not listening yet
      }
      if (Date.now() > readyBy) throw new Error(`Alertmanager did not become ready:\n${stderr}`);
      await sleep(50);
    }
    const startedAt = Date.now();
    const response = await fetch(`${base}/api/v2/alerts`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(alerts),
    });
    if (!response.ok) throw new Error(`Alertmanager refused the alerts: ${response.status} ${await response.text()}`);
    const drained = await waitForTriggers(pd, alerts.length, capMs);
    return summarize(pd, alerts.length, startedAt, drained, peakRssMb(child.pid));
  } finally {
    child.kill('SIGTERM');
    await new Promise<void>((resolvePromise) => {
      if (child.exitCode !== null || child.signalCode !== null) resolvePromise();
      else child.once('exit', () => resolvePromise());
    });
    rmSync(dir, { recursive: true, force: true });
    await pd.close();
  }
}

async function runBridge(body: string, count: number, latencyMs: number, capMs: number, store: BenchStore) {
  const pd = await startTimedPagerDuty({ latencyMs });
  const runtime = await startLocalRuntime({
    ...store.env,
    PAGERDUTY_ROUTING_KEY: ROUTING_KEY,
    PAGERDUTY_EVENTS_URL: pd.url,
    PAGERDUTY_RATE_PER_MINUTE: '100000',
  });
  try {
    const startedAt = Date.now();
    const response = await postCallback(runtime.url, body);
    const answeredAt = Date.now();
    if (response.status >= 300) throw new Error(`bridge answered ${response.status}: ${JSON.stringify(response.json)}`);
    const drained = await waitForTriggers(pd, count, capMs);
    return {
      ...summarize(pd, count, startedAt, drained, peakRssMb(runtime.child.pid)),
      // The webhook's own share (sent before its answer) and the relay's (after it, once kicked).
      acceptedBeforeAnswer: tally(pd, Number.NEGATIVE_INFINITY, answeredAt).accepted,
      callbackMs: round(response.ms, 0),
      callbackStatus: response.status,
      callbackAnswer: response.json,
      healthRuns: runtime.counts(),
    };
  } finally {
    await runtime.stop();
    await pd.close();
  }
}

async function compareWithAlertmanager(options: {
  alerts: number;
  latencies: number[];
  capSeconds: number;
  storeKind: BenchStore['kind'];
  storeNote: string;
  buildDir: string;
}) {
  const found = findAlertmanager();
  if (found === undefined) return { available: false, reason: `none of ${BINARIES.join(', ')} is installed` };
  const rows = [];
  for (const latencyMs of options.latencies) {
    const body = armsCallback(options.alerts);
    const parsed = JSON.parse(body) as { alerts: Json[] };
    // Alertmanager gets the same label sets and annotations; it stamps its own startsAt (now).
    const amAlerts = parsed.alerts.map((alert) => ({ labels: alert.labels, annotations: alert.annotations }));
    const alertmanager = await runAlertmanager(found.binary, amAlerts, latencyMs, options.capSeconds * 1000);
    const store = await createStore(options.storeKind, options.buildDir, options.storeNote);
    let bridge: Awaited<ReturnType<typeof runBridge>>;
    try {
      bridge = await runBridge(body, options.alerts, latencyMs, options.capSeconds * 1000, store);
    } finally {
      await store.close();
    }
    rows.push({ pagerdutyLatencyMs: latencyMs, alertmanager, bridge });
  }
  return {
    available: true,
    alertmanagerVersion: found.version,
    method:
      `${options.alerts} firing alerts: Alertmanager via POST /api/v2/alerts (group_by ['...'], group_wait 0s, ` +
      'PagerDuty receiver → fake PD); the bridge via one ARMS callback to the local runtime (delivery-health on ' +
      `s.yaml's cron, pacing off, ${options.storeKind} store); time from the POST to the last trigger accepted; ` +
      `cap ${options.capSeconds} s`,
    rows,
  };
}

export { compareWithAlertmanager };
