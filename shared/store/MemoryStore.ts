/**
 * In-process store (STORE=memory): for tests and benchmarks. Nothing survives the process, so `loadConfig` refuses
 * it when deployed. A stored record's fields are isolated from its writer and its readers as a real store's serialized
 * row is, without a deep copy in or out (see {@link isolate}). Key states and counters (which the store adds to in
 * place) are copied whole with `structuredClone`: on the warm benchmark's profile (`--cpu-prof`, 1 to 1,000 alerts per
 * callback) those copies take under 0.01 % of the CPU, so a faster hand-written copy would buy nothing measurable.
 */

import { type CounterDelta, type CounterTotals, mergeCounters } from './Counters';
import type { DeliveryRecord } from './DeliveryRecord';
import { type ClaimOutcome, DeliveryStore, type OutboxSummary } from './DeliveryStore';
import type { KeyState } from './KeyState';
import type { OccurrenceMarker } from './OccurrenceMarker';
import { dueAmong, followsVersion, summaryOf } from './storeRules';

/**
 * A record as it crosses the store's boundary, in or out: a copy of its top level, which holds everything a
 * transition changes (status, version, attempts, lease …), so a writer changing its own record afterwards, or a reader
 * the one it got, never reaches the stored row (as with a real store's serialized row). The event is shared, not
 * copied: events are values, made once by the builders and never changed (every transition copies the record around
 * the same event, the 512 KB degradation copies what it cuts). On the warm benchmark's 1,000-alert callbacks a deep
 * copy in and out costs 6–7 % of the CPU, freezing the event whole as much, and freezing the top level four times
 * this copy.
 */
function isolate(record: DeliveryRecord): DeliveryRecord {
  return { ...record };
}

class MemoryStore extends DeliveryStore {
  readonly #rows = new Map<string, DeliveryRecord>();
  readonly #markers = new Map<string, OccurrenceMarker>();
  readonly #keyStates = new Map<string, KeyState>();
  readonly #counters = new Map<number, CounterTotals>();

  protected async _putIfAbsent(records: readonly DeliveryRecord[]): Promise<ClaimOutcome[]> {
    const now = this.now();
    return records.map((record) => {
      const existing = this.#rows.get(record.deliveryKey);
      if (existing !== undefined && existing.expiresAt > now) {
        return { claimed: false, record, existing: isolate(existing) };
      }
      this.#rows.set(record.deliveryKey, isolate(record));
      return { claimed: true, record };
    });
  }

  protected async _putIfVersion(records: readonly DeliveryRecord[], expected: readonly number[]): Promise<boolean[]> {
    return records.map((record, index) => {
      if (this.#rows.get(record.deliveryKey)?.version !== expected[index]) return false;
      this.#rows.set(record.deliveryKey, isolate(record));
      return true;
    });
  }

  protected async _get(deliveryKeys: readonly string[]): Promise<Map<string, DeliveryRecord>> {
    const found = new Map<string, DeliveryRecord>();
    for (const key of deliveryKeys) {
      const row = this.#rows.get(key);
      if (row !== undefined) found.set(key, isolate(row));
    }
    return found;
  }

  protected async _listDue(limit: number, now: number, until: number): Promise<DeliveryRecord[]> {
    return dueAmong(this.#rows.values(), now, until, limit).map(isolate);
  }

  protected async _outboxSummary(): Promise<OutboxSummary> {
    const now = this.now();
    return summaryOf([...this.#rows.values()].filter((record) => record.expiresAt > now));
  }

  protected async _scan(): Promise<DeliveryRecord[]> {
    return [...this.#rows.values()].map(isolate);
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
      const ok = followsVersion(this.#markers.get(marker.dedupKey), marker.version, now);
      if (ok) this.#markers.set(marker.dedupKey, { ...marker });
      return ok;
    });
  }

  protected async _getKeyStates(keyIds: readonly string[]): Promise<Map<string, KeyState>> {
    const found = new Map<string, KeyState>();
    for (const keyId of keyIds) {
      const state = this.#keyStates.get(keyId);
      if (state !== undefined) found.set(keyId, structuredClone(state));
    }
    return found;
  }

  protected async _putKeyStates(states: readonly KeyState[]): Promise<boolean[]> {
    const now = this.now();
    return states.map((state) => {
      const ok = followsVersion(this.#keyStates.get(state.keyId), state.version, now);
      if (ok) this.#keyStates.set(state.keyId, structuredClone(state));
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
