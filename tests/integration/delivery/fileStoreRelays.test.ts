/**
 * Two relays on one STORE_PATH never send the same delivery twice: two processes run the built delivery-health bundle
 * (whose run relays what is due, `relayDue`) at the same moment, over one file store holding queued deliveries, against
 * the fake PagerDuty. Each process loads the bundle first (its cold start), says so, and runs only when both have.
 * The test run builds first (`npm test`).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DeliveryStatus } from '../../../shared/constants';
import { FileStore } from '../../../shared/store/FileStore';
import { deliveryRecord } from '../../support/deliveryRecords';
import { timerEvent } from '../../support/fcEvents';
import { fakePagerDutyPerTest } from '../../support/pagerDutyPerFile';

const root = join(__dirname, '..', '..', '..');
const QUEUED = 300;
const ROUTING_KEY = 'TWORELAYSROUTINGKEY0000000000001';

const pagerDuties = fakePagerDutyPerTest();
const dirs: string[] = [];
const children: ChildProcess[] = [];

afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Loads the bundle, prints `ready`, runs the handler once on the first line of stdin, prints its result. */
const RELAY_SCRIPT = `
  const bundle = require(${JSON.stringify(join(root, 'dist', 'delivery-health', 'index.js'))});
  const context = { requestId: 'relay-' + process.pid, credentials: {}, function: { name: 'delivery-health' } };
  process.stdout.write('ready\\n');
  process.stdin.once('data', () => bundle.handler(Buffer.from(process.env.EVENT_B64, 'base64'), context).then(
    (result) => { process.stdout.write('RESULT ' + JSON.stringify(result) + '\\n'); process.exit(0); },
    (error) => { process.stdout.write('THREW ' + error.message + '\\n'); process.exit(1); },
  ));`;

/** A relay process and its output so far. */
function startRelay(env: Record<string, string>) {
  const child = spawn(process.execPath, ['-e', RELAY_SCRIPT], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', EVENT_B64: timerEvent().toString('base64'), ...env },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  children.push(child);
  let output = '';
  const checks: Array<() => void> = [];
  child.stdout?.on('data', (chunk) => {
    output += String(chunk);
    for (const check of checks) check();
  });
  const waitFor = (text: string) =>
    new Promise<string>((resolve, reject) => {
      const check = () => output.includes(text) && resolve(output);
      checks.push(check);
      child.once('exit', (code) => reject(new Error(`relay exited (${code}) before "${text}":\n${output}`)));
      check();
    });
  const ready = waitFor('ready\n');
  const result = waitFor('RESULT ').then(
    (text) => JSON.parse(text.slice(text.indexOf('RESULT ') + 7).split('\n')[0] as string) as RelayReport,
  );
  return { child, ready, result };
}

interface RelayReport {
  relay?: { attempted: number; delivered: number; lostRaces: number };
}

describe('Two relays on one file store', () => {
  it(`send each of ${QUEUED} queued deliveries exactly once`, async () => {
    // Prepare
    const pd = await pagerDuties.start();
    const path = mkdtempSync(join(tmpdir(), 'two-relays-'));
    dirs.push(path);
    const now = Date.now();
    const queued = Array.from({ length: QUEUED }, (_, index) =>
      deliveryRecord(`d1-relay-${String(index).padStart(4, '0')}`, now - 60_000 + index, { nextAttemptAt: now - 1 }),
    );
    await new FileStore({ path }).claim(queued);
    const env = {
      STORE: 'file',
      STORE_PATH: path,
      PAGERDUTY_ROUTING_KEY: ROUTING_KEY,
      PAGERDUTY_EVENTS_URL: pd.url,
      PAGERDUTY_RATE_PER_MINUTE: '100000',
    };
    const relays = [startRelay(env), startRelay(env)];
    await Promise.all(relays.map((relay) => relay.ready));

    // Act
    for (const relay of relays) relay.child.stdin?.write('go\n');
    const reports = await Promise.all(relays.map((relay) => relay.result));

    // Assess
    const sends = new Map<string, number>();
    for (const event of pd.events) {
      const dedupKey = (event.body as { dedup_key: string }).dedup_key;
      sends.set(dedupKey, (sends.get(dedupKey) ?? 0) + 1);
    }
    const sentTwice = [...sends].filter(([, count]) => count > 1).map(([dedupKey]) => dedupKey);
    expect(sentTwice).toEqual([]);
    expect(sends.size).toBe(QUEUED);
    expect(reports.map((report) => report.relay?.delivered ?? 0).reduce((a, b) => a + b)).toBe(QUEUED);
    const statuses = new Set((await new FileStore({ path }).list()).map((row) => row.status));
    expect(statuses).toEqual(new Set([DeliveryStatus.DELIVERED]));
  });
});
