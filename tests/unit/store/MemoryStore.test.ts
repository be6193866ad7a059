import { describe, expect, it } from 'vitest';
import { DeliveryStatus } from '../../../shared/constants';
import type { KeyState } from '../../../shared/store/KeyState';
import { MemoryStore } from '../../../shared/store/MemoryStore';
import { deliveryRecord } from '../../support/deliveryRecords';

const AT = Date.UTC(2026, 0, 1);

describe('Class: MemoryStore', () => {
  describe('isolation of stored rows (as a serialized row is isolated in a real store)', () => {
    it('keeps a row as written when its writer changes its own record afterwards', async () => {
      // Prepare
      const store = new MemoryStore({ now: () => AT });
      const record = deliveryRecord('k1', AT);

      // Act
      await store.claim([record]);
      record.status = DeliveryStatus.DEAD;
      record.version = 7;

      // Assess
      expect((await store.get(['k1'])).get('k1')).toMatchObject({ status: DeliveryStatus.PENDING, version: 1 });
    });

    it('keeps a row as written when a reader changes the record it read', async () => {
      // Prepare
      const store = new MemoryStore({ now: () => AT });
      await store.claim([deliveryRecord('k1', AT)]);
      const [read] = await store.list();

      // Act
      Object.assign(read as object, { status: DeliveryStatus.DEAD, version: 9 });

      // Assess
      expect((await store.get(['k1'])).get('k1')).toEqual(deliveryRecord('k1', AT));
      expect((await store.claim([deliveryRecord('k1', AT)]))[0]).toMatchObject({ existing: { version: 1 } });
    });

    it('keeps each version of a row apart when a transition carries the same event on', async () => {
      // Prepare
      const store = new MemoryStore({ now: () => AT });
      const first = deliveryRecord('k1', AT);
      await store.claim([first]);
      const [claimed] = await store.list();

      // Act
      const next = { ...(claimed as typeof first), status: DeliveryStatus.DELIVERED, version: 2 };
      const won = await store.replace(next);

      // Assess
      expect(won).toBe(true);
      expect(claimed).toMatchObject({ status: DeliveryStatus.PENDING, version: 1 });
      expect((await store.get(['k1'])).get('k1')).toMatchObject({ status: DeliveryStatus.DELIVERED, version: 2 });
      expect((await store.get(['k1'])).get('k1')?.event).toEqual(first.event);
    });
  });

  describe('isolation of key states (plain JSON data, copied whole)', () => {
    it('keeps a key state as written when its reader changes the data it read', async () => {
      // Prepare
      const store = new MemoryStore({ now: () => AT });
      const keyId = '0123456789abcdef';
      await store.putKeyStates([
        { keyId, version: 1, updatedAt: AT, expiresAt: AT + 60_000, data: { sent: [AT - 2, AT - 1] } },
      ]);
      const state = (await store.getKeyStates([keyId])).get(keyId) as KeyState;

      // Act
      (state.data.sent as number[]).push(AT);

      // Assess
      expect((await store.getKeyStates([keyId])).get(keyId)?.data).toEqual({ sent: [AT - 2, AT - 1] });
    });
  });
});
