/**
 * In-process store (STORE=memory): for tests and benchmarks. Nothing survives the process, so `loadConfig` refuses
 * it when deployed. Records are cloned in and out, as a real store would serialize them.
 */

import { type CounterDelta, type CounterTotals, mergeCounters } from './Counters';
import type { DeliveryRecord } from './DeliveryRecord';
import { type ClaimOutcome, DeliveryStore } from './DeliveryStore';
import type { OccurrenceMarker } from './OccurrenceMarker';

class MemoryStore extends DeliveryStore {
  readonly #rows = new Map<string, DeliveryRecord>();
  readonly #markers = new Map<string, OccurrenceMarker>();
  readonly #counters = new Map<number, CounterTotals>();

  protected async _putIfAbsent(records: readonly DeliveryRecord[]): Promise<ClaimOutcome[]> {
    const now = this.now();
    return records.map((record) => {
      const existing = this.#rows.get(record.deliveryKey);
      if (existing !== undefined && existing.expiresAt > now) {
        return { claimed: false, record, existing: structuredClone(existing) };
      }
      this.#rows.set(record.deliveryKey, structuredClone(record));
      return { claimed: true, record };
    });
  }

  protected async _putIfVersion(record: DeliveryRecord, expectedVersion: number): Promise<boolean> {
    const existing = this.#rows.get(record.deliveryKey);
    if (existing?.version !== expectedVersion) return false;
    this.#rows.set(record.deliveryKey, structuredClone(record));
    return true;
  }

  protected async _get(deliveryKeys: readonly string[]): Promise<Map<string, DeliveryRecord>> {
    const found = new Map<string, DeliveryRecord>();
    for (const key of deliveryKeys) {
      const row = this.#rows.get(key);
      if (row !== undefined) found.set(key, structuredClone(row));
    }
    return found;
  }

  protected async _scan(): Promise<DeliveryRecord[]> {
    return [...this.#rows.values()].map((row) => structuredClone(row));
  }
  protected async _getMarkers(dedupKeys: readonly string[]): Promise<Map<string, OccurrenceMarker>> {
    const found = new Map<string, OccurrenceMarker>();
    for (const key of dedupKeys) {
      const marker = this.#markers.get(key);
      if (marker !== undefined) found.set(key, { ...marker });
    }
    return found;
  }

  protected async _putMarkers(markers: readonly OccurrenceMarker[]): Promise<boolean[]> {
    const now = this.now();
    return markers.map((marker) => {
      const existing = this.#markers.get(marker.dedupKey);
      const live = existing !== undefined && existing.expiresAt > now;
      const ok = marker.version === 1 ? !live : live && existing?.version === marker.version - 1;
      if (ok) this.#markers.set(marker.dedupKey, { ...marker });
      return ok;
    });
  }

  protected async _addCounters(updates: readonly { bucket: number; delta: CounterDelta }[]): Promise<void> {
    for (const { bucket, delta } of updates) {
      this.#counters.set(bucket, mergeCounters(this.#counters.get(bucket) ?? { counts: {}, latest: {} }, delta));
    }
  }

  protected async _readCounters(buckets: readonly number[]): Promise<CounterTotals[]> {
    return buckets.flatMap((bucket) => {
      const totals = this.#counters.get(bucket);
      return totals === undefined ? [] : [structuredClone(totals)];
    });
  }
}

export { MemoryStore };
