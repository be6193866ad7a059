/**
 * The webhook's chunked store-and-send (`deliverCallback.ts`): a large callback is claimed in chunks, and a chunk's sends
 * start while the next chunk is claimed. Each guarantee the way it breaks, on the deployed store (the real tablestore
 * SDK against the wire fake) and a real loopback PagerDuty: a send never reaches PagerDuty before its own row exists;
 * a claim that fails on rows of a later chunk sends only those rows fail open, and nothing of the earlier chunks twice;
 * a trigger and its resolve in different chunks of one callback are neither paged; a crash mid-callback costs at most
 * the slices in flight, once the relay has taken over.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  DeliveryStatus,
  SENDS_IN_FLIGHT,
  WEBHOOK_CLAIM_CHUNK,
  WEBHOOK_INLINE_FLOOR_PER_KEY,
} from '../../../shared/constants';
import type { FakePagerDuty, ReceivedRequest } from '../../support/fakePagerDuty';
import { httpEvent } from '../../support/fcEvents';
import { fakePagerDutyPerTest } from '../../support/pagerDutyPerFile';
import { startTablestoreOverFake, type TablestoreOverFake } from '../../support/tablestoreOverFake';
import { webhookHarness } from '../../support/webhook';

const ROUTING_KEY = 'CHUNKEDROUTINGKEY000000000000001';
const sample = JSON.parse(readFileSync(join(__dirname, '../../fixtures/arms/sample.json'), 'utf8'));
const ROOT = join(__dirname, '..', '..', '..');

interface AlertSpec {
  fingerprint: string;
  status?: 'firing' | 'resolved';
  startsAt?: string;
}

/** One ARMS callback of these alerts (each a distinct identity unless two share a fingerprint). */
function callbackOf(alerts: AlertSpec[]): string {
  const body = alerts.map((alert, index) => ({
    ...sample.alerts[0],
    status: alert.status ?? 'firing',
    fingerprint: alert.fingerprint,
    startsAt: alert.startsAt ?? new Date(Date.UTC(2026, 0, 1) + index * 1000).toISOString(),
    labels: { ...sample.alerts[0].labels, pod_name: alert.fingerprint },
  }));
  return JSON.stringify({ ...sample, alerts: body });
}

/** Alerts of one key in one callback: three chunks, all within what the webhook leases itself without a measure. */
const INLINE = WEBHOOK_INLINE_FLOOR_PER_KEY;

const many = (count: number, prefix: string) =>
  Array.from({ length: count }, (_, index) => ({ fingerprint: `${prefix}-${index}` }));

/** The value of a fake Tablestore attribute, whatever form the fake keeps it in. */
const text = (value: unknown) => String((value as { v?: unknown } | undefined)?.v ?? value);

/** Calls `onEvent` as each alert event arrives at the fake PagerDuty, before it is answered. */
function onArrival(pd: FakePagerDuty, onEvent: (request: ReceivedRequest) => void): void {
  const requests = pd.requests as ReceivedRequest[];
  const push = requests.push.bind(requests);
  requests.push = (...items: ReceivedRequest[]) => {
    for (const item of items) if (item.path.endsWith('/v2/enqueue')) onEvent(item);
    return push(...items);
  };
}

