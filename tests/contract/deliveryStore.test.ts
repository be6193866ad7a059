/**
 * One contract for every DeliveryStore backend: the same claims, races and expiry, on memory and file (the
 * Tablestore adapter joins this suite over the wire-compatible fake).
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Secret } from '../../shared/config/Secret';
import { DeliveryStatus } from '../../shared/constants';
import { markDelivered } from '../../shared/delivery/transitions';
import type { DeliveryRecord } from '../../shared/store/DeliveryRecord';
import type { DeliveryStore } from '../../shared/store/DeliveryStore';
import { FileStore } from '../../shared/store/FileStore';
import type { KeyState } from '../../shared/store/KeyState';
import { MemoryStore } from '../../shared/store/MemoryStore';
import { TablestoreStore } from '../../shared/store/TablestoreStore';
import { DUE_PRIMARY_KEY, dueTableName, MAIN_PRIMARY_KEY } from '../../shared/store/tablestore/rowCodec';
import { deliveryRecord } from '../support/deliveryRecords';
import { type FakeTablestore, startFakeTablestore } from '../support/fakeTablestore';

const DAY = 86_400_000;
const dirs: string[] = [];

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

// Tablestore over the wire-compatible fake: one server for the file, fresh tables per store, the fake on the test clock.
let fake: FakeTablestore | undefined;
let fakeNow: () => number = Date.now;
let tables = 0;
beforeAll(async () => {
  fake = await startFakeTablestore({ now: () => fakeNow() });
});
afterAll(async () => {
  await fake?.close();
});

function record(key: string, overrides: Partial<DeliveryRecord> = {}): DeliveryRecord {
  return deliveryRecord(key, 1_000, { nextAttemptAt: 1_000, ...overrides });
}

const backends: [string, (now: () => number) => DeliveryStore][] = [
  ['MemoryStore', (now) => new MemoryStore({ now })],
  [
    'FileStore',
    (now) => {
      const dir = mkdtempSync(join(tmpdir(), 'file-store-'));
      dirs.push(dir);
      return new FileStore({ path: dir, now });
    },
  ],
  [
    'TablestoreStore',
    (now) => {
      const server = fake as FakeTablestore;
      fakeNow = now;
      const table = `delivery_${++tables}`;
      server.tables.create(table, MAIN_PRIMARY_KEY, { timeToLive: 7 * 86_400 });
      server.tables.create(dueTableName(table), DUE_PRIMARY_KEY, { timeToLive: 7 * 86_400 });
      const credentials = { accessKeyId: new Secret('test-ak'), accessKeySecret: new Secret('test-sk') };
      return TablestoreStore.connect({
        endpoint: server.endpoint,
        instance: server.instance,
        table,
        timeoutMs: 5_000,
        credentials: () => credentials,
        now,
      });
    },
  ],
];

describe.each(backends)('Contract: %s', (_name, create) => {
  let clock = 2_000;
  const now = () => clock;

  it('claims a new key once; a second claim returns the existing record', async () => {
    // Prepare
    clock = 2_000;
    const store = create(now);

    // Act
    const [first] = await store.claim([record('a')]);
    const [second] = await store.claim([record('a', { routeName: 'other' })]);

    // Assess
    expect(first?.claimed).toBe(true);
    expect(second).toMatchObject({ claimed: false, existing: { deliveryKey: 'a', routeName: 'default' } });
  });

  it('claims the rows of one call independently', async () => {
    // Prepare
    clock = 2_000;
    const store = create(now);
    await store.claim([record('b')]);

    // Act
    const outcomes = await store.claim([record('a'), record('b'), record('c')]);

    // Assess
    expect(outcomes.map((outcome) => outcome.claimed)).toEqual([true, false, true]);
  });

  it('answers a batch of many rows in call order, each row on its own condition', async () => {
    // Prepare
    clock = 2_000;
    const store = create(now);
    const keys = Array.from({ length: 60 }, (_, index) => `row-${index}`);
    await store.claim(keys.filter((_, index) => index % 3 === 0).map((key) => record(key)));

    // Act
    const claims = await store.claim(keys.map((key) => record(key)));
    const replaced = await store.replaceMany(
      keys.map((key, index) => ({ ...markDelivered(record(key), 3_000), version: index % 4 === 0 ? 3 : 2 })),
    );

    // Assess
    expect(claims.map((outcome) => outcome.claimed)).toEqual(keys.map((_, index) => index % 3 !== 0));
    expect(replaced).toEqual(keys.map((_, index) => index % 4 !== 0));
    const stored = await store.get(keys);
    expect(keys.map((key) => stored.get(key)?.version)).toEqual(keys.map((_, index) => (index % 4 === 0 ? 1 : 2)));
  });

  it('replaces only from the version it read (compare-and-set)', async () => {
    // Prepare
    clock = 2_000;
    const store = create(now);
    await store.claim([record('a')]);
    const delivered = markDelivered(record('a'), 3_000);

    // Act
    const won = await store.replace(delivered);
    const lost = await store.replace(markDelivered(record('a'), 4_000));

    // Assess
    expect(won).toBe(true);
    expect(lost).toBe(false);
    const stored = (await store.get(['a'])).get('a');
    expect(stored).toMatchObject({ status: 'DELIVERED', version: 2, attempts: 1, deliveredAt: 3_000 });
  });

  it('keeps the event exactly as claimed', async () => {
    // Prepare
    clock = 2_000;
    const store = create(now);
    const original = record('a');

    // Act
    await store.claim([original]);

    // Assess
    expect((await store.get(['a'])).get('a')).toEqual(original);
  });

  it('lists due deliveries oldest first: pending/retry whose time has come, sending with an expired lease', async () => {
    // Prepare
    clock = 10_000;
    const store = create(now);
    await store.claim([
      record('late-retry', { status: DeliveryStatus.RETRY, nextAttemptAt: 20_000, createdAt: 1 }),
      record('retry', { status: DeliveryStatus.RETRY, nextAttemptAt: 9_000, createdAt: 300 }),
      record('pending', { createdAt: 200 }),
      record('sending-live', { status: DeliveryStatus.SENDING, leaseUntil: 11_000, createdAt: 2 }),
      record('sending-expired', { status: DeliveryStatus.SENDING, leaseUntil: 9_999, createdAt: 100 }),
      record('delivered', { status: DeliveryStatus.DELIVERED, createdAt: 3 }),
      record('dry', { status: DeliveryStatus.DRY_RUN, createdAt: 4 }),
      record('dead', { status: DeliveryStatus.DEAD, createdAt: 5 }),
    ]);

    // Act
    const due = await store.listDue(10);

    // Assess
    expect(due.map((item) => item.deliveryKey)).toEqual(['sending-expired', 'pending', 'retry']);
    expect((await store.listDue(2)).length).toBe(2);
  });

  it('lists also what is due within a given time, when asked, and nothing later', async () => {
    // Prepare
    clock = 10_000;
    const store = create(now);
    await store.claim([
      record('now', { createdAt: 1, nextAttemptAt: 10_000 }),
      record('soon-retry', { status: DeliveryStatus.RETRY, nextAttemptAt: 11_500, createdAt: 2 }),
      record('soon-lease', { status: DeliveryStatus.SENDING, leaseUntil: 12_000, createdAt: 3 }),
      record('later', { status: DeliveryStatus.RETRY, nextAttemptAt: 12_001, createdAt: 4 }),
    ]);

    // Act
    const within = await store.listDue(10, 2_000);
    const nowOnly = await store.listDue(10);

    // Assess
    expect(within.map((item) => item.deliveryKey)).toEqual(['now', 'soon-retry', 'soon-lease']);
    expect(nowOnly.map((item) => item.deliveryKey)).toEqual(['now']);
  });

  it('forgets expired records, so their key can be claimed again', async () => {
    // Prepare
    clock = 2_000;
    const store = create(now);
    await store.claim([record('a', { expiresAt: 5_000 })]);

    // Act
    clock = 5_000;
    const [again] = await store.claim([record('a', { expiresAt: 9_000 })]);

    // Assess
    expect(again?.claimed).toBe(true);
    expect((await store.list()).map((item) => item.expiresAt)).toEqual([9_000]);
  });

  it('moves occurrence markers forward only by compare-and-set', async () => {
    // Prepare
    clock = 2_000;
    const store = create(now);
    const marker = { dedupKey: 'identity-a', latestOccurrence: 100, version: 1, updatedAt: 2_000, expiresAt: DAY };

    // Act
    const first = await store.putMarkers([marker]);
    const again = await store.putMarkers([{ ...marker, latestOccurrence: 150 }]);
    const advanced = await store.putMarkers([{ ...marker, latestOccurrence: 200, version: 2 }]);
    const stale = await store.putMarkers([{ ...marker, latestOccurrence: 300, version: 2 }]);

    // Assess
    expect([first, again, advanced, stale]).toEqual([[true], [false], [true], [false]]);
    const markers = await store.getMarkers(['identity-a', 'identity-b']);
    expect([...markers.keys()]).toEqual(['identity-a']);
    expect(markers.get('identity-a')).toMatchObject({ latestOccurrence: 200, version: 2 });
  });

  it('reads records, markers and key states together: the live ones of each, keyed as their own reads key them', async () => {
    // Prepare: two records, two markers and two key states, one of each expiring at 5,000; a marker whose dedup key is
    // also a record's delivery key (they live side by side in one table on Tablestore).
    clock = 2_000;
    const store = create(now);
    await store.claim([record('r-live'), record('r-old', { expiresAt: 5_000 }), record('shared')]);
    const marker = { latestOccurrence: 100, version: 1, updatedAt: 2_000, expiresAt: DAY };
    await store.putMarkers([
      { ...marker, dedupKey: 'm-live' },
      { ...marker, dedupKey: 'm-old', expiresAt: 5_000 },
      { ...marker, dedupKey: 'shared', latestOccurrence: 300 },
    ]);
    const keyState = { version: 1, updatedAt: 2_000, expiresAt: DAY, data: { pacing: { sent: 2 } } };
    await store.putKeyStates([
      { ...keyState, keyId: 'aaaaaaaaaaaaaaaa' },
      { ...keyState, keyId: 'bbbbbbbbbbbbbbbb', expiresAt: 5_000 },
    ]);
    clock = 5_000;

    // Act
    const all = await store.getWithMarkers(
      ['r-live', 'r-old', 'r-none', 'shared', 'r-live'],
      ['m-live', 'm-old', 'm-none', 'shared'],
      ['aaaaaaaaaaaaaaaa', 'bbbbbbbbbbbbbbbb', 'cccccccccccccccc', 'aaaaaaaaaaaaaaaa'],
    );
    const none = await store.getWithMarkers([], []);

    // Assess
    expect([...all.records.keys()].sort()).toEqual(['r-live', 'shared']);
    expect(all.records.get('shared')).toEqual(await store.get(['shared']).then((found) => found.get('shared')));
    expect([...all.markers.keys()].sort()).toEqual(['m-live', 'shared']);
    expect(all.markers.get('shared')).toMatchObject({ dedupKey: 'shared', latestOccurrence: 300, version: 1 });
    expect(all.markers).toEqual(await store.getMarkers(['m-live', 'm-old', 'm-none', 'shared']));
    expect([...all.keyStates.keys()]).toEqual(['aaaaaaaaaaaaaaaa']);
    expect(all.keyStates).toEqual(await store.getKeyStates(['aaaaaaaaaaaaaaaa', 'bbbbbbbbbbbbbbbb']));
    expect(none).toEqual({ records: new Map(), markers: new Map(), keyStates: new Map() });
    await expect(store.getWithMarkers([], [], ['not-a-key-id'])).rejects.toThrow(TypeError);
  });

  describe('Key states', () => {
    const KEY = '0123456789abcdef';
    const OTHER = 'fedcba9876543210';
    const state = (overrides: Partial<KeyState> = {}): KeyState => ({
      keyId: KEY,
      version: 1,
      updatedAt: 2_000,
      expiresAt: DAY,
      data: { window: { sent: 3, since: 1_500 }, circuit: 'closed', lease: null },
      ...overrides,
    });

    it('writes version 1 where none is, and reads it back as written', async () => {
      // Prepare
      clock = 2_000;
      const store = create(now);

      // Act
      const written = await store.putKeyStates([state()]);
      const read = await store.getKeyStates([KEY, OTHER]);

      // Assess
      expect(written).toEqual([true]);
      expect([...read.entries()]).toEqual([[KEY, state()]]);
    });

    it('refuses a second version 1, takes version 2 over 1, refuses a stale version', async () => {
      // Prepare
      clock = 2_000;
      const store = create(now);
      await store.putKeyStates([state()]);

      // Act
      const again = await store.putKeyStates([state({ data: { circuit: 'open' } })]);
      const advanced = await store.putKeyStates([state({ version: 2, data: { circuit: 'open' } })]);
      const stale = await store.putKeyStates([state({ version: 2, data: { circuit: 'half-open' } })]);
      const skipped = await store.putKeyStates([state({ version: 4 })]);

      // Assess
      expect([again, advanced, stale, skipped]).toEqual([[false], [true], [false], [false]]);
      expect((await store.getKeyStates([KEY])).get(KEY)).toMatchObject({ version: 2, data: { circuit: 'open' } });
    });

    it('treats an expired state as absent: not read, version 1 over it, never version 2', async () => {
      // Prepare
      clock = 2_000;
      const store = create(now);
      await store.putKeyStates([state({ expiresAt: 5_000 })]);
      clock = 5_000;

      // Act
      const read = await store.getKeyStates([KEY]);
      const overExpired = await store.putKeyStates([state({ version: 2, expiresAt: 9_000 })]);
      const fresh = await store.putKeyStates([state({ updatedAt: 5_000, expiresAt: 9_000 })]);

      // Assess
      expect(read.size).toBe(0);
      expect([overExpired, fresh]).toEqual([[false], [true]]);
      expect((await store.getKeyStates([KEY])).get(KEY)).toMatchObject({ version: 1, updatedAt: 5_000 });
    });

    it('writes the states of one call independently: a stale one does not stop the others', async () => {
      // Prepare
      clock = 2_000;
      const store = create(now);
      await store.putKeyStates([state()]);

      // Act
      const results = await store.putKeyStates([
        state({ keyId: OTHER }),
        state({ version: 3 }),
        state({ keyId: 'aaaaaaaaaaaaaaaa' }),
      ]);

      // Assess
      expect(results).toEqual([true, false, true]);
      const read = await store.getKeyStates([KEY, OTHER, 'aaaaaaaaaaaaaaaa']);
      expect([...read.values()].map((row) => [row.keyId, row.version])).toEqual([
        [KEY, 1],
        [OTHER, 1],
        ['aaaaaaaaaaaaaaaa', 1],
      ]);
    });

    it('applies the same key twice in one call in order', async () => {
      // Prepare
      clock = 2_000;
      const store = create(now);

      // Act
      const results = await store.putKeyStates([state(), state({ version: 2 }), state({ version: 2 })]);

      // Assess
      expect(results).toEqual([true, true, false]);
    });

    it.each([
      ['a routing key', 'R0UT1NGKEY0000000000000000000001'],
      ['upper-case hex', '0123456789ABCDEF'],
      ['a path', '../../etc/passwd'],
    ])('refuses %s as a key id, on read and write, naming no value', async (_case, keyId) => {
      // Prepare
      const store = create(now);

      // Act
      const errors = await Promise.all([
        store.getKeyStates([keyId]).catch((error: unknown) => error),
        store.putKeyStates([state({ keyId })]).catch((error: unknown) => error),
      ]);

      // Assess
      for (const error of errors) {
        expect(error).toBeInstanceOf(TypeError);
        expect((error as Error).message).toMatch(/16 lowercase hex digits/);
        expect((error as Error).message).not.toContain(keyId);
      }
    });
  });

  it('claims records and writes markers and key states in one call, each row on its own', async () => {
    // Prepare: one key claimed already; one marker and one key state at version 1 already (a second version 1 loses).
    clock = 2_000;
    const store = create(now);
    await store.claim([record('taken')]);
    const marker = { latestOccurrence: 100, version: 1, updatedAt: 2_000, expiresAt: DAY };
    await store.putMarkers([{ ...marker, dedupKey: 'identity-old' }]);
    const keyState = { version: 1, updatedAt: 2_000, expiresAt: DAY, data: { pacing: { sent: 1 } } };
    await store.putKeyStates([{ ...keyState, keyId: 'aaaaaaaaaaaaaaaa' }]);

    // Act
    const result = await store.claimWithMarkers(
      [record('new'), record('taken')],
      [
        { ...marker, dedupKey: 'identity-new' },
        { ...marker, dedupKey: 'identity-old', latestOccurrence: 200 },
      ],
      [
        { ...keyState, keyId: 'aaaaaaaaaaaaaaaa', data: { pacing: { sent: 9 } } },
        { ...keyState, keyId: 'bbbbbbbbbbbbbbbb', data: { pacing: { sent: 3 } } },
      ],
    );
    const markersOnly = await store.claimWithMarkers([], [{ ...marker, dedupKey: 'identity-alone' }]);
    const claimsOnly = await store.claimWithMarkers([record('other')], []);
    const keysOnly = await store.claimWithMarkers(
      [record('keyed')],
      [],
      [{ ...keyState, keyId: 'aaaaaaaaaaaaaaaa', version: 2 }],
    );

    // Assess
    expect(result.claims.map((outcome) => outcome.claimed)).toEqual([true, false]);
    expect(result.markers).toEqual([true, false]);
    expect(result.keyStates).toEqual([false, true]);
    expect('markersError' in result || 'keyStatesError' in result).toBe(false);
    expect(markersOnly).toEqual({ claims: [], markers: [true], keyStates: [] });
    expect(claimsOnly.claims.map((outcome) => outcome.claimed)).toEqual([true]);
    expect(keysOnly.claims.map((outcome) => outcome.claimed)).toEqual([true]);
    expect(keysOnly.keyStates).toEqual([true]);
    const markers = await store.getMarkers(['identity-new', 'identity-old', 'identity-alone']);
    expect([...markers.values()].map((found) => [found.dedupKey, found.latestOccurrence])).toEqual([
      ['identity-new', 100],
      ['identity-old', 100],
      ['identity-alone', 100],
    ]);
    const states = await store.getKeyStates(['aaaaaaaaaaaaaaaa', 'bbbbbbbbbbbbbbbb']);
    expect([...states.values()].map((found) => [found.keyId, found.version, found.data])).toEqual([
      ['aaaaaaaaaaaaaaaa', 2, { pacing: { sent: 1 } }],
      ['bbbbbbbbbbbbbbbb', 1, { pacing: { sent: 3 } }],
    ]);
  });

  it('replaces records and adds counters in one call, each part on its own', async () => {
    // Prepare: two claimed records; the second is replaced from a stale version (a lost race).
    clock = 10 * 60_000 + 5_000;
    const store = create(now);
    await store.claim([record('a'), record('b')]);
    const stale = { ...markDelivered(record('b'), clock), version: 3 };

    // Act
    const first = await store.replaceManyCounting(
      [markDelivered(record('a'), clock), stale],
      { counts: { callbacks: 1, 'deliveries.delivered': 1 }, latest: { lastCallbackAt: clock } },
      86_400,
    );
    const countersOnly = await store.replaceManyCounting([], { counts: { callbacks: 2 } }, 86_400);

    // Assess
    expect(first).toEqual({ written: [true, false] });
    expect(countersOnly).toEqual({ written: [] });
    expect((await store.get(['a', 'b'])).get('a')).toMatchObject({ status: 'DELIVERED', version: 2 });
    expect((await store.get(['b'])).get('b')).toMatchObject({ version: 1 });
    expect(await store.readCounters(clock - 60_000)).toEqual({
      counts: { callbacks: 3, 'deliveries.delivered': 1 },
      latest: { lastCallbackAt: clock },
    });
  });

  it('sums counters per minute and keeps the latest times, reading a window of buckets', async () => {
    // Prepare
    clock = 10 * 60_000 + 5_000;
    const store = create(now);

    // Act
    await store.addCounters(
      { counts: { callbacks: 1, 'deliveries.failed.server': 2 }, latest: { lastCallbackAt: clock } },
      86_400,
    );
    await store.addCounters({ counts: { callbacks: 1 }, latest: { lastCallbackAt: clock - 1_000 } }, 86_400);
    clock += 60_000;
    await store.addCounters({ counts: { callbacks: 3 } }, 86_400);
    clock += 60_000;

    // Assess
    expect(await store.readCounters(clock - 5 * 60_000)).toEqual({
      counts: { callbacks: 5, 'deliveries.failed.server': 2 },
      latest: { lastCallbackAt: 10 * 60_000 + 5_000 },
    });
    expect((await store.readCounters(clock - 60_000)).counts).toEqual({ callbacks: 3 });
    expect((await store.list()).length).toBe(0);
  });
});

describe('Class: FileStore', () => {
  it('survives a new instance on the same directory (a restart) and writes no temporary files behind', async () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'file-store-'));
    dirs.push(dir);
    await new FileStore({ path: dir, now: () => 2_000 }).claim([record('a')]);

    // Act
    const reopened = new FileStore({ path: dir, now: () => 2_000 });
    const [again] = await reopened.claim([record('a')]);

    // Assess
    expect(again?.claimed).toBe(false);
    expect(readdirSync(join(dir, 'deliveries'))).toEqual(['a.json']);
    expect(readdirSync(join(dir, 'tmp'))).toEqual([]);
  });

  it('applies a batch longer than one hold of a lock: each row once, in call order, no lock left behind', async () => {
    // Prepare: holds last a quarter of the stale age, so a 4 ms one ends them after a row or a few, and the batch goes
    // round its stripes many times. Ten keys come twice: the second, in a later hold, finds the first.
    const dir = mkdtempSync(join(tmpdir(), 'file-store-'));
    dirs.push(dir);
    const store = new FileStore({ path: dir, now: () => 2_000, lockStaleMs: 4 });
    const keys = Array.from({ length: 40 }, (_, index) => `row-${index % 30}`);

    // Act
    const outcomes = await store.claim(keys.map((key, index) => record(key, { routeName: `call-${index}` })));

    // Assess
    expect(outcomes.map((outcome) => outcome.claimed)).toEqual(keys.map((_, index) => index < 30));
    expect(outcomes[35]).toMatchObject({ claimed: false, existing: { deliveryKey: 'row-5', routeName: 'call-5' } });
    expect(readdirSync(join(dir, 'locks'))).toEqual([]);
    expect(readdirSync(join(dir, 'tmp'))).toEqual([]);
  });

  it('writes nothing until first used', () => {
    // Prepare
    const dir = join(tmpdir(), `file-store-unused-${process.pid}`);

    // Act
    new FileStore({ path: dir });

    // Assess
    expect(() => readdirSync(dir)).toThrow();
  });
});
