/**
 * Crash consistency with several instances on one store (issue 16): two local runtimes (what `npm start` runs), each
 * one webhook instance, on one store (the file store's `STORE_PATH`, or the Tablestore wire fake), and a fake
 * PagerDuty slow enough that sends are in flight. A burst mixes trigger callbacks with callbacks resolving some of
 * those alerts, each resolve posted to the other instance at the same moment as its trigger. One instance is killed
 * (SIGKILL) mid-burst; the survivor keeps serving, its timer relays, and the killed one is restarted on the same store.
 *
 * The killed runtime is a webhook instance only, as on FC (where `delivery-health` runs in instances of its own): no
 * timer, and its kick runs `delivery-health` on the survivor's runtime. So what the crash can cost is what one webhook
 * invocation sent and had not recorded (docs/delivery.md "Crash cost").
 *
 * Reported and asserted, once the outbox is drained:
 * - lost = 0: every alert of every callback answered 2xx reached PagerDuty, except the occurrences the contract says
 *   are never paged (resolved before their trigger could be delivered, CONTRACT.md §5.1, §5.8: both rows say so and
 *   no trigger was accepted); a resolve answered 2xx whose trigger was accepted was accepted after it;
 * - left-open = 0: no trigger accepted after a resolve of its `dedup_key`, in PagerDuty's arrival order;
 * - duplicates ≤ the crash bound: events accepted more than once per (dedup_key, action).
 *
 * Bounded waits only; no assertion is about time.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DeliveryStatus, SENDS_IN_FLIGHT } from '../../shared/constants';
import { RESOLVED_BEFORE_DELIVERY } from '../../shared/delivery/ordering';
import type { DeliveryRecord } from '../../shared/store/DeliveryRecord';
import type { DeliveryStore } from '../../shared/store/DeliveryStore';
import { FileStore } from '../../shared/store/FileStore';
import type { ReceivedRequest } from '../support/fakePagerDuty';
import { fakePagerDutyPerTest } from '../support/pagerDutyPerFile';
import { type RunningRuntime, startRuntime } from '../support/runtime';
import { startTablestoreOverFake, type TablestoreOverFake } from '../support/tablestoreOverFake';

const ROUTING_KEY = 'CRASHROUTINGKEY00000000000000001';
const TOKEN = 'crash-webhook-token-7';
const TRIGGER_CALLBACKS = 16;
const ALERTS_PER_CALLBACK = 8;
/** Alerts of each trigger callback that a callback to the other instance resolves at the same moment. */
const RESOLVED_PER_CALLBACK = 4;
const LEASE_SECONDS = 5;
/**
 * The killed instance is killed once this many of its callbacks are answered and the triggers of one it has not
 * answered are on the wire (PagerDuty has received some of them): sent, and not recorded.
 */
const ANSWERED_BEFORE_KILL = 3;
/** Bound of the wait for the relay to drain the store after the restart. */
const DRAIN_TIMEOUT_MS = 30_000;
/**
 * What one crash of a webhook instance can re-send: the sends of its one invocation (FC instance concurrency 1; the
 * local runtime queues invocations likewise) whose outcomes were not written yet, at most the sends on the wire
 * (SENDS_IN_FLIGHT) plus the slice being recorded (SENDS_IN_FLIGHT outcomes), and never more than the alerts of the
 * callback it was handling.
 */
const CRASH_RESEND_BOUND = Math.min(ALERTS_PER_CALLBACK, 2 * SENDS_IN_FLIGHT);
const sample = JSON.parse(readFileSync(join(__dirname, '../fixtures/arms/sample.json'), 'utf8'));
const WAITING: ReadonlySet<string> = new Set([DeliveryStatus.PENDING, DeliveryStatus.RETRY, DeliveryStatus.SENDING]);
const BASE = Date.parse('2024-07-01T00:00:00.000Z');

interface PostedAlert {
  fingerprint: string;
  status: 'firing' | 'resolved';
  startsAt: string;
}
interface Callback {
  alerts: PostedAlert[];
  body: string;
  /** Index of the runtime it is posted to (0: the one killed). */
  instance: number;
}

