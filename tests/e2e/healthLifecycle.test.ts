/**
 * Issue 6, "Done when", end to end through the local runtime (what `npm start` runs) with `LOCAL_TIMER_SECONDS=1`, so
 * `delivery-health` runs every second, and time thresholds set to seconds:
 *
 * 1. File store, PagerDuty failing for the main routing key only (a loopback proxy in front of the fake PagerDuty
 *    answers 500 for that key, see `tests/support/keyFailingProxy.ts`): the backlog grows, the per-run report goes
 *    `degraded` then `failing` (rule `outbox-age`), the self-alert is triggered on the health key (never the main
 *    key) and the heartbeat gets `/fail`; PagerDuty recovers: the backlog drains with every alert accepted exactly once
 *    per delivery key, the report turns `healthy`, the self-alert is resolved and the heartbeat gets plain pings.
 * 2. Tablestore (`STORE=tablestore` on the wire-compatible fake): once answering `OTSServerBusy` and once hanging
 *    on every operation (`STORE_TIMEOUT_MS=300`), with a backlog already queued in it (PagerDuty failing for the main
 *    key at first): the report says `storeReachable: false`, verdict `failing` (rule `store-unreachable`),
 *    self-alert and `/fail`; PagerDuty recovers while the store is down, so a callback posted meanwhile fails open
 *    (straight to PagerDuty, answered 200); the faults removed: the backlog drains, every alert accepted exactly
 *    once, `healthy`, self-alert resolved, plain pings.
 *
 * The report is read from the runtime's per-run line `[delivery-health] … timer ok in N ms: {json}` (the runs the
 * webhook's kick starts print `async invocation ok` instead and are not read). Every wait is bounded (≤ 15 s);
 * nothing asserts a duration. `HEALTH_MAX_FAILURE_RATIO=1`: the failure-ratio rule judges the failures of the whole
 * report window (`HEALTH_WINDOW_SECONDS`, 300 s by default, 60 s at least), so with the default 0.5 the report stays
 * `degraded` (and the self-alert open) until the outage's failures leave the window, long after the backlog drained.
 */

import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DUE_PRIMARY_KEY, dueTableName, MAIN_PRIMARY_KEY } from '../../shared/store/tablestore/rowCodec';
import { type FakePagerDuty, startFakePagerDuty } from '../support/fakePagerDuty';
import { type FakeTablestore, startFakeTablestore } from '../support/fakeTablestore';
import { type KeyFailingProxy, startKeyFailingProxy } from '../support/keyFailingProxy';
import { type RunningRuntime, startRuntime } from '../support/runtime';

const MAIN_KEY = 'HLMAINROUTINGKEY0000000000000001';
const HEALTH_KEY = 'HLHEALTHROUTINGKEY00000000000002';
const HEARTBEAT_TOKEN = 'hb-token-5f1c9a7e-secret';
const WEBHOOK_TOKEN = 'health-lifecycle-webhook-token';
const ACCESS_KEY_SECRET = 'health-lifecycle-sk-secret';
const TABLE = 'alert_delivery';
/** Bound of every wait. */
const WAIT_MS = 15_000;
/** Bound of one case: a few bounded waits in a row. */
const TEST_TIMEOUT_MS = 45_000;
const SELF_ALERT_PREFIX = 'arms-pagerduty-bridge/health/';

const sample = JSON.parse(readFileSync(join(__dirname, '../fixtures/arms/sample.json'), 'utf8'));

/** A callback of the ARMS sample whose alerts have the given fingerprints (distinct alerts, distinct delivery keys). */
function callbackWith(fingerprints: string[]): string {
  const alerts = fingerprints.map((fingerprint, index) => ({
    ...sample.alerts[0],
    fingerprint,
    status: 'firing',
    startsAt: new Date(Date.parse('2024-07-01T00:00:00.000Z') + index * 1_000).toISOString(),
  }));
  return JSON.stringify({ ...sample, alerts });
}

/** What the test reads of a health report. */
interface Report {
  ok: boolean;
  verdict: 'healthy' | 'degraded' | 'failing';
  rule: string;
  rules: string[];
  storeReachable: boolean;
  oldestWaitingSeconds: number | null;
  outbox: Record<string, number>;
  selfAlert?: { state?: string; sent?: string };
  heartbeat?: { ok: boolean; status?: number };
}

const REPORT_LINE = /\[delivery-health\][^\n]* (?:timer|async invocation) ok in \d+ ms: (\{[^\n]*\})/g;

