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

function gates(count: number, clock: { now: number }) {
  const store = new MemoryStore({ now: () => clock.now });
  return Array.from(
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