function bodyOf(alerts: PostedAlert[]): string {
  const body = alerts.map((alert) => ({
    ...sample.alerts[0],
    ...alert,
    ...(alert.status === 'resolved' ? { endsAt: new Date(Date.parse(alert.startsAt) + 60_000).toISOString() } : {}),
  }));
  return JSON.stringify({ ...sample, status: alerts[0]?.status ?? 'firing', alerts: body });
}

/** Trigger callback i on instance i % 2, then the resolves of its first alerts on the other instance, in that order. */
function planBurst(): Callback[] {
  const burst: Callback[] = [];
  for (let index = 0; index < TRIGGER_CALLBACKS; index++) {
    const triggers = Array.from({ length: ALERTS_PER_CALLBACK }, (_, n) => ({
      fingerprint: `crash-${index}-${n}`,
      status: 'firing' as const,
      startsAt: new Date(BASE + index * 60_000 + n * 1_000).toISOString(),
    }));
    const resolves = triggers
      .slice(0, RESOLVED_PER_CALLBACK)
      .map((alert) => ({ ...alert, status: 'resolved' as const }));
    burst.push({ alerts: triggers, body: bodyOf(triggers), instance: index % 2 });
    burst.push({ alerts: resolves, body: bodyOf(resolves), instance: (index + 1) % 2 });
  }
  return burst;
}

interface SentEvent {
  dedup_key: string;
  event_action: 'trigger' | 'resolve';
}
const sentOf = (request: ReceivedRequest) => request.body as SentEvent;

interface CrashFigures {
  acknowledged: number;
  lost: string[];
  leftOpen: string[];
  duplicates: number;
  /** Acknowledged triggers never paged because their resolve came first (the race the burst sets up). */
  neverPaged: number;
}

const describeRows = (...rows: (DeliveryRecord | undefined)[]) =>
  rows
    .map((row) => (row ? `${row.action} ${row.status} ×${row.attempts} (${row.lastError ?? ''})` : 'none'))
    .join('; ');

