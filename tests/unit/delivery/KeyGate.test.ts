/**
 * The gate over one store, as several FC instances see it: each instance has its own KeyGate (its own cache), the
 * state is the store's row. Runs on the memory store; the store contract suite holds the row's compare-and-set on
 * every store.
 */
import { describe, expect, it } from 'vitest';
import { KeyGate } from '../../../shared/delivery/KeyGate';
import { DeliveryFailureReason } from '../../../shared/errors';
import { MemoryStore } from '../../../shared/store/MemoryStore';

const KEY = '0123456789abcdef';

/** A memory store that counts its key-state writes (the gate's round trips). */
class CountingStore extends MemoryStore {
  public keyStateWrites = 0;
  public override async putKeyStates(states: Parameters<MemoryStore['putKeyStates']>[0]) {
    this.keyStateWrites++;
    return super.putKeyStates(states);
  }
}

function gates(count: number, clock: { now: number }) {
  return gatesOnStore(count, clock).gates;
}

function gatesOnStore(count: number, clock: { now: number }) {
  const store = new CountingStore({ now: () => clock.now });
  const made = Array.from(
    { length: count },
    () =>
      new KeyGate({
        store,
        ratePerMinute: 120,
        probe: { baseMs: 1_000, maxMs: 5_000 },
        ttlMs: 86_400_000,
        now: () => clock.now,
      }),
  );
  return { store, gates: made };
}