/** Accepted alert events per (dedup_key, action). */
function acceptedCounts(pd: FakePagerDuty): Map<string, number> {
  const counts = new Map<string, number>();
  for (const event of pd.accepted()) {
    const body = event.body as { dedup_key: string; event_action: string };
    const key = `${body.dedup_key}/${body.event_action}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

const pagerDuties = fakePagerDutyPerTest();
let pd: FakePagerDuty;
let tablestore: TablestoreOverFake;
const clock = { offset: 0 };
const now = () => Date.now() + clock.offset;

beforeEach(async () => {
  clock.offset = 0;
  pd = await pagerDuties.start();
  tablestore = await startTablestoreOverFake({ now });
});
afterEach(async () => {
  await tablestore.close();
});

/** The webhook on the Tablestore store; a long deadline keeps the send window open, so every chunk is sent inline. */
const env = (extra: Record<string, string> = {}) => ({
  ...tablestore.env,
  PAGERDUTY_ROUTING_KEY: ROUTING_KEY,
  PAGERDUTY_EVENTS_URL: pd.url,
  PAGERDUTY_RATE_PER_MINUTE: '100000',
  WEBHOOK_DEADLINE_MS: '30000',
  LOG_LEVEL: 'ERROR',
  ...extra,
});

/**
 * Counts the claim requests (batch writes with the first write of some delivery row); with `delayMs`, each claim lands
 * that much later (the fake applies a delayed write after the delay), so a send that did not wait for its claim would
 * reach PagerDuty first.
 */
function watchClaims(delayMs = 0): { claimRequests: () => number; seen: Set<string> } {
  const seen = new Set<string>();
  let requests = 0;
  tablestore.fake.faults.add({
    op: 'BatchWriteRow',
    times: Number.POSITIVE_INFINITY,
    when: (info) => {
      const fresh = info.keys.filter(
        (key) => key.table === tablestore.table && String(key.pk.pk).startsWith('d1-') && !seen.has(String(key.pk.pk)),
      );
      for (const key of fresh) seen.add(String(key.pk.pk));
      if (fresh.length > 0) requests++;
      return fresh.length > 0 && delayMs > 0;
    },
    action: { kind: 'delay', ms: delayMs },
  });
  return { claimRequests: () => requests, seen };
}

describe('chunked store-and-send', () => {
  it('never sends an alert before its own row is claimed', async () => {
    // Prepare: at each PagerDuty arrival, is the event's row in the store yet? Claims land late (slow store).
    const count = INLINE;
    const claims = watchClaims(100);
    const early: string[] = [];
    onArrival(pd, (request) => {
      const body = request.body as { dedup_key: string; event_action: string };
      const stored = tablestore.fake.tables
        .rows(tablestore.table)
        .some((row) => text(row.attrs.dedupKey) === body.dedup_key && text(row.attrs.action) === body.event_action);
      if (!stored) early.push(body.dedup_key);
    });
    const bridge = webhookHarness(env(), tablestore.store, now);

    // Act
    const response = await bridge.post(callbackOf(many(count, 'order')));

    // Assess: every send found its row, and the callback was claimed in chunks. How many the send window started
    // depends on the machine's pace (the rest is queued for the relay), so only the sum is exact.
    const summary = response.json as { received: number; delivered: number; queued: number; lost: number };
    expect(early).toEqual([]);
    expect(summary).toMatchObject({ received: count, lost: 0 });
    expect(summary.delivered).toBeGreaterThan(0);
    expect(summary.delivered + summary.queued).toBe(count);
    expect(claims.claimRequests()).toBeGreaterThanOrEqual(Math.ceil(count / WEBHOOK_CLAIM_CHUNK));
  });

  it('sends only the failed rows of a later chunk fail open, and nothing of the earlier chunks twice', async () => {
    // Prepare: five rows of the third claim request fail on every attempt (the rest of that request lands).
    const count = INLINE;
    const claims = watchClaims();
    const failing = new Set<string>();
    tablestore.fake.faults.add({
      op: 'BatchWriteRow',
      times: Number.POSITIVE_INFINITY,
      when: (info) => {
        const mains = info.keys.filter((key) => key.table === tablestore.table).map((key) => String(key.pk.pk));
        // The watcher has counted this request already (it was added first).
        if (failing.size === 0 && claims.claimRequests() === 3) for (const key of mains.slice(0, 5)) failing.add(key);
        return mains.some((key) => failing.has(key));
      },
      action: {
        kind: 'rowError',
        code: 'OTSServerBusy',
        message: 'Server is busy (test fault).',
        rows: (table, pk) => table === tablestore.table && failing.has(String(pk.pk)),
      },
    });
    const bridge = webhookHarness(env(), tablestore.store, now);

    // Act
    const response = await bridge.post(callbackOf(many(count, 'fault')));
    tablestore.fake.faults.clear();
    clock.offset = 10 * 60_000; // past every lease: the relay takes over whatever is left
    const report = await bridge.tick();

    // Assess: all delivered once; the five went out fail open, unrecorded; the relay had nothing to re-send.
    expect(failing.size).toBe(5);
    expect(response.json).toMatchObject({ delivered: count, lost: 0, degraded: 'store-unavailable', duplicates: 0 });
    const accepted = acceptedCounts(pd);
    expect(accepted.size).toBe(count);
    expect([...accepted.values()].every((times) => times === 1)).toBe(true);
    expect(report.relay).toMatchObject({ delivered: 0 });
    const rows = (await tablestore.store.list()).filter((row) => row.deliveryKey.startsWith('d1-'));
    expect(rows).toHaveLength(count - 5);
    expect(rows.every((row) => row.status === DeliveryStatus.DELIVERED)).toBe(true);
  });

  it('pages neither a trigger nor its resolve when they fall in different chunks of one callback', async () => {
    // Prepare: alert 3 fires in the first chunk and is resolved in the third (same identity, same occurrence).
    const alerts: AlertSpec[] = many(INLINE, 'pair');
    const startsAt = '2026-02-01T00:00:00.000Z';
    alerts[3] = { fingerprint: 'pair-held', startsAt };
    alerts[WEBHOOK_CLAIM_CHUNK * 2 + 7] = { fingerprint: 'pair-held', startsAt, status: 'resolved' };
    const bridge = webhookHarness(env(), tablestore.store, now);

    // Act
    const response = await bridge.post(callbackOf(alerts));

    // Assess: the other alerts are paged once each; the pair not at all, both rows final (superseded).
    expect(response.json).toMatchObject({ delivered: alerts.length - 2, superseded: 2, lost: 0 });
    const paged = pd.events.map((event) => (event.body as { payload: { summary: string } }).payload.summary);
    expect(paged).toHaveLength(alerts.length - 2);
    const pair = (await tablestore.store.list()).filter(
      (row) => row.deliveryKey.startsWith('d1-') && row.status !== DeliveryStatus.DELIVERED,
    );
    expect(pair.map((row) => [row.action, row.status]).sort()).toEqual([
      ['resolve', DeliveryStatus.SUPERSEDED],
      ['trigger', DeliveryStatus.SUPERSEDED],
    ]);
  });

  it('re-sends at most the slices in flight after a crash mid-callback, and loses nothing', async () => {
    // Prepare: the built webhook in its own process, killed (SIGKILL) once every row is stored and sends are in flight.
    const count = WEBHOOK_CLAIM_CHUNK * 6;
    pd.setLatency(20);
    const dir = mkdtempSync(join(tmpdir(), 'chunked-crash-'));
    const eventFile = join(dir, 'event');
    writeFileSync(eventFile, httpEvent({ body: callbackOf(many(count, 'crash')) }));
    const script = `
      const bundle = require(${JSON.stringify(join(ROOT, 'dist', 'alert-webhook', 'index.js'))});
      const event = require('node:fs').readFileSync(process.env.EVENT_FILE);
      bundle.handler(event, { requestId: 'crash', credentials: {}, function: { name: 'alert-webhook' } });`;
    const child = spawn(process.execPath, ['-e', script], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', EVENT_FILE: eventFile, ...env() },
      stdio: 'ignore',
    });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const stored = () =>
      tablestore.fake.tables.rows(tablestore.table).filter((row) => text(row.pk.pk).startsWith('d1-'));
    let sentAtKill = 0;
    onArrival(pd, () => {
      if (child.exitCode !== null || child.signalCode !== null || sentAtKill > 0) return;
      if (pd.events.length >= 6 * SENDS_IN_FLIGHT && stored().length === count) {
        sentAtKill = pd.events.length + 1;
        child.kill('SIGKILL');
      }
    });

    // Act: the crash, then the relay (past every lease) until nothing is due.
    await exited;
    rmSync(dir, { recursive: true, force: true });
    pd.setLatency(0);
    clock.offset = 10 * 60_000;
    const relay = webhookHarness(env({ WEBHOOK_DEADLINE_MS: '4000' }), tablestore.store, now);
    for (let run = 0; run < 20 && (await tablestore.store.listDue(1)).length > 0; run++) await relay.tick();

    // Assess: killed mid-callback (sends left, all rows stored); every alert paged; re-sends bounded by the slices in
    // flight (the sends on the wire, the slice gathering answers, the slice being written), not by the callback.
    expect(sentAtKill).toBeGreaterThan(0);
    expect(sentAtKill).toBeLessThan(count);
    const accepted = acceptedCounts(pd);
    expect(accepted.size).toBe(count);
    const resent = [...accepted.values()].reduce((sum, times) => sum + times - 1, 0);
    expect(resent).toBeLessThanOrEqual(3 * SENDS_IN_FLIGHT);
  });
});