/** Every report the runtime printed so far, in order. */
function reports(runtime: RunningRuntime): Report[] {
  return [...runtime.output().matchAll(REPORT_LINE)].map((match) => JSON.parse(match[1] as string) as Report);
}

/** Polls `probe` until it returns a value (not undefined), at most `timeoutMs`. */
async function eventually<T>(
  what: string,
  probe: () => T | undefined,
  context: () => string,
  timeoutMs = WAIT_MS,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${context()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A Healthchecks-style endpoint on loopback that records the path of every request. */
interface Heartbeat {
  url: string;
  /** The path of every request, in arrival order. */
  paths: string[];
  close(): Promise<void>;
}

async function startHeartbeat(): Promise<Heartbeat> {
  const paths: string[] = [];
  const server: Server = createServer((req, res) => {
    paths.push(new URL(req.url ?? '/', 'http://heartbeat').pathname);
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('OK');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/ping/${HEARTBEAT_TOKEN}`,
    paths,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const OK_PING = `/ping/${HEARTBEAT_TOKEN}`;
const FAIL_PING = `/ping/${HEARTBEAT_TOKEN}/fail`;

/** The settings both cases share: a fast timer, thresholds in seconds, short timeouts. */
function baseEnv(eventsUrl: string, heartbeatUrl: string): Record<string, string> {
  return {
    LOCAL_TIMER_SECONDS: '1',
    PAGERDUTY_ROUTING_KEY: MAIN_KEY,
    HEALTH_ROUTING_KEY: HEALTH_KEY,
    PAGERDUTY_EVENTS_URL: eventsUrl,
    HEARTBEAT_URL: heartbeatUrl,
    WEBHOOK_TOKENS: WEBHOOK_TOKEN,
    HEALTH_DEGRADED_OUTBOX_AGE_SECONDS: '1',
    HEALTH_MAX_OUTBOX_AGE_SECONDS: '4',
    HEALTH_MAX_FAILURE_RATIO: '1',
    RETRY_BASE_SECONDS: '1',
    RETRY_MAX_SECONDS: '2',
    HEALTH_TIME_BUDGET_SECONDS: '5',
    PAGERDUTY_TIMEOUT_MS: '300',
  };
}

type PdEvent = FakePagerDuty['events'][number];

function dedupKeyOf(event: PdEvent): string {
  return String((event.body as { dedup_key?: unknown } | undefined)?.dedup_key ?? '');
}

function actionOf(event: PdEvent): string {
  return String((event.body as { event_action?: unknown } | undefined)?.event_action ?? '');
}

function isSelfAlert(event: PdEvent): boolean {
  return dedupKeyOf(event).startsWith(SELF_ALERT_PREFIX);
}

/**
 * The index in `pd.events` of the first accepted self-alert `action` after index `after`. (The first healthy run
 * already sends a resolve: it does not know the incident's state yet, and PagerDuty drops a resolve with nothing open.)
 */
function selfAlertIndex(pd: FakePagerDuty, action: 'trigger' | 'resolve', after: number): number | undefined {
  const index = pd.events.findIndex(
    (event, at) => at > after && isSelfAlert(event) && actionOf(event) === action && event.outcome === 202,
  );
  return index === -1 ? undefined : index;
}

/** The main key's accepted alert events as `<dedup_key> <action>`, sorted. */
function acceptedOnMainKey(pd: FakePagerDuty): string[] {
  return pd
    .accepted()
    .filter((event) => event.routingKey === MAIN_KEY)
    .map((event) => `${dedupKeyOf(event)} ${actionOf(event)}`)
    .sort();
}

describe('e2e: delivery-health lifecycle in the local runtime', () => {
  let pd: FakePagerDuty | undefined;
  let proxy: KeyFailingProxy | undefined;
  let heartbeat: Heartbeat | undefined;
  let tablestore: FakeTablestore | undefined;
  let runtime: RunningRuntime | undefined;

  afterEach(async () => {
    await runtime?.stop().catch(() => runtime?.kill());
    await proxy?.close();
    await pd?.close();
    await heartbeat?.close();
    await tablestore?.close();
    runtime = undefined;
    proxy = undefined;
    pd = undefined;
    heartbeat = undefined;
    tablestore = undefined;
  });

  /** What a failure of the test prints: the verdicts so far, the heartbeat, PagerDuty's log and the output. */
  function contextOf(rt: RunningRuntime, fakePd: FakePagerDuty, hb: Heartbeat): () => string {
    const keyName = (key: string | undefined) => (key === HEALTH_KEY ? 'health' : key === MAIN_KEY ? 'main' : key);
    return () => {
      const verdicts = reports(rt).map((r) => [r.verdict, r.rule, r.oldestWaitingSeconds, r.storeReachable]);
      const events = fakePd.events.map((e) => [keyName(e.routingKey), dedupKeyOf(e), actionOf(e), e.outcome]);
      return [
        `reports: ${JSON.stringify(verdicts)}`,
        `heartbeat: ${JSON.stringify(hb.paths)}`,
        `pagerduty: ${JSON.stringify(events)}`,
        `output:\n${rt.output()}`,
      ].join('\n');
    };
  }

  /** No secret of the configuration is printed, whatever happened. */
  function expectNoSecretIn(output: string): void {
    for (const secret of [MAIN_KEY, HEALTH_KEY, HEARTBEAT_TOKEN, WEBHOOK_TOKEN, ACCESS_KEY_SECRET]) {
      expect(output).not.toContain(secret);
    }
  }

  it(
    'PagerDuty failing for the main key: degraded, failing (outbox-age), self-alert on the health key and /fail; ' +
      'recovered: drained exactly once, healthy, self-alert resolved, plain pings',
    async () => {
      // Prepare
      const fakePd = await startFakePagerDuty();
      pd = fakePd;
      const keyProxy = await startKeyFailingProxy({ target: fakePd.url, failingKey: MAIN_KEY });
      proxy = keyProxy;
      const hb = await startHeartbeat();
      heartbeat = hb;
      const rt = await startRuntime({ env: baseEnv(keyProxy.url, hb.url) });
      runtime = rt;
      const context = contextOf(rt, fakePd, hb);
      await eventually('a first healthy report', () => reports(rt).find((r) => r.verdict === 'healthy'), context);
      const fingerprints = ['hl-pd-1', 'hl-pd-2', 'hl-pd-3', 'hl-pd-4', 'hl-pd-5'];

      // Act: callbacks arrive while PagerDuty fails for the main key (the proxy starts failing)
      const answers = [
        await rt.post('/', callbackWith(fingerprints.slice(0, 2)), { 'X-Webhook-Token': WEBHOOK_TOKEN }),
        await rt.post('/', callbackWith(fingerprints.slice(2)), { 'X-Webhook-Token': WEBHOOK_TOKEN }),
      ];
      const faultFrom = reports(rt).length;
      await eventually(
        'a failing report',
        () =>
          reports(rt)
            .slice(faultFrom)
            .find((r) => r.verdict === 'failing'),
        context,
      );
      const triggerAt = await eventually(
        'the self-alert trigger',
        () => selfAlertIndex(fakePd, 'trigger', -1),
        context,
      );
      await eventually('a /fail ping', () => (hb.paths.includes(FAIL_PING) ? true : undefined), context);
      const faultReports = reports(rt).slice(faultFrom);
      const acceptedDuringFault = acceptedOnMainKey(fakePd);

      // Act: PagerDuty recovers for the main key
      keyProxy.failing = false;
      const recoveryFrom = reports(rt).length;
      const pingsBeforeRecovery = hb.paths.length;
      await eventually(
        'a healthy report after the recovery',
        () =>
          reports(rt)
            .slice(recoveryFrom)
            .find((r) => r.verdict === 'healthy'),
        context,
      );
      const resolveAt = await eventually(
        'the self-alert resolve',
        () => selfAlertIndex(fakePd, 'resolve', triggerAt),
        context,
      );
      await eventually(
        'a plain ping after the recovery',
        () => (hb.paths.slice(pingsBeforeRecovery).includes(OK_PING) ? true : undefined),
        context,
      );
      const recoveryReports = reports(rt).slice(recoveryFrom);

      // Assess: the callbacks were answered "queued" (stored for the relay), nothing reached PagerDuty meanwhile
      for (const answer of answers) {
        expect(answer.status).toBe(202);
        expect(answer.json).toMatchObject({ status: 'queued' });
      }
      expect(acceptedDuringFault).toEqual([]);
      expect(keyProxy.requests.filter((r) => r.failedHere).length).toBeGreaterThanOrEqual(fingerprints.length);
      // the report went degraded (backlog) before failing (outbox-age), the store reachable all along
      const degradedAt = faultReports.findIndex((r) => r.verdict === 'degraded');
      const failingAt = faultReports.findIndex((r) => r.verdict === 'failing');
      expect(degradedAt).toBeGreaterThanOrEqual(0);
      expect(degradedAt).toBeLessThan(failingAt);
      expect(faultReports[degradedAt]).toMatchObject({ rule: 'backlog', storeReachable: true });
      expect(faultReports[failingAt]).toMatchObject({ rule: 'outbox-age', storeReachable: true });
      expect(faultReports).toContainEqual(expect.objectContaining({ selfAlert: { state: 'open', sent: 'trigger' } }));
      // the self-alert went through the health key only; the main key never carried it, the health key no alert
      const trigger = fakePd.events[triggerAt] as PdEvent;
      const resolve = fakePd.events[resolveAt] as PdEvent;
      expect(trigger.routingKey).toBe(HEALTH_KEY);
      expect(resolve.routingKey).toBe(HEALTH_KEY);
      expect(dedupKeyOf(resolve)).toBe(dedupKeyOf(trigger));
      expect(keyProxy.requests.filter((r) => r.routingKey === MAIN_KEY).map((r) => r.dedupKey)).not.toContain(
        dedupKeyOf(trigger),
      );
      expect(keyProxy.requests.filter((r) => r.routingKey === HEALTH_KEY).every((r) => !r.failedHere)).toBe(true);
      expect(
        keyProxy.requests.filter((r) => r.routingKey === HEALTH_KEY).every((r) => r.dedupKey === dedupKeyOf(trigger)),
      ).toBe(true);
      // the backlog drained: every queued alert accepted exactly once on the main key, nothing left waiting
      expect(acceptedOnMainKey(fakePd)).toEqual(fingerprints.map((fingerprint) => `${fingerprint} trigger`).sort());
      const healthy = recoveryReports.find((r) => r.verdict === 'healthy');
      expect(healthy).toMatchObject({ rule: 'ok', outbox: {}, oldestWaitingSeconds: null });
      expect(recoveryReports).toContainEqual(
        expect.objectContaining({ selfAlert: { state: 'closed', sent: 'resolve' } }),
      );
      // the heartbeat: plain pings, /fail while failing, plain pings again
      expect(hb.paths.every((path) => path === OK_PING || path === FAIL_PING)).toBe(true);
      expect(hb.paths[0]).toBe(OK_PING);
      expectNoSecretIn(rt.output());
    },
    TEST_TIMEOUT_MS,
  );

  it.each([
    { fault: 'OTSServerBusy on every call', action: { kind: 'error', code: 'OTSServerBusy' } as const },
    { fault: 'every call hanging', action: { kind: 'hang' } as const },
  ])(
    'Tablestore $fault: store-unreachable, self-alert and /fail, callbacks fail open; faults removed: backlog drained ' +
      'exactly once, healthy, self-alert resolved, plain pings',
    async ({ action }) => {
      // Prepare: the tables as `npm run infra:tablestore` creates them, PagerDuty failing for the main key at first
      const ots = await startFakeTablestore();
      tablestore = ots;
      ots.tables.create(TABLE, MAIN_PRIMARY_KEY, { timeToLive: 7 * 86_400 });
      ots.tables.create(dueTableName(TABLE), DUE_PRIMARY_KEY, { timeToLive: 7 * 86_400 });
      const fakePd = await startFakePagerDuty();
      pd = fakePd;
      const keyProxy = await startKeyFailingProxy({ target: fakePd.url, failingKey: MAIN_KEY });
      proxy = keyProxy;
      const hb = await startHeartbeat();
      heartbeat = hb;
      const rt = await startRuntime({
        env: {
          ...baseEnv(keyProxy.url, hb.url),
          STORE: 'tablestore',
          TABLESTORE_ENDPOINT: ots.endpoint,
          TABLESTORE_INSTANCE: ots.instance,
          TABLESTORE_TABLE: TABLE,
          ALIBABA_CLOUD_ACCESS_KEY_ID: 'health-lifecycle-ak',
          ALIBABA_CLOUD_ACCESS_KEY_SECRET: ACCESS_KEY_SECRET,
          STORE_TIMEOUT_MS: '300',
          // A claim whose outcome could not be written when the store went away is taken over after this lease.
          LEASE_SECONDS: '5',
        },
      });
      runtime = rt;
      const context = contextOf(rt, fakePd, hb);
      await eventually('a first healthy report', () => reports(rt).find((r) => r.verdict === 'healthy'), context);
      const queuedFingerprints = ['hl-ots-q1', 'hl-ots-q2'];
      const failOpenFingerprints = ['hl-ots-1', 'hl-ots-2', 'hl-ots-3'];

      // Act: a backlog in Tablestore (PagerDuty fails for the main key), then Tablestore fails on every operation
      const queued = await rt.post('/', callbackWith(queuedFingerprints), { 'X-Webhook-Token': WEBHOOK_TOKEN });
      const queuedFrom = reports(rt).length;
      await eventually(
        'a report with the backlog',
        () =>
          reports(rt)
            .slice(queuedFrom)
            .find((r) => (r.outbox.RETRY ?? 0) + (r.outbox.PENDING ?? 0) > 0),
        context,
      );
      const fault = ots.faults.add({ action, times: Number.POSITIVE_INFINITY });
      const faultFrom = reports(rt).length;
      await eventually(
        'a report with the store unreachable',
        () =>
          reports(rt)
            .slice(faultFrom)
            .find((r) => !r.storeReachable),
        context,
      );
      // PagerDuty recovers while the store is down: a callback now fails open, straight to PagerDuty
      keyProxy.failing = false;
      const failOpen = await rt.post('/', callbackWith(failOpenFingerprints), { 'X-Webhook-Token': WEBHOOK_TOKEN });
      const triggerAt = await eventually(
        'the self-alert trigger',
        () => selfAlertIndex(fakePd, 'trigger', -1),
        context,
      );
      await eventually('a /fail ping', () => (hb.paths.includes(FAIL_PING) ? true : undefined), context);
      const faultReports = reports(rt).slice(faultFrom);
      const acceptedDuringFault = acceptedOnMainKey(fakePd);

      // Act: Tablestore recovers
      fault.remove();
      const recoveryFrom = reports(rt).length;
      const pingsBeforeRecovery = hb.paths.length;
      await eventually(
        'a healthy report after the recovery',
        () =>
          reports(rt)
            .slice(recoveryFrom)
            .find((r) => r.verdict === 'healthy'),
        context,
      );
      const resolveAt = await eventually(
        'the self-alert resolve',
        () => selfAlertIndex(fakePd, 'resolve', triggerAt),
        context,
      );
      await eventually(
        'a plain ping after the recovery',
        () => (hb.paths.slice(pingsBeforeRecovery).includes(OK_PING) ? true : undefined),
        context,
      );
      const recoveryReports = reports(rt).slice(recoveryFrom);

      // Assess: the first callback was queued in Tablestore
      expect(queued.status).toBe(202);
      expect(queued.json).toMatchObject({ status: 'queued' });
      // the store was reported unreachable: failing by that rule, self-alert triggered
      const unreachable = faultReports.find((r) => !r.storeReachable);
      expect(unreachable).toMatchObject({ verdict: 'failing', rule: 'store-unreachable' });
      expect(faultReports).toContainEqual(expect.objectContaining({ selfAlert: { state: 'open', sent: 'trigger' } }));
      // the callback during the outage failed open: answered 200, its alerts sent straight to PagerDuty, once each
      expect(failOpen.status).toBe(200);
      expect(failOpen.json).toMatchObject({ status: 'accepted' });
      const triggers = (list: string[]) => list.map((fingerprint) => `${fingerprint} trigger`);
      expect(acceptedDuringFault).toEqual(triggers(failOpenFingerprints).sort());
      // after the recovery the backlog drained: every alert accepted exactly once on the main key
      expect(acceptedOnMainKey(fakePd)).toEqual(triggers([...failOpenFingerprints, ...queuedFingerprints]).sort());
      // the self-alert went through the health key only, and the health key carried nothing else
      const trigger = fakePd.events[triggerAt] as PdEvent;
      const resolve = fakePd.events[resolveAt] as PdEvent;
      expect(trigger.routingKey).toBe(HEALTH_KEY);
      expect(resolve.routingKey).toBe(HEALTH_KEY);
      expect(dedupKeyOf(resolve)).toBe(dedupKeyOf(trigger));
      expect(keyProxy.requests.filter((r) => r.routingKey === MAIN_KEY).map((r) => r.dedupKey)).not.toContain(
        dedupKeyOf(trigger),
      );
      expect(fakePd.events.filter((event) => event.routingKey === HEALTH_KEY).every(isSelfAlert)).toBe(true);
      // healthy again with the store reachable and nothing waiting, the self-alert resolved by that run
      expect(recoveryReports.find((r) => r.verdict === 'healthy')).toMatchObject({
        rule: 'ok',
        storeReachable: true,
        outbox: {},
        oldestWaitingSeconds: null,
      });
      expect(recoveryReports).toContainEqual(
        expect.objectContaining({ selfAlert: { state: 'closed', sent: 'resolve' } }),
      );
      expect(hb.paths.every((path) => path === OK_PING || path === FAIL_PING)).toBe(true);
      expectNoSecretIn(rt.output());
    },
    TEST_TIMEOUT_MS,
  );
});
