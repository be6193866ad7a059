/**
 * The delivery engine's guarantees, each the way it breaks: an outage of PagerDuty (the circuit), two relays on one
 * store, the webhook's own deadline, a trigger and its resolve on two instances at once, a resolve held behind its
 * trigger, a crash while recording outcomes. Real handlers and relay, a real loopback PagerDuty, controlled clocks and
 * interleavings instead of sleeps.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createBridge } from '../../../shared/app';
import { DeliveryStatus, SENDS_IN_FLIGHT } from '../../../shared/constants';
import { Deadline } from '../../../shared/deadline';
import { counterpartKeyOf } from '../../../shared/delivery/deliveryKey';
import { relayDue } from '../../../shared/delivery/relay';
import { sendRecord } from '../../../shared/delivery/sendRecord';
import { StoreError } from '../../../shared/errors';
import type { DeliveryRecord } from '../../../shared/store/DeliveryRecord';
import type { ClaimOutcome } from '../../../shared/store/DeliveryStore';
import { MemoryStore } from '../../../shared/store/MemoryStore';
import { FaultyStore } from '../../support/faultyStore';
import { fakePagerDutyPerFile } from '../../support/pagerDutyPerFile';
import { webhookHarness } from '../../support/webhook';

const ROUTING_KEY = 'ENG1NEROUTINGKEY0000000000000001';
const sample = JSON.parse(readFileSync(new URL('../../fixtures/arms/sample.json', import.meta.url), 'utf8'));

/** One callback of `count` distinct alerts, all `status`. */
function callback(count: number, status: 'firing' | 'resolved' = 'firing', prefix = 'engine'): string {
  const alerts = Array.from({ length: count }, (_, index) => ({
    ...sample.alerts[0],
    status,
    fingerprint: `${prefix}-${index}`,
  }));
  return JSON.stringify({ ...sample, status, alerts });
}

const fake = fakePagerDutyPerFile({ eachTest: (pd) => pd.setLatency(0) });
const received = () => fake.sinceTest();
const acceptedKeys = () =>
  received()
    .filter((event) => event.outcome === 202)
    .map(
      (event) =>
        `${(event.body as { dedup_key: string }).dedup_key}/${(event.body as { event_action: string }).event_action}`,
    );

const env = (extra: Record<string, string> = {}) => ({
  PAGERDUTY_ROUTING_KEY: ROUTING_KEY,
  PAGERDUTY_EVENTS_URL: fake.pd.url,
  PAGERDUTY_RATE_PER_MINUTE: '100000',
  ...extra,
});

/** A relay run on `store` with a controlled clock: its sleeps move the clock instead of waiting. */
function relayOn(
  store: MemoryStore,
  clock: { now: number },
  extra: Record<string, string> = {},
  outage: () => boolean = () => false,
) {
  const built = createBridge('delivery-health', env(extra), { store, now: () => clock.now, logSink: () => {} });
  if (!built.ok) throw built.error;
  const sends: Array<{ probe: boolean; inFlight: number }> = [];
  let inFlight = 0;
  const run = () =>
    relayDue({
      ...built.bridge,
      deadline: new Deadline(30_000, () => clock.now),
      send: async (record, key, options) => {
        sends.push({ probe: options.probe === true, inFlight });
        if (outage()) fake.pd.script([{ status: 500 }]);
        inFlight++;
        try {
          return await sendRecord(record, key, options);
        } finally {
          inFlight--;
        }
      },
      sleep: async (ms) => {
        clock.now += ms;
      },
    });
  return { run, sends };
}

