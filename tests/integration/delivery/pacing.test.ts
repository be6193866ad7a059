/**
 * Pacing per routing key through the real handlers: the bridge stays under PagerDuty's per-key rate instead of
 * hammering it into 429s (Alertmanager's behaviour), whichever instance sends, and narrows a key when PagerDuty says 429.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Secret } from '../../../shared/config/Secret';
import { keyIdOf } from '../../../shared/delivery/keyIdOf';
import { StoreError } from '../../../shared/errors';
import { MemoryStore } from '../../../shared/store/MemoryStore';
import { TablestoreStore } from '../../../shared/store/TablestoreStore';
import { fakePagerDutyPerTest } from '../../support/pagerDutyPerFile';
import { connectionTo, startTablestoreOverFake } from '../../support/tablestoreOverFake';
import { webhookHarness } from '../../support/webhook';

const ROUTING_KEY = 'PAC1NGROUTINGKEY0000000000000001';
const sample = JSON.parse(readFileSync(new URL('../../fixtures/arms/sample.json', import.meta.url), 'utf8'));

/** One callback of `count` distinct firing alerts. */
function storm(count: number): string {
  const alerts = Array.from({ length: count }, (_, index) => ({ ...sample.alerts[0], fingerprint: `storm-${index}` }));
  return JSON.stringify({ ...sample, alerts });
}

const pagerDuties = fakePagerDutyPerTest();
/** A fake PagerDuty that takes 10 events per 60 s on one key, the bridge paced to the same, on a fresh store. */
async function tenPerMinute() {
  const pd = await pagerDuties.start({ rateLimit: { limit: 10, windowMs: 60_000 } });
  const env = {
    PAGERDUTY_ROUTING_KEY: ROUTING_KEY,
    PAGERDUTY_EVENTS_URL: pd.url,
    PAGERDUTY_RATE_PER_MINUTE: '10',
    HEALTH_TIME_BUDGET_SECONDS: '5',
  };
  return { store: new MemoryStore(), env, pagerDuty: pd };
}

