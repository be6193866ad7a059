/**
 * The local runtime's embedded store (STORE=file): one JSON file per delivery under `<STORE_PATH>/deliveries/`,
 * readable with `cat`, surviving restarts and crashes.
 *
 * Every write goes to a temporary file first. A claim then hard-links it into place, which fails if the name exists:
 * an atomic create-if-absent even across processes. A replace renames it over the old file (atomic on POSIX), after
 * checking the version. All file calls are synchronous, so no other callback of this process runs between the check
 * and the write. Expired files are pruned when read.
 */
import { randomUUID } from 'node:crypto';
import { linkSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StoreError } from '../errors';
import { type CounterDelta, type CounterTotals, mergeCounters } from './Counters';
import type { DeliveryRecord } from './DeliveryRecord';
import { type ClaimOutcome, DeliveryStore } from './DeliveryStore';
import type { KeyState } from './KeyState';
import { markerKeyOf, type OccurrenceMarker } from './OccurrenceMarker';

const SAFE_KEY = /^[A-Za-z0-9_.:-]{1,200}$/;

class FileStore extends DeliveryStore {
  readonly #dir: string;
  readonly #markerDir: string;
  readonly #counterDir: string;
  readonly #tmpDir: string;

  #ready = false;

  public constructor(options: { path: string; now?: () => number }) {
    super(options);
    this.#dir = join(options.path, 'deliveries');
    this.#markerDir = join(options.path, 'markers');
    this.#counterDir = join(options.path, 'counters');
    this.#tmpDir = join(options.path, 'tmp');
  }

  /** Where the store keeps its files (for the start-up banner). */
  public get directory(): string {
    return this.#dir;
  }

  protected async _putIfAbsent(records: readonly DeliveryRecord[]): Promise<ClaimOutcome[]> {
    const now = this.now();
    return records.map((record) => {
      const target = this.#fileOf(record.deliveryKey);
      const existing = this.#read(target);
      if (existing !== undefined && existing.expiresAt > now) return { claimed: false, record, existing };
      if (existing !== undefined) rmSync(target, { force: true });
      const tmp = this.#writeTemp(record.deliveryKey, record);
      try {
        linkSync(tmp, target);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw this.#storeError('claim', error);
        const winner = this.#read(target);
        if (winner === undefined) throw this.#storeError('claim', error);
        return { claimed: false, record, existing: winner };
      } finally {
        rmSync(tmp, { force: true });
      }
      return { claimed: true, record };
    });
  }

