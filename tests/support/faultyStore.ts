/**
 * A MemoryStore whose operations can be made to fail, for the webhook's store-outage paths: `down` fails every call
 * (an unreachable store), `failWritesAfterClaim` lets claims land and then fails the final writes (a crash between
 * claim and outcome, as far as the store can tell), `failBatchWritesAfter` fails batch writes after the first few (a
 * crash in the middle of recording outcomes).
 */
import { StoreError } from '../../shared/errors';
import type { DeliveryRecord } from '../../shared/store/DeliveryRecord';
import type { ClaimOutcome } from '../../shared/store/DeliveryStore';
import { MemoryStore } from '../../shared/store/MemoryStore';
import type { OccurrenceMarker } from '../../shared/store/OccurrenceMarker';

class FaultyStore extends MemoryStore {
  public down = false;
  public failWritesAfterClaim = false;
  /** Batch writes (`replaceMany`) after this many succeed fail, as if the instance died there. */
  public failBatchWritesAfter = Number.POSITIVE_INFINITY;
  #batchWrites = 0;

  #check(): void {
    if (this.down) throw new StoreError('store unreachable (test fault)');
  }

  public override async claim(records: readonly DeliveryRecord[]): Promise<ClaimOutcome[]> {
    this.#check();
    return super.claim(records);
  }

  public override async replace(record: DeliveryRecord): Promise<boolean> {
    this.#check();
    if (this.failWritesAfterClaim) throw new StoreError('write failed (test fault)', { ambiguous: true });
    return super.replace(record);
  }

  public override async replaceMany(records: readonly DeliveryRecord[]): Promise<boolean[]> {
    this.#check();
    if (this.failWritesAfterClaim) throw new StoreError('write failed (test fault)', { ambiguous: true });
    if (this.#batchWrites++ >= this.failBatchWritesAfter) throw new StoreError('write failed (test fault)');
    return super.replaceMany(records);
  }

  public override async get(keys: readonly string[]): Promise<Map<string, DeliveryRecord>> {
    this.#check();
    return super.get(keys);
  }

  public override async getMarkers(keys: readonly string[]): Promise<Map<string, OccurrenceMarker>> {
    this.#check();
    return super.getMarkers(keys);
  }
}

export { FaultyStore };