describe('delivery engine: an outage of PagerDuty (the circuit)', () => {
  it('sends one probe at a time while the key fails, and drains the whole backlog once a probe succeeds', async () => {
    // Prepare: 200 deliveries queued (the webhook's deadline leaves no room to send).
    const clock = { now: Date.now() };
    const store = new MemoryStore({ now: () => clock.now });
    await webhookHarness(env({ WEBHOOK_DEADLINE_MS: '500' }), store, () => clock.now).post(callback(200));
    // PagerDuty fails every request for 6.5 s of the relay's clock, then recovers.
    const relay = relayOn(store, clock, {}, () => clock.now < started + 6_500);
    const started = clock.now;

    // Act
    const result = await relay.run();

    // Assess: requests during the outage grew with its length (the probes), not with the queue (200): only the
    // sends already in flight when the first 500 came back failed besides them.
    const failed = received().filter((event) => event.outcome === 500).length;
    const probes = relay.sends.filter((send) => send.probe);
    expect(probes.map((probe) => probe.inFlight)).toEqual([0, 0, 0]);
    expect(failed - 2).toBeLessThanOrEqual(SENDS_IN_FLIGHT);
    // Probes at +1 s and +3 s fail, the one at +7 s succeeds (RETRY_BASE_SECONDS=1 doubling), then the backlog at once.
    expect(clock.now - started).toBeGreaterThanOrEqual(7_000);
    expect(clock.now - started).toBeLessThan(8_000);
    expect(result).toMatchObject({ delivered: 200, more: false });
    expect(new Set(acceptedKeys()).size).toBe(200);
    expect((await store.list()).every((row) => row.status === DeliveryStatus.DELIVERED)).toBe(true);
  });
});

describe('delivery engine: two relays on one store', () => {
  it('never sends the same row twice', async () => {
    // Prepare
    const clock = { now: Date.now() };
    const store = new MemoryStore({ now: () => clock.now });
    await webhookHarness(env({ WEBHOOK_DEADLINE_MS: '500' }), store, () => clock.now).post(callback(150));
    const first = relayOn(store, clock);
    const second = relayOn(store, clock);

    // Act
    const [a, b] = await Promise.all([first.run(), second.run()]);

    // Assess
    expect(a.delivered + b.delivered).toBe(150);
    expect(acceptedKeys()).toHaveLength(150);
    expect(new Set(acceptedKeys()).size).toBe(150);
  });
});

describe("delivery engine: the webhook's own deadline", () => {
  it('never cuts a send on the wire: each event is accepted once, the rest goes to the relay', async () => {
    // Prepare: PagerDuty takes 200 ms; the deadline leaves room to start sends only in its first 250 ms.
    fake.pd.setLatency(200);
    const clock = { now: Date.now() };
    const store = new MemoryStore({ now: () => clock.now });
    const bridge = webhookHarness(
      env({ WEBHOOK_DEADLINE_MS: '2000', PAGERDUTY_TIMEOUT_MS: '1000' }),
      store,
      () => clock.now,
    );

    // Act
    const response = await bridge.post(callback(300));
    fake.pd.setLatency(0);
    await relayOn(store, clock).run();

    // Assess: every send the webhook started finished; nothing was accepted twice.
    expect(response.json.delivered).toBeGreaterThan(0);
    expect(response.json.delivered + response.json.queued).toBe(300);
    expect(response.json.failures).toEqual({});
    expect(acceptedKeys()).toHaveLength(300);
    expect(new Set(acceptedKeys()).size).toBe(300);
  });
});

/** A store whose claims wait until `parties` callers have claimed: both instances read before either claims. */
class BarrierStore extends MemoryStore {
  #waiting: Array<() => void> = [];
  public parties = 0;