/** A memory store whose reads fail once a claim has been made, while `failRechecks` is set. */
class RecheckFailsStore extends MemoryStore {
  public failRechecks = true;
  #claimed = false;
  public override async claimWithMarkers(...args: Parameters<MemoryStore['claimWithMarkers']>) {
    this.#claimed = true;
    return super.claimWithMarkers(...args);
  }
  public override async get(keys: readonly string[]) {
    if (this.failRechecks && this.#claimed) throw new StoreError('read failed (test: the recheck after the claim)');
    return super.get(keys);
  }
}

describe('pacing per routing key: one budget shared by every sender', () => {
  it('sends at once what the key allows in its window, queues the rest, and never draws a 429', async () => {
    // Prepare: PagerDuty allows 10 per 60 s on the key; so does the bridge.
    const pd = await pagerDuties.start({ rateLimit: { limit: 10, windowMs: 60_000 } });
    const bridge = webhookHarness(
      { PAGERDUTY_ROUTING_KEY: ROUTING_KEY, PAGERDUTY_EVENTS_URL: pd.url, PAGERDUTY_RATE_PER_MINUTE: '10' },
      new MemoryStore(),
    );

    // Act
    const response = await bridge.post(storm(40));

    // Assess
    expect(response.statusCode).toBe(202);
    expect(response.json).toMatchObject({ delivered: 10, queued: 30 });
    expect(pd.events.map((event) => event.outcome)).toEqual(Array(10).fill(202));
    const rows = await bridge.store.list();
    expect(rows.filter((row) => row.status === 'PENDING')).toHaveLength(30);
  });

  it('never lets two webhook instances and the relay together exceed the window', async () => {
    // Prepare: three senders on one store, each with its own gate object (as three FC instances would have).
    const { store, env, pagerDuty } = await tenPerMinute();
    const first = webhookHarness(env, store);
    const second = webhookHarness(env, store);
    const relay = webhookHarness(env, store);

    // Act: both instances at once, then the relay.
    const [a, b] = await Promise.all([first.post(storm(12)), second.post(storm(12).replaceAll('storm-', 'other-'))]);
    const report = await relay.tick();

    // Assess: exactly the window's 10 went out, none was refused, nothing was lost.
    expect(pagerDuty.events.map((event) => event.outcome)).toEqual(Array(10).fill(202));
    expect(a.json.delivered + b.json.delivered).toBe(10);
    expect(report.relay).toMatchObject({ attempted: 0, delivered: 0 });
    const rows = await store.list();
    expect(rows.filter((row) => row.status === 'DELIVERED')).toHaveLength(10);
    expect(rows.filter((row) => row.status === 'PENDING')).toHaveLength(14);
  });

  it('never lets two webhook instances exceed the window on Tablestore, where the gate rows ride in the claims', async () => {
    // Prepare: two instances, each with its own client to one Tablestore (the wire fake); each instance takes its
    // first block in its claim's BatchWriteRow, by compare-and-set of the same key row.
    const { env, pagerDuty } = await tenPerMinute();
    const tablestore = await startTablestoreOverFake();
    const second = new TablestoreStore({
      client: connectionTo(tablestore.fake),
      table: tablestore.table,
      timeoutMs: 2_000,
    });
    try {
      const tablestoreEnv = { ...env, ...tablestore.env };
      const a = webhookHarness(tablestoreEnv, tablestore.store);
      const b = webhookHarness(tablestoreEnv, second);

      // Act: both instances at once.
      const [first, other] = await Promise.all([a.post(storm(12)), b.post(storm(12).replaceAll('storm-', 'other-'))]);

      // Assess: exactly the window's 10 went out, none was refused, nothing was lost.
      expect(pagerDuty.events.map((event) => event.outcome)).toEqual(Array(10).fill(202));
      expect(first.json.delivered + other.json.delivered).toBe(10);
      const rows = await tablestore.store.list();
      expect(rows.filter((row) => row.status === 'DELIVERED')).toHaveLength(10);
      expect(rows.filter((row) => row.status === 'PENDING')).toHaveLength(14);
    } finally {
      await second.close();
      await tablestore.close();
    }
  });

  it('gives back the sends a claim took and did not send: the window holds only what went out', async () => {
    // Prepare: the claim takes its 5 sends in its own write, then the recheck fails: nothing of it is sent now.
    const { env, pagerDuty } = await tenPerMinute();
    const store = new RecheckFailsStore();
    const bridge = webhookHarness(env, store);
    const held = await bridge.post(storm(5));
    store.failRechecks = false;

    // Act: the relay sends the 5; then 5 new ones come.
    const report = await bridge.tick();
    const after = await bridge.post(storm(5).replaceAll('storm-', 'later-'));

    // Assess: the 5 unsent sends went back to the window, so the relay's 5 and the 5 new ones fit its 10.
    expect(held.json).toMatchObject({ delivered: 0, queued: 5 });
    expect(report.relay).toMatchObject({ delivered: 5 });
    expect(after.json).toMatchObject({ delivered: 5, queued: 0 });
    expect(pagerDuty.events.map((event) => event.outcome)).toEqual(Array(10).fill(202));
  });

  it('narrows the key after a 429 and queues the rest of the block', async () => {
    // Prepare
    const pd = await pagerDuties.start();
    pd.script([
      { status: 429, body: { status: 'throttled', message: 'Requests for this service are arriving too quickly.' } },
    ]);
    const bridge = webhookHarness(
      { PAGERDUTY_ROUTING_KEY: ROUTING_KEY, PAGERDUTY_EVENTS_URL: pd.url },
      new MemoryStore(),
    );

    // Act
    const response = await bridge.post(storm(100));

    // Assess: at most the sends already in flight follow the 429; the rest is queued, nothing lost.
    expect(pd.events.filter((event) => event.outcome === 429)).toHaveLength(1);
    expect(pd.events.length).toBeLessThan(100);
    expect(response.json.delivered + response.json.queued).toBe(100);
    const rows = await bridge.store.list();
    expect(rows.filter((row) => row.status === 'RETRY' && row.lastError?.startsWith('rate-limited'))).toHaveLength(1);
    const [state] = [...(await bridge.store.getKeyStates([keyIdOf(new Secret(ROUTING_KEY))])).values()];
    expect(state?.data).toMatchObject({ pacing: { narrowed: { limit: 60 } } });
  });

  it('lets the relay send what the window allows and leaves the rest due, saying the next run should follow', async () => {
    // Prepare: 12 deliveries queued unsent (deadline too short to send).
    const { store, env, pagerDuty } = await tenPerMinute();
    await webhookHarness({ ...env, WEBHOOK_DEADLINE_MS: '500' }, store).post(storm(12));

    // Act
    const report = await webhookHarness(env, store).tick();

    // Assess
    expect(report.relay).toMatchObject({ due: 12, attempted: 10, delivered: 10, deferred: 2, more: true });
    expect(pagerDuty.events.map((event) => event.outcome)).toEqual(Array(10).fill(202));
  });
});