  protected async _putIfVersion(record: DeliveryRecord, expectedVersion: number): Promise<boolean> {
    const target = this.#fileOf(record.deliveryKey);
    if (this.#read(target)?.version !== expectedVersion) return false;
    const tmp = this.#writeTemp(record.deliveryKey, record);
    try {
      renameSync(tmp, target);
    } catch (error) {
      rmSync(tmp, { force: true });
      throw this.#storeError('replace', error);
    }
    return true;
  }

  protected async _get(deliveryKeys: readonly string[]): Promise<Map<string, DeliveryRecord>> {
    const found = new Map<string, DeliveryRecord>();
    for (const key of deliveryKeys) {
      const record = this.#read(this.#fileOf(key));
      if (record !== undefined) found.set(key, record);
    }
    return found;
  }

  protected async _scan(): Promise<DeliveryRecord[]> {
    this.#ensureDirectories();
    const now = this.now();
    const records: DeliveryRecord[] = [];
    for (const name of readdirSync(this.#dir)) {
      if (!name.endsWith('.json')) continue;
      const file = join(this.#dir, name);
      const record = this.#read(file);
      if (record === undefined) continue;
      if (record.expiresAt <= now) rmSync(file, { force: true });
      else records.push(record);
    }
    return records;
  }

  protected async _getMarkers(dedupKeys: readonly string[]): Promise<Map<string, OccurrenceMarker>> {
    const found = new Map<string, OccurrenceMarker>();
    for (const dedupKey of dedupKeys) {
      const marker = this.#read<OccurrenceMarker>(join(this.#markerDir, `${markerKeyOf(dedupKey)}.json`));
      if (marker !== undefined) found.set(dedupKey, marker);
    }
    return found;
  }

  protected async _putMarkers(markers: readonly OccurrenceMarker[]): Promise<boolean[]> {
    const now = this.now();
    return markers.map((marker) => {
      const target = join(this.#markerDir, `${markerKeyOf(marker.dedupKey)}.json`);
      const existing = this.#read<OccurrenceMarker>(target);
      const live = existing !== undefined && existing.expiresAt > now;
      if (marker.version === 1) {
        if (live) return false;
        if (existing !== undefined) rmSync(target, { force: true });
        const tmp = this.#writeTemp(markerKeyOf(marker.dedupKey), marker);
        try {
          linkSync(tmp, target);
          return true;
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
          throw this.#storeError('put marker', error);
        } finally {
          rmSync(tmp, { force: true });
        }
      }
      if (!live || existing?.version !== marker.version - 1) return false;
      renameSync(this.#writeTemp(markerKeyOf(marker.dedupKey), marker), target);
      return true;
    });
  }

  protected async _getKeyStates(keyIds: readonly string[]): Promise<Map<string, KeyState>> {
    const found = new Map<string, KeyState>();
    for (const keyId of keyIds) {
      const state = this.#read<KeyState>(join(this.#markerDir, `k1-${keyId}.json`));
      if (state !== undefined) found.set(keyId, state);
    }
    return found;
  }

  protected async _putKeyStates(states: readonly KeyState[]): Promise<boolean[]> {
    const now = this.now();
    return states.map((state) => {
      const target = join(this.#markerDir, `k1-${state.keyId}.json`);
      const existing = this.#read<KeyState>(target);
      const live = existing !== undefined && existing.expiresAt > now;
      if (state.version === 1 ? live : !live || existing?.version !== state.version - 1) return false;
      renameSync(this.#writeTemp(`k1-${state.keyId}`, state), target);
      return true;
    });
  }

  // Read-modify-write with synchronous calls: atomic within this process (the local runtime hosts both functions).
  protected async _addCounters(
    updates: readonly { bucket: number; delta: CounterDelta }[],
    expiresAt: number,
  ): Promise<void> {
    this.#ensureDirectories();
    for (const { bucket, delta } of updates) {
      const file = join(this.#counterDir, `${bucket}.json`);
      const existing = this.#read<CounterTotals & { expiresAt?: number }>(file);
      if (existing === undefined) this.#pruneCounters();
      const totals = mergeCounters(existing ?? { counts: {}, latest: {} }, delta);
      renameSync(this.#writeTemp(`counters-${bucket}`, { ...totals, expiresAt }), file);
    }
  }

  /** Drops expired buckets; run when a new minute's bucket is created, so at most once a minute. */
  #pruneCounters(): void {
    const now = this.now();
    for (const name of readdirSync(this.#counterDir)) {
      const file = join(this.#counterDir, name);
      const bucket = this.#read<{ expiresAt?: number }>(file);
      if (bucket?.expiresAt !== undefined && bucket.expiresAt <= now) rmSync(file, { force: true });
    }
  }

  protected async _readCounters(buckets: readonly number[]): Promise<CounterTotals[]> {
    return buckets.flatMap((bucket) => {
      const totals = this.#read<CounterTotals>(join(this.#counterDir, `${bucket}.json`));
      return totals === undefined ? [] : [{ counts: totals.counts, latest: totals.latest }];
    });
  }

  #fileOf(deliveryKey: string): string {
    if (!SAFE_KEY.test(deliveryKey)) throw new StoreError('delivery key is not a safe file name');
    return join(this.#dir, `${deliveryKey}.json`);
  }

  /** Created on first use, so loading the module (or a misconfigured instance) writes nothing. */
  #ensureDirectories(): void {
    if (this.#ready) return;
    try {
      mkdirSync(this.#dir, { recursive: true });
      mkdirSync(this.#markerDir, { recursive: true });
      mkdirSync(this.#counterDir, { recursive: true });
      mkdirSync(this.#tmpDir, { recursive: true });
    } catch (error) {
      throw this.#storeError('create directories', error);
    }
    this.#ready = true;
  }

  #writeTemp(key: string, data: unknown): string {
    this.#ensureDirectories();
    const tmp = join(this.#tmpDir, `${key}.${randomUUID()}.tmp`);
    try {
      writeFileSync(tmp, `${JSON.stringify(data, null, 2)}\n`);
    } catch (error) {
      throw this.#storeError('write', error);
    }
    return tmp;
  }

  #read<T = DeliveryRecord>(file: string): T | undefined {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw this.#storeError('read', error);
    }
    try {
      return JSON.parse(text) as T;
    } catch (error) {
      // Writes are atomic, so a torn file means someone edited it by hand: refuse loudly rather than overwrite it.
      throw this.#storeError(`parse ${file}`, error);
    }
  }

  #storeError(operation: string, cause: unknown): StoreError {
    return new StoreError(`file store ${operation} failed: ${(cause as Error).message}`, { cause });
  }
}

export { FileStore };