/** The figures of the run: what PagerDuty accepted, against what was acknowledged and what the store says. */
function figuresOf(acknowledged: Callback[], accepted: ReceivedRequest[], rows: DeliveryRecord[]): CrashFigures {
  const byKey = new Map<string, { trigger?: DeliveryRecord; resolve?: DeliveryRecord }>();
  for (const row of rows) byKey.set(row.dedupKey, { ...byKey.get(row.dedupKey), [row.action]: row });
  const events = new Map<string, SentEvent['event_action'][]>();
  const perDelivery = new Map<string, number>();
  for (const request of accepted) {
    const event = sentOf(request);
    events.set(event.dedup_key, [...(events.get(event.dedup_key) ?? []), event.event_action]);
    const delivery = `${event.dedup_key}|${event.event_action}`;
    perDelivery.set(delivery, (perDelivery.get(delivery) ?? 0) + 1);
  }
  const lost: string[] = [];
  let neverPaged = 0;
  for (const alert of acknowledged.flatMap((callback) => callback.alerts)) {
    const seen = events.get(alert.fingerprint) ?? [];
    const lastTrigger = seen.lastIndexOf('trigger');
    if (alert.status === 'firing' && lastTrigger < 0) {
      // Never paged, as the contract wants it, only when its resolve came first: the trigger row was stopped before
      // any attempt, and the resolve row exists (it says "resolved before delivery", or it was sent while its
      // trigger was still unknown to the bridge, which PagerDuty drops).
      const { trigger, resolve } = byKey.get(alert.fingerprint) ?? {};
      const resolvedFirst =
        trigger?.status === DeliveryStatus.SUPERSEDED &&
        trigger.attempts === 0 &&
        (resolve?.status === DeliveryStatus.DELIVERED ||
          (resolve?.status === DeliveryStatus.SUPERSEDED && resolve.lastError === RESOLVED_BEFORE_DELIVERY));
      if (resolvedFirst) neverPaged++;
      else lost.push(`trigger ${alert.fingerprint}: ${describeRows(trigger, resolve)}`);
    }
    if (alert.status === 'resolved' && lastTrigger >= 0 && !seen.slice(lastTrigger).includes('resolve')) {
      lost.push(`resolve ${alert.fingerprint}: PagerDuty saw ${seen.join(', ')}`);
    }
  }
  const leftOpen = [...events]
    .filter(([, actions]) => actions.lastIndexOf('trigger') > actions.indexOf('resolve') && actions.includes('resolve'))
    .map(([key, actions]) => `${key}: ${actions.join(', ')}`);
  const duplicates = [...perDelivery.values()].reduce((sum, count) => sum + count - 1, 0);
  const alerts = acknowledged.flatMap((callback) => callback.alerts).length;
  return { acknowledged: alerts, lost, leftOpen, duplicates, neverPaged };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** One store for both runtimes: its environment, and a handle on it in this process to read the rows. */
interface SharedStore {
  env: Record<string, string>;
  /** STORE_PATH for the file store; undefined for Tablestore. */
  storePath?: string;
  store: DeliveryStore;
  close(): Promise<void>;
}

const STORES: { name: string; open(storePath: string): Promise<SharedStore> }[] = [
  {
    name: 'the file store (two runtimes on one STORE_PATH)',
    open: async (storePath) => ({
      env: { STORE: 'file' },
      storePath,
      store: new FileStore({ path: storePath }),
      close: async () => undefined,
    }),
  },
  {
    name: 'Tablestore (two runtimes on the wire fake)',
    open: async () => {
      const tablestore: TablestoreOverFake = await startTablestoreOverFake();
      return { env: tablestore.env, store: tablestore.store, close: () => tablestore.close() };
    },
  },
];

describe.each(STORES)('crash of one of two webhook instances on $name', ({ open }) => {
  const pagerDuties = fakePagerDutyPerTest();
  const runtimes: RunningRuntime[] = [];
  let shared: SharedStore | undefined;
  let ownedPath: string | undefined;

  afterEach(async () => {
    for (const runtime of runtimes.splice(0)) await runtime.stop().catch(() => undefined);
    await shared?.close();
    if (ownedPath !== undefined) rmSync(ownedPath, { recursive: true, force: true });
    shared = undefined;
    ownedPath = undefined;
  });

  it('loses nothing acknowledged, leaves no incident open, and re-sends at most one invocation in flight', async () => {
    // Prepare: sends take 250 ms, so the burst keeps some in flight; the survivor relays every second.
    const pd = await pagerDuties.start({ latencyMs: 250 });
    const env = {
      PAGERDUTY_ROUTING_KEY: ROUTING_KEY,
      PAGERDUTY_EVENTS_URL: pd.url,
      WEBHOOK_TOKENS: TOKEN,
      LEASE_SECONDS: String(LEASE_SECONDS),
      PAGERDUTY_RATE_PER_MINUTE: '6000',
    };
    const storePath = mkdtempSync(join(tmpdir(), 'bridge-crash-'));
    ownedPath = storePath;
    shared = await open(storePath);
    const storeEnv = shared.env;
    const second = await startRuntime({
      env: { ...env, ...storeEnv, LOCAL_TIMER_SECONDS: '1' },
      storePath: shared.storePath,
    });
    runtimes.push(second);
    // The instance to kill: webhook only (no timer within the test; its kick runs delivery-health on the survivor).
    const victimEnv = {
      ...env,
      ...storeEnv,
      LOCAL_TIMER_SECONDS: '3600',
      FUNCTION_COMPUTE_ENDPOINT: second.url.replace(/\/+$/, ''),
    };
    const victim = await startRuntime({ env: victimEnv, storePath: shared.storePath });
    runtimes.push(victim);
    const instances = [victim, second];
    const burst = planBurst();

    // Act: the burst, all at once; SIGKILL of the victim once a few of its callbacks are answered.
    const answers: (number | 'no answer')[] = new Array(burst.length).fill('no answer');
    const posted = burst.map((callback, index) =>
      (instances[callback.instance] as RunningRuntime).post('/', callback.body, { 'X-Webhook-Token': TOKEN }).then(
        (response) => {
          answers[index] = response.status;
        },
        () => undefined, // the connection died with the process
      ),
    );
    const answeredOnVictim = () =>
      burst.filter((callback, index) => callback.instance === 0 && answers[index] !== 'no answer').length;
    const onTheWire = () => {
      const received = new Set(pd.events.map((request) => sentOf(request).dedup_key));
      return burst.some(
        (callback, index) =>
          callback.instance === 0 &&
          answers[index] === 'no answer' &&
          callback.alerts[0]?.status === 'firing' &&
          callback.alerts.some((alert) => received.has(alert.fingerprint)),
      );
    };
    const readyToKill = () => answeredOnVictim() >= ANSWERED_BEFORE_KILL && onTheWire();
    for (let waited = 0; waited < 15_000 && !readyToKill(); waited += 5) await sleep(5);
    const caughtMidSend = readyToKill();
    const killed = await victim.kill({ keepStore: true });
    runtimes.splice(runtimes.indexOf(victim), 1);
    const rowsAtCrash = await shared.store.list();
    await Promise.all(posted);

    // Restart the killed instance on the same store; the survivor's timer takes over expired leases meanwhile.
    runtimes.push(await startRuntime({ env: victimEnv, storePath: shared.storePath }));
    const acknowledged = burst.filter((_, index) => {
      const status = answers[index];
      return typeof status === 'number' && status >= 200 && status < 300;
    });
    const store = shared.store;
    const settled = async () => {
      const rows = await store.list();
      const figures = figuresOf(acknowledged, pd.accepted(), rows);
      return !rows.some((row) => WAITING.has(row.status)) && figures.lost.length === 0;
    };
    // Past the lease first: what the dead process held cannot be taken over earlier.
    await sleep(LEASE_SECONDS * 1_000);
    let drained = false;
    for (let waited = 0; waited < DRAIN_TIMEOUT_MS && !drained; waited += 250) {
      drained = await settled();
      if (!drained) await sleep(250);
    }
    const rows = await store.list();
    const figures = figuresOf(acknowledged, pd.accepted(), rows);
    console.info(
      `crash figures: ${JSON.stringify({
        acknowledgedAlerts: figures.acknowledged,
        unansweredCallbacks: answers.filter((status) => status === 'no answer').length,
        lost: figures.lost.length,
        leftOpen: figures.leftOpen.length,
        duplicates: figures.duplicates,
        neverPaged: figures.neverPaged,
        sendingAtCrash: rowsAtCrash.filter((row) => row.status === DeliveryStatus.SENDING).length,
        bound: CRASH_RESEND_BOUND,
      })}`,
    );

    // Assess: the crash came mid-burst on the victim, and the survivor answered everything it was sent.
    expect(killed.signal).toBe('SIGKILL');
    expect(answeredOnVictim()).toBeGreaterThanOrEqual(ANSWERED_BEFORE_KILL);
    expect(caughtMidSend).toBe(true);
    expect(burst.some((callback, index) => callback.instance === 0 && answers[index] === 'no answer')).toBe(true);
    expect(burst.filter((callback) => callback.instance === 1 && !acknowledged.includes(callback))).toEqual([]);
    expect(answers.filter((status) => typeof status === 'number' && (status < 200 || status > 299))).toEqual([]);
    expect(rowsAtCrash.length).toBeGreaterThan(0);
    expect(figures.lost).toEqual([]);
    expect(figures.leftOpen).toEqual([]);
    expect(drained).toBe(true);
    expect(figures.duplicates).toBeLessThanOrEqual(CRASH_RESEND_BOUND);
    expect(rows.filter((row) => WAITING.has(row.status) || row.status === DeliveryStatus.DEAD)).toEqual([]);
    expect(pd.accepted().every((request) => request.routingKey === ROUTING_KEY)).toBe(true);
  }, 60_000);
});