  public override async claim(records: readonly DeliveryRecord[]): Promise<ClaimOutcome[]> {
    if (this.parties > 0) {
      await new Promise<void>((release) => {
        this.#waiting.push(release);
        if (this.#waiting.length >= this.parties) {
          for (const waiter of this.#waiting.splice(0)) waiter();
          this.parties = 0;
        }
      });
    }
    return super.claim(records);
  }
}

describe('delivery engine: a trigger and its resolve on two instances at once', () => {
  it('never sends the trigger after its resolve (no incident left open)', async () => {
    for (let pair = 0; pair < 10; pair++) {
      // Prepare: each instance reads "no counterpart" before either claims.
      fake.mark();
      let offset = 0;
      const clock = () => Date.now() + offset;
      const store = new BarrierStore({ now: clock });
      store.parties = 2;
      const a = webhookHarness(env(), store, clock);
      const b = webhookHarness(env(), store, clock);
      const prefix = `pair${pair}`;

      // Act
      const [trigger, resolve] = await Promise.all([
        a.post(callback(1, 'firing', prefix)),
        b.post(callback(1, 'resolved', prefix)),
      ]);
      offset = 60_000; // past every recheck and lease
      await a.tick();

      // Assess: never both sent by the webhooks at once; PagerDuty saw nothing, or the trigger and then its resolve.
      expect(trigger.json.delivered + resolve.json.delivered).toBeLessThanOrEqual(1);
      const actions = received().map((event) => (event.body as { event_action: string }).event_action);
      expect([[], ['trigger', 'resolve']]).toContainEqual(actions);
    }
  });
});

describe('delivery engine: a resolve held behind its trigger', () => {
  it('is due as soon as the trigger’s outcome is recorded, not when its lease would end', async () => {
    // Prepare: the trigger's send takes a while; its resolve arrives on another instance meanwhile.
    const clock = { now: Date.now() };
    const store = new MemoryStore({ now: () => clock.now });
    const a = webhookHarness(env(), store, () => clock.now);
    const b = webhookHarness(env(), store, () => clock.now);
    fake.pd.script([{ status: 202, body: { status: 'success', message: 'Event processed' }, delayMs: 300 }]);

    // Act
    const triggering = a.post(callback(1, 'firing', 'held'));
    while (received().length === 0) await new Promise((resolve) => setImmediate(resolve));
    const resolve = await b.post(callback(1, 'resolved', 'held'));
    await triggering;
    const rows = await store.list();
    const trigger = rows.find((row) => row.action === 'trigger') as DeliveryRecord;
    const held = (await store.get([counterpartKeyOf(trigger)])).get(counterpartKeyOf(trigger));
    const report = await relayOn(store, clock).run();

    // Assess
    expect(resolve.json).toMatchObject({ queued: 1, delivered: 0 });
    expect(held).toMatchObject({ status: DeliveryStatus.PENDING });
    expect(held?.nextAttemptAt).toBeLessThanOrEqual(clock.now);
    expect(report).toMatchObject({ delivered: 1 });
    expect(received().map((event) => (event.body as { event_action: string }).event_action)).toEqual([
      'trigger',
      'resolve',
    ]);
  });
});

describe('delivery engine: a crash while recording outcomes', () => {
  it('re-sends at most the slice whose outcome was not recorded', async () => {
    // Prepare: outcomes are recorded in slices; the third batch write fails (as if the instance died there).
    const clock = { now: Date.now() };
    const store = new FaultyStore({ now: () => clock.now });
    store.failBatchWritesAfter = 2;
    const bridge = webhookHarness(env(), store, () => clock.now);

    // Act
    const response = await bridge.post(callback(200));
    store.failBatchWritesAfter = Number.POSITIVE_INFINITY;
    clock.now += 31_000; // past the lease of the rows left SENDING
    await relayOn(store, clock).run();

    // Assess: every alert accepted; the re-sends are bounded by one slice per failed write, not the whole callback.
    expect(response.statusCode).toBeLessThan(300);
    const keys = acceptedKeys();
    expect(new Set(keys).size).toBe(200);
    expect(keys.length - 200).toBeGreaterThan(0);
    expect(keys.length - 200).toBeLessThanOrEqual(SENDS_IN_FLIGHT * 2);
  });
});

describe('delivery engine: secrets in stored rows', () => {
  it('scrubs every configured key from a stored lastError, not only the key of its own request', async () => {
    // Prepare: two routes with inline keys; PagerDuty's 400 quotes the other route's key (a misbehaving proxy could).
    const dbKey = 'DBR0UTEK3Y000000000000000000000A';
    const webKey = 'WEBR0UTEK3Y00000000000000000000B';
    const routes = JSON.stringify([
      { name: 'db', matchers: ['team="db"'], routingKey: dbKey },
      { name: 'web', matchers: ['team="web"'], routingKey: webKey },
    ]);
    const store = new MemoryStore();
    const bridge = webhookHarness(env({ PAGERDUTY_ROUTES: routes }), store);
    fake.pd.script([
      {
        status: 400,
        body: { status: 'invalid event', message: 'Event object is invalid', errors: [`key ${webKey} and ${dbKey}`] },
      },
    ]);
    const alert = {
      ...sample.alerts[0],
      fingerprint: 'secret-row',
      labels: { ...sample.alerts[0].labels, team: 'db' },
    };

    // Act
    await bridge.post(JSON.stringify({ ...sample, alerts: [alert] }));

    // Assess
    const rows = JSON.stringify(await store.list());
    expect(rows).toContain('DEAD');
    expect(rows).not.toContain(webKey);
    expect(rows).not.toContain(dbKey);
  });
});

/**
 * A store whose every call takes `latencyMs` of a simulated clock, cut (a timeout) where the caller's deadline
 * (`useDeadline`) leaves less: a slow Tablestore, without waiting for it. A merged call (`getWithMarkers`,
 * `claimWithMarkers`) is one round trip, as on Tablestore: the calls it makes inside cost nothing more.
 */
class SlowStore extends MemoryStore {
  #deadline?: { remainingMs(): number };
  /** Set inside a call: the calls a merged call makes (and only those) are part of its round trip. */
  readonly #inside = new AsyncLocalStorage<true>();
  public constructor(
    private readonly clock: { now: number },
    public latencyMs: number,
  ) {
    super({ now: () => clock.now });
  }
  public override useDeadline(deadline: { remainingMs(): number } | undefined): void {
    this.#deadline = deadline;
  }
  async #call<T>(work: () => Promise<T>): Promise<T> {
    if (this.#inside.getStore()) return work();
    const budget = Math.min(1_500, this.#deadline?.remainingMs() ?? Number.POSITIVE_INFINITY);
    if (budget < this.latencyMs) {
      this.clock.now += Math.max(0, budget);
      throw new StoreError(`no answer within ${budget} ms (test: slow store)`);
    }
    this.clock.now += this.latencyMs;
    return this.#inside.run(true, work);
  }
  public override getWithMarkers(...args: Parameters<MemoryStore['getWithMarkers']>) {
    return this.#call(() => super.getWithMarkers(...args));
  }
  public override claimWithMarkers(...args: Parameters<MemoryStore['claimWithMarkers']>) {
    return this.#call(() => super.claimWithMarkers(...args));
  }
  public override claim(records: readonly DeliveryRecord[]) {
    return this.#call(() => super.claim(records));
  }
  public override replaceMany(records: readonly DeliveryRecord[]) {
    return this.#call(() => super.replaceMany(records));
  }
  public override get(keys: readonly string[]) {
    return this.#call(() => super.get(keys));
  }
  public override getMarkers(keys: readonly string[]) {
    return this.#call(() => super.getMarkers(keys));
  }
  public override putMarkers(markers: Parameters<MemoryStore['putMarkers']>[0]) {
    return this.#call(() => super.putMarkers(markers));
  }
  public override getKeyStates(ids: readonly string[]) {
    return this.#call(() => super.getKeyStates(ids));
  }
  public override putKeyStates(states: Parameters<MemoryStore['putKeyStates']>[0]) {
    return this.#call(() => super.putKeyStates(states));
  }
  public override addCounters(...args: Parameters<MemoryStore['addCounters']>) {
    return this.#call(() => super.addCounters(...args));
  }
}

describe('delivery engine: a slow store', () => {
  it.each([700, 1_000])(
    'answers inside WEBHOOK_DEADLINE_MS at %i ms per store call, and loses nothing it acknowledged',
    async (latencyMs) => {
      // Prepare
      const clock = { now: Date.now() };
      const store = new SlowStore(clock, latencyMs);
      const bridge = webhookHarness(env({ WEBHOOK_DEADLINE_MS: '4000' }), store, () => clock.now);
      const started = clock.now;

      // Act
      const response = await bridge.post(callback(10, 'firing', `slow${latencyMs}`));
      const elapsed = clock.now - started;
      store.latencyMs = 0;
      clock.now += 31_000; // past the lease of anything left SENDING
      await relayOn(store, clock).run();

      // Assess: in time, acknowledged, and every alert accepted by PagerDuty exactly once.
      expect(elapsed).toBeLessThanOrEqual(4_000);
      expect(response.statusCode).toBeLessThan(300);
      expect(new Set(acceptedKeys()).size).toBe(10);
      expect(acceptedKeys()).toHaveLength(10);
    },
  );
});

describe('delivery engine: a trigger and its resolve in one callback', () => {
  it('pages nobody: the resolve came with its trigger, so neither is sent (never both at once, in either order)', async () => {
    // Prepare
    const store = new MemoryStore();
    const bridge = webhookHarness(env(), store);
    const firing = { ...sample.alerts[0], status: 'firing', fingerprint: 'together' };
    const resolved = { ...firing, status: 'resolved' };

    // Act
    const response = await bridge.post(JSON.stringify({ ...sample, alerts: [firing, resolved] }));
    await bridge.tick();

    // Assess
    expect(response.json).toMatchObject({ status: 'accepted', delivered: 0, superseded: 2, queued: 0 });
    expect(received()).toHaveLength(0);
    expect((await store.list()).map((row) => row.status)).toEqual([
      DeliveryStatus.SUPERSEDED,
      DeliveryStatus.SUPERSEDED,
    ]);
  });
});

describe('delivery engine: a resolve sent while the store was down', () => {
  it('is recorded once the store is back, so the relay never sends its queued trigger after it', async () => {
    // Prepare: the trigger fails (queued for retry); then the store goes down and the resolve arrives.
    let offset = 0;
    const clock = () => Date.now() + offset;
    const store = new FaultyStore({ now: clock });
    const bridge = webhookHarness(env(), store, clock);
    fake.pd.script([{ status: 500 }]);
    await bridge.post(callback(1, 'firing', 'outage'));
    store.down = true;

    // Act: the resolve goes out fail open; the store comes back; the webhook's next callback; the relay.
    const resolved = await bridge.post(callback(1, 'resolved', 'outage'));
    store.down = false;
    await bridge.post(callback(1, 'firing', 'unrelated'));
    offset = 120_000;
    await bridge.tick();

    // Assess: PagerDuty got the failed trigger, the resolve, the unrelated trigger, and never the trigger again.
    expect(resolved.json).toMatchObject({ delivered: 1, degraded: 'store-unavailable', unrecordedResolves: 1 });
    expect(
      bridge.lines.some((line) => line.includes('"replay"') && line.includes('resolves sent while the store was down')),
    ).toBe(true);
    const outage = received()
      .filter((event) => (event.body as { dedup_key: string }).dedup_key === 'outage-0')
      .map((event) => `${(event.body as { event_action: string }).event_action}:${event.outcome}`);
    expect(outage).toEqual(['trigger:500', 'resolve:202']);
    const rows = await store.list();
    expect(rows.find((row) => row.dedupKey === 'outage-0' && row.action === 'trigger')?.status).toBe(
      DeliveryStatus.SUPERSEDED,
    );
  });
});

describe('delivery engine: a 429 during a relay run', () => {
  it('narrows the key, counts it in the report, and still delivers the backlog in the same run', async () => {
    // Prepare
    const clock = { now: Date.now() };
    const store = new MemoryStore({ now: () => clock.now });
    await webhookHarness(env({ WEBHOOK_DEADLINE_MS: '500' }), store, () => clock.now).post(
      callback(20, 'firing', 'limited'),
    );
    fake.pd.script([
      { status: 429, body: { status: 'throttled', message: 'Requests for this service are arriving too quickly.' } },
    ]);

    // Act
    const result = await relayOn(store, clock).run();

    // Assess
    expect(result).toMatchObject({ rateLimitedKeys: 1, delivered: 20, failures: { 'rate-limited': 1 } });
    expect(new Set(acceptedKeys()).size).toBe(20);
  });
});