describe('Class: KeyGate', () => {
  describe('Method: acquire', () => {
    it('shares one window across instances: together they never get more than the limit', async () => {
      // Prepare
      const clock = { now: 1_000_000 };
      const [a, b, c] = gates(3, clock);

      // Act: interleaved asks from three instances.
      let granted = 0;
      for (let round = 0; round < 10; round++) {
        for (const gate of [a, b, c]) {
          const grant = await gate?.acquire(KEY, 7, 2_500);
          if (grant?.kind === 'send') granted += grant.count;
        }
      }

      // Assess
      expect(granted).toBe(120);
      expect(await a?.acquire(KEY, 1, 2_500)).toMatchObject({ kind: 'wait', why: 'paced' });
    });
  });

  describe('Methods: prime, prepare, prepared, returnHeld (the webhook takes its first block in its claim)', () => {
    /** Two instances on one store; the first's invocation view has read the key's row (absent: nothing sent yet). */
    function primedView() {
      const clock = { now: 1_000_000 };
      const {
        store,
        gates: [a, b],
      } = gatesOnStore(2, clock);
      const view = (a as KeyGate).forInvocation();
      view.prime(KEY, undefined);
      return { clock, store, view, other: b as KeyGate };
    }

    /** Asks until the gate says wait: the sends left in the window. */
    async function left(gate: KeyGate | undefined): Promise<number> {
      let total = 0;
      for (;;) {
        const grant = await gate?.acquire(KEY, 1_000, 2_500);
        if (grant?.kind !== 'send') return total;
        total += grant.count;
      }
    }

    /** Writes what `prepare` built as the claim would (`putKeyStates` by compare-and-set), and reports it. */
    async function claimWith(gate: KeyGate, store: MemoryStore, wanted: number) {
      const state = gate.prepare(KEY, wanted);
      if (state === undefined) return undefined;
      const [written] = await store.putKeyStates([state]);
      gate.prepared(KEY, written === true);
      return written;
    }

    it('hands out the sends taken in the claim first, from the window every instance shares', async () => {
      // Prepare: instance a read the key's row with its first read (absent: nothing sent yet).
      const clock = { now: 1_000_000 };
      const {
        store,
        gates: [a, b],
      } = gatesOnStore(2, clock);
      const view = a?.forInvocation() as KeyGate;
      view.prime(KEY, (await store.getKeyStates([KEY])).get(KEY));

      // Act
      const written = await claimWith(view, store, 50);
      const writesBefore = store.keyStateWrites;
      const first = await view.acquire(KEY, 30, 2_500);
      const second = await view.acquire(KEY, 30, 2_500);
      const writesAfter = store.keyStateWrites;
      const third = await view.acquire(KEY, 30, 2_500);
      const other = await left(b);

      // Assess: 30 + 20 from the claim's row, no write of their own; then the usual way; b gets what is left of 120.
      expect(written).toBe(true);
      expect([first, second]).toMatchObject([
        { kind: 'send', count: 30 },
        { kind: 'send', count: 20 },
      ]);
      expect(writesAfter).toBe(writesBefore);
      expect(third).toMatchObject({ kind: 'send', count: 30 });
      expect(other).toBe(40);
    });

    it('takes nothing when the prepared row lost its race: the lane then asks the usual way, within the window', async () => {
      // Prepare: a primed, then b took 60 of the window after a's read.
      const { store, view, other: b } = primedView();
      await b?.acquire(KEY, 60, 2_500);

      // Act
      const written = await claimWith(view, store, 50);
      const grant = await view.acquire(KEY, 50, 2_500);
      const rest = await left(view);

      // Assess: the claim's row is refused; the ask reads b's row again and gets its 50, and 10 are left.
      expect(written).toBe(false);
      expect(grant).toMatchObject({ kind: 'send', count: 50 });
      expect(rest).toBe(10);
    });

    it('gives back at the end of the invocation what it took and never handed out', async () => {
      // Prepare
      const { store, view, other: b } = primedView();
      await claimWith(view, store, 60);
      await view.acquire(KEY, 10, 2_500);

      // Act
      await view.returnHeld();
      const other = await left(b);

      // Assess: only the 10 handed out stay spent.
      expect(other).toBe(110);
    });

    it('keeps the sends of one invocation to it: another view of the same gate asks the usual way', async () => {
      // Prepare
      const clock = { now: 1_000_000 };
      const {
        store,
        gates: [a],
      } = gatesOnStore(1, clock);
      const gate = a as KeyGate;
      const one = gate.forInvocation();
      const two = gate.forInvocation();
      one.prime(KEY, undefined);
      await claimWith(one, store, 50);
      const writes = store.keyStateWrites;

      // Act
      const grant = await two.acquire(KEY, 60, 2_500);
      const rest = await left(two);

      // Assess: two takes its own block (a write) from what is left (120 - 50), none of one's.
      expect(grant).toMatchObject({ kind: 'send', count: 60 });
      expect(store.keyStateWrites).toBe(writes + 2);
      expect(rest).toBe(10);
    });

    it.each([
      ['nothing cached', false, 0],
      ['the circuit open', true, 0],
      ['the window spent', true, 120],
    ])('prepares nothing with %s', async (_name, primed, spent) => {
      // Prepare
      const clock = { now: 1_000_000 };
      const {
        store,
        gates: [a, b],
      } = gatesOnStore(2, clock);
      if (spent > 0) await left(b);
      if (_name === 'the circuit open') {
        await b?.acquire(KEY, 1, 2_500);
        await b?.report(KEY, { ok: false, probe: false, reason: DeliveryFailureReason.SERVER, route: 'default' });
      }
      const view = a?.forInvocation() as KeyGate;
      if (primed) view.prime(KEY, (await store.getKeyStates([KEY])).get(KEY));

      // Act
      const state = view.prepare(KEY, 10);

      // Assess
      expect(state).toBeUndefined();
    });

    it('prepares one row per key at a time, and a primed row never replaces a newer one it has seen', async () => {
      // Prepare
      const clock = { now: 1_000_000 };
      const {
        store,
        gates: [a],
      } = gatesOnStore(1, clock);
      const view = (a as KeyGate).forInvocation();
      await view.acquire(KEY, 5, 2_500); // cached: version 1
      const stored = (await store.getKeyStates([KEY])).get(KEY);

      // Act
      view.prime(KEY, undefined); // an older read (before the write): ignored
      const first = view.prepare(KEY, 10);
      const second = view.prepare(KEY, 10);

      // Assess
      expect(stored?.version).toBe(1);
      expect(first?.version).toBe(2);
      expect(second).toBeUndefined();
      expect(view.wantsRow(KEY)).toBe(false);
      clock.now += 1_001;
      expect(view.wantsRow(KEY)).toBe(true);
    });
  });

  describe('Method: withBlockMax', () => {
    it('grants blocks up to its own size from the same budget, and holds the same drain lease', async () => {
      // Prepare
      const clock = { now: 1_000_000 };
      const [gate, other] = gates(2, clock);
      const relay = gate?.withBlockMax(100);

      // Act
      const large = await relay?.acquire(KEY, 100, 2_500);
      const small = await gate?.acquire(KEY, 100, 2_500);
      const capped = await other?.acquire(KEY, 100, 2_500);
      const leased = await relay?.leaseDrain(KEY, 60_000);
      const again = await gate?.leaseDrain(KEY, 60_000);
      const refused = await other?.leaseDrain(KEY, 60_000);

      // Assess: 100 + 20 = the window's 120, whichever view takes it; the view is the same owner as its gate.
      expect(large).toMatchObject({ kind: 'send', count: 100 });
      expect(small).toMatchObject({ kind: 'send', count: 20 });
      expect(capped).toMatchObject({ kind: 'wait', why: 'paced' });
      expect([leased, again, refused]).toEqual([true, true, false]);
    });
  });

  describe('Method: report', () => {
    it('opens the circuit for every instance on a 5xx, lets one probe at a time, and closes on its success', async () => {
      // Prepare
      const clock = { now: 1_000_000 };
      const [a, b] = gates(2, clock);
      await a?.acquire(KEY, 1, 2_500);

      // Act 1: a 500 on instance a.
      const stop = await a?.report(KEY, { ok: false, probe: false, reason: DeliveryFailureReason.SERVER, route: 'r' });
      const seenByB = await b?.acquire(KEY, 5, 2_500);

      // Assess 1: b (whose cache is fresh from its own read) waits for the probe time.
      expect(stop).toBe(true);
      expect(seenByB).toEqual({ kind: 'wait', why: 'circuit-open', until: 1_001_000 });

      // Act 2: the probe time comes; both ask.
      clock.now = 1_001_000;
      const probeA = await a?.acquire(KEY, 5, 2_500);
      const probeB = await b?.acquire(KEY, 5, 2_500);

      // Assess 2: one probe only.
      expect(probeA).toEqual({ kind: 'probe', takenAt: 1_001_000 });
      expect(probeB).toMatchObject({ kind: 'wait', why: 'circuit-open' });

      // Act 3: the probe succeeds.
      await a?.report(KEY, { ok: true, probe: true, route: 'r' });
      clock.now += 1_500; // b's cached view is stale (older than a second): it reads the row again
      const afterClose = await b?.acquire(KEY, 5, 2_500);

      // Assess 3
      expect(afterClose).toMatchObject({ kind: 'send', count: 5 });
      expect(await a?.openCircuits([KEY])).toEqual([]);
    });
  });

  describe('Method: leaseDrain', () => {
    it('lets one relay drain a key at a time, and another after it releases or its lease ends', async () => {
      // Prepare
      const clock = { now: 1_000_000 };
      const [a, b] = gates(2, clock);

      // Act and assess
      expect(await a?.leaseDrain(KEY, 10_000)).toBe(true);
      expect(await b?.leaseDrain(KEY, 10_000)).toBe(false);
      await a?.releaseDrain(KEY);
      expect(await b?.leaseDrain(KEY, 10_000)).toBe(true);
      clock.now += 10_001;
      expect(await a?.leaseDrain(KEY, 10_000)).toBe(true);
    });
  });
});
