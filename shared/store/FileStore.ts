/**
 * The local runtime's embedded store (STORE=file): one JSON file per row, readable with `cat`, surviving restarts and
 * crashes.
 *
 * ```
 *  <STORE_PATH>/deliveries/<deliveryKey>.json   markers/m1-<hash>.json   key-states/<keyId>.json
 *              counters/<minute>.json           tmp/  rows being written    locks/  writes in progress
 * ```
 *
 * Several writers share one directory: `npm start` runs the webhook and delivery-health in two threads, and a second
 * runtime or an operator tool may run on the same STORE_PATH. So every write that depends on what is stored (a claim,
 * the takeover of an expired row, a replace by version, markers and key states by version, counter sums, the pruning
 * of expired rows) is one `#compareAndSwap`, the same steps for every kind of row:
 *
 * ```
 *  1. lock     create locks/<dir>.<row>.lock exclusively (open 'wx': one creator wins, across threads and processes);
 *              it names its holder {host, pid, thread, since} and stays open while held
 *  2. read     the row as it is now; `decide` returns the row to write, REMOVE, or undefined (leave it as it is)
 *  3. stage    write the new row to tmp/ (a crash here leaves a stray temporary file, never a torn row)
 *  4. fence    the lock file is still the one this writer created (same inode), else start again at 1
 *  5. commit   rename the temporary file over the row (atomic: a reader sees the old row or the new one)
 *  6. unlock   remove the lock file if it is still ours
 * ```
 *
 * Reads take no lock (step 5 is atomic). Steps 1–6 are synchronous file calls: a lock is held for well under a
 * millisecond, and no other callback of the thread runs meanwhile. A writer holds one lock at a time, so writers never
 * wait for each other in a cycle.
 *
 * A writer that finds a lock waits (short synchronous pauses) and takes the lock over when it is abandoned: its
 * holder's process is gone (same host, pid not running: a SIGKILL, a crash), or it is older than `lockStaleMs` (a
 * thread stopped mid-write in a live process, a reused pid). After `lockWaitMs` the writer gives up with a
 * `StoreError`, as on any store outage. So no kill leaves a row locked for longer than `lockStaleMs`.
 *
 * Why the fence: POSIX has no "remove this file if unchanged", so taking a lock over cannot be atomic with judging it.
 * Two writers may take over one abandoned lock at once (the second removing the first one's new lock), or a holder
 * stalled past `lockStaleMs` may be judged abandoned. Either way the writer whose lock file was removed sees it at
 * step 4 and starts again, having written nothing. What is left is a removal landing exactly between steps 4 and 5
 * (two adjacent file calls), which takes one of those two cases at that very moment.
 */
import { randomUUID } from 'node:crypto';
import {
  closeSync,
  fstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { threadId } from 'node:worker_threads';
import { StoreError } from '../errors';
import { type CounterDelta, type CounterTotals, mergeCounters } from './Counters';
import type { DeliveryRecord } from './DeliveryRecord';
import { type ClaimOutcome, DeliveryStore, followsVersion } from './DeliveryStore';
import type { KeyState } from './KeyState';
import { markerKeyOf, type OccurrenceMarker } from './OccurrenceMarker';

const SAFE_KEY = /^[A-Za-z0-9_.:-]{1,200}$/;

/** Returned by a `decide` to delete the row. */
const REMOVE = Symbol('remove');

/** What a lock file says (readable with `cat`): who holds it, and since when (epoch ms). */
interface LockHolder {
  host: string;
  pid: number;
  thread: number;
  since: number;
}

/** A lock this writer holds: the open lock file (kept open, so its inode number cannot be reused meanwhile). */
interface HeldLock {
  fd: number;
  ino: number;
}

/** The row as read under the lock, and whether the swap changed it. */
interface SwapResult<T> {
  swapped: boolean;
  existing: T | undefined;
}

type StoredCounters = CounterTotals & { expiresAt?: number };

/**
 * Pauses between two looks at a held lock: doubling from the first to the last, with jitter. The first is about one
 * hold; shorter ones only take CPU from the holder on a busy machine.
 */
const LOCK_PAUSE_FIRST_MS = 0.5;
const LOCK_PAUSE_LAST_MS = 4;
const pauseCell = new Int32Array(new SharedArrayBuffer(4));
const HOST = hostname();

interface FileStoreOptions {
  /** `STORE_PATH`: the store's directory, created on first use. */
  path: string;
  /** Injectable clock (tests). Lock ages are always wall-clock time. @default Date.now */
  now?: () => number;
  /**
   * A lock older than this is abandoned and taken over. A held lock lasts well under a millisecond; this is for a
   * thread stopped mid-write (a worker terminated) while its process lives on. @default 2000
   */
  lockStaleMs?: number;
  /** How long a write waits for a held lock before it fails with a `StoreError`. @default 3000 */
  lockWaitMs?: number;
}

/** Whether a process with this pid runs on this host (EPERM: it does, under another user). */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function parseHolder(text: string): LockHolder | undefined {
  try {
    const holder = JSON.parse(text) as Partial<LockHolder>;
    const numbers = [holder.pid, holder.thread, holder.since].every((value) => Number.isInteger(value));
    return numbers && (holder.pid as number) > 0 && typeof holder.host === 'string'
      ? (holder as LockHolder)
      : undefined;
  } catch {
    return undefined; // being written, or cut short by a kill: judged by the file's age
  }
}

class FileStore extends DeliveryStore {
  readonly #dir: string;
  readonly #markerDir: string;
  readonly #keyStateDir: string;
  readonly #counterDir: string;
  readonly #tmpDir: string;
  readonly #lockDir: string;
  readonly #lockStaleMs: number;
  readonly #lockWaitMs: number;

  #ready = false;

  public constructor(options: FileStoreOptions) {
    super(options);
    this.#dir = join(options.path, 'deliveries');
    this.#markerDir = join(options.path, 'markers');
    this.#keyStateDir = join(options.path, 'key-states');
    this.#counterDir = join(options.path, 'counters');
    this.#tmpDir = join(options.path, 'tmp');
    this.#lockDir = join(options.path, 'locks');
    this.#lockStaleMs = options.lockStaleMs ?? 2_000;
    this.#lockWaitMs = options.lockWaitMs ?? 3_000;
  }

  /** Where the store keeps its files (for the start-up banner). */
  public get directory(): string {
    return this.#dir;
  }

  // ------------------------------------------------------------------------------------------------------------
  // Deliveries
  // ------------------------------------------------------------------------------------------------------------

  /** A new key, or the takeover of an expired row (judged on the row as read under the lock). */
  protected async _putIfAbsent(records: readonly DeliveryRecord[]): Promise<ClaimOutcome[]> {
    return records.map((record) => {
      const { swapped, existing } = this.#compareAndSwap<DeliveryRecord>(this.#fileOf(record.deliveryKey), (row) =>
        row !== undefined && row.expiresAt > this.now() ? undefined : record,
      );
      if (swapped) return { claimed: true, record };
      return { claimed: false, record, existing: existing as DeliveryRecord };
    });
  }

  protected async _putIfVersion(record: DeliveryRecord, expectedVersion: number): Promise<boolean> {
    const file = this.#fileOf(record.deliveryKey);
    return this.#compareAndSwap<DeliveryRecord>(file, (row) => (row?.version === expectedVersion ? record : undefined))
      .swapped;
  }

  protected async _get(deliveryKeys: readonly string[]): Promise<Map<string, DeliveryRecord>> {
    const found = new Map<string, DeliveryRecord>();
    for (const key of deliveryKeys) {
      const record = this.#read<DeliveryRecord>(this.#fileOf(key));
      if (record !== undefined) found.set(key, record);
    }
    return found;
  }

  /** Every row; expired ones are pruned (under the lock, so a takeover landing meanwhile survives). */
  protected async _scan(): Promise<DeliveryRecord[]> {
    this.#ensureDirectories();
    const now = this.now();
    const records: DeliveryRecord[] = [];
    for (const name of readdirSync(this.#dir)) {
      if (!name.endsWith('.json')) continue;
      const file = join(this.#dir, name);
      const record = this.#read<DeliveryRecord>(file);
      if (record === undefined) continue;
      if (record.expiresAt > now) records.push(record);
      else this.#removeIfExpired(file);
    }
    return records;
  }

  // ------------------------------------------------------------------------------------------------------------
  // Versioned rows: occurrence markers and key states (`followsVersion`)
  // ------------------------------------------------------------------------------------------------------------

  protected async _getMarkers(dedupKeys: readonly string[]): Promise<Map<string, OccurrenceMarker>> {
    const found = new Map<string, OccurrenceMarker>();
    for (const dedupKey of dedupKeys) {
      const marker = this.#read<OccurrenceMarker>(this.#markerFileOf(dedupKey));
      if (marker !== undefined) found.set(dedupKey, marker);
    }
    return found;
  }

  protected async _putMarkers(markers: readonly OccurrenceMarker[]): Promise<boolean[]> {
    return markers.map((marker) => this.#putVersioned(this.#markerFileOf(marker.dedupKey), marker));
  }

  protected async _getKeyStates(keyIds: readonly string[]): Promise<Map<string, KeyState>> {
    const found = new Map<string, KeyState>();
    for (const keyId of keyIds) {
      const state = this.#read<KeyState>(this.#keyStateFileOf(keyId));
      if (state !== undefined) found.set(keyId, state);
    }
    return found;
  }

  protected async _putKeyStates(states: readonly KeyState[]): Promise<boolean[]> {
    return states.map((state) => this.#putVersioned(this.#keyStateFileOf(state.keyId), state));
  }

  #putVersioned<T extends { version: number; expiresAt: number }>(file: string, row: T): boolean {
    return this.#compareAndSwap<T>(file, (existing) =>
      followsVersion(existing, row.version, this.now()) ? row : undefined,
    ).swapped;
  }

  // ------------------------------------------------------------------------------------------------------------
  // Health counters
  // ------------------------------------------------------------------------------------------------------------

  protected async _addCounters(
    updates: readonly { bucket: number; delta: CounterDelta }[],
    expiresAt: number,
  ): Promise<void> {
    for (const { bucket, delta } of updates) {
      const { existing } = this.#compareAndSwap<StoredCounters>(this.#counterFileOf(bucket), (row) => ({
        ...mergeCounters(row ?? { counts: {}, latest: {} }, delta),
        expiresAt,
      }));
      if (existing === undefined) this.#pruneCounters();
    }
  }

  /** Drops expired buckets; run when a new minute's bucket is created, so at most once a minute. */
  #pruneCounters(): void {
    const now = this.now();
    for (const name of readdirSync(this.#counterDir)) {
      if (!name.endsWith('.json')) continue;
      const file = join(this.#counterDir, name);
      const expiresAt = this.#read<StoredCounters>(file)?.expiresAt;
      if (expiresAt !== undefined && expiresAt <= now) this.#removeIfExpired(file);
    }
  }

  protected async _readCounters(buckets: readonly number[]): Promise<CounterTotals[]> {
    return buckets.flatMap((bucket) => {
      const totals = this.#read<StoredCounters>(this.#counterFileOf(bucket));
      return totals === undefined ? [] : [{ counts: totals.counts, latest: totals.latest }];
    });
  }

  // ------------------------------------------------------------------------------------------------------------
  // The one conditional write (see the file header)
  // ------------------------------------------------------------------------------------------------------------

  /**
   * Steps 1–6 of the header: under the row's lock, reads the row, asks `decide` what to do with it, and does it.
   * `decide` may run more than once (after a lost lock), each time on a fresh read; it must not call the store.
   */
  #compareAndSwap<T>(file: string, decide: (existing: T | undefined) => T | typeof REMOVE | undefined): SwapResult<T> {
    this.#ensureDirectories();
    const lockFile = join(this.#lockDir, `${basename(dirname(file))}.${basename(file, '.json')}.lock`);
    const giveUpAt = Date.now() + this.#lockWaitMs;
    for (;;) {
      const lock = this.#lock(lockFile, giveUpAt);
      let staged: string | undefined;
      try {
        const existing = this.#read<T>(file);
        const next = decide(existing);
        if (next === undefined) return { swapped: false, existing };
        if (next !== REMOVE) staged = this.#writeTemp(basename(file), next);
        if (!this.#holds(lockFile, lock)) {
          if (Date.now() >= giveUpAt) throw new StoreError(`file store: lost the lock of ${file} repeatedly`);
          continue; // taken over while we worked: nothing was written, start again
        }
        try {
          if (staged === undefined) rmSync(file, { force: true });
          else renameSync(staged, file);
        } catch (error) {
          throw this.#storeError('write', error);
        }
        staged = undefined;
        return { swapped: true, existing };
      } finally {
        if (staged !== undefined) rmSync(staged, { force: true });
        this.#unlock(lockFile, lock);
      }
    }
  }

  #removeIfExpired(file: string): void {
    this.#compareAndSwap<{ expiresAt?: number }>(file, (row) =>
      row?.expiresAt !== undefined && row.expiresAt <= this.now() ? REMOVE : undefined,
    );
  }

  /** Creates the lock file exclusively, waiting while a live writer holds it and taking it over when abandoned. */
  #lock(lockFile: string, giveUpAt: number): HeldLock {
    for (let attempt = 0; ; attempt++) {
      let fd: number;
      try {
        fd = openSync(lockFile, 'wx');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw this.#storeError('lock', error);
        const look = this.#inspectLock(lockFile);
        if (look.state === 'gone') continue;
        if (look.state === 'abandoned') {
          rmSync(lockFile, { force: true });
          continue;
        }
        if (Date.now() >= giveUpAt) {
          const by = look.holder ? ` by pid ${look.holder.pid} (thread ${look.holder.thread})` : '';
          throw new StoreError(`file store: ${lockFile} stayed locked${by} for ${this.#lockWaitMs} ms`);
        }
        const pauseMs = Math.min(LOCK_PAUSE_LAST_MS, LOCK_PAUSE_FIRST_MS * 2 ** attempt);
        Atomics.wait(pauseCell, 0, 0, pauseMs * (0.5 + Math.random() / 2));
        continue;
      }
      try {
        const holder: LockHolder = { host: HOST, pid: process.pid, thread: threadId, since: Date.now() };
        writeSync(fd, `${JSON.stringify(holder)}\n`);
        return { fd, ino: fstatSync(fd).ino };
      } catch (error) {
        closeSync(fd);
        rmSync(lockFile, { force: true });
        throw this.#storeError('lock', error);
      }
    }
  }

  /** Whether a lock found in place is held, gone meanwhile, or abandoned (holder process gone, or too old). */
  #inspectLock(lockFile: string): { state: 'held' | 'gone' | 'abandoned'; holder?: LockHolder } {
    let holder: LockHolder | undefined;
    let modifiedAt: number;
    try {
      modifiedAt = statSync(lockFile).mtimeMs;
      holder = parseHolder(readFileSync(lockFile, 'utf8'));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { state: 'gone' };
      throw this.#storeError('lock', error);
    }
    const processGone = holder?.host === HOST && holder.pid !== process.pid && !isRunning(holder.pid);
    const tooOld = Date.now() - (holder?.since ?? modifiedAt) > this.#lockStaleMs;
    return { state: processGone || tooOld ? 'abandoned' : 'held', holder };
  }

  /** The fence: the lock file is still the one this writer created. */
  #holds(lockFile: string, lock: HeldLock): boolean {
    try {
      return statSync(lockFile).ino === lock.ino;
    } catch {
      return false;
    }
  }

  #unlock(lockFile: string, lock: HeldLock): void {
    try {
      if (this.#holds(lockFile, lock)) rmSync(lockFile, { force: true });
    } catch {
      // a lock left behind is taken over as abandoned
    } finally {
      closeSync(lock.fd);
    }
  }

  // ------------------------------------------------------------------------------------------------------------
  // Files
  // ------------------------------------------------------------------------------------------------------------

  #fileOf(deliveryKey: string): string {
    if (!SAFE_KEY.test(deliveryKey)) throw new StoreError('delivery key is not a safe file name');
    return join(this.#dir, `${deliveryKey}.json`);
  }

  #markerFileOf(dedupKey: string): string {
    return join(this.#markerDir, `${markerKeyOf(dedupKey)}.json`);
  }

  /** Key ids are checked by the port (16 hex digits). */
  #keyStateFileOf(keyId: string): string {
    return join(this.#keyStateDir, `${keyId}.json`);
  }

  #counterFileOf(bucket: number): string {
    return join(this.#counterDir, `${bucket}.json`);
  }

  /** Created on first use, so loading the module (or a misconfigured instance) writes nothing. */
  #ensureDirectories(): void {
    if (this.#ready) return;
    try {
      for (const dir of [
        this.#dir,
        this.#markerDir,
        this.#keyStateDir,
        this.#counterDir,
        this.#tmpDir,
        this.#lockDir,
      ]) {
        mkdirSync(dir, { recursive: true });
      }
    } catch (error) {
      throw this.#storeError('create directories', error);
    }
    this.#ready = true;
  }

  #writeTemp(name: string, data: unknown): string {
    const tmp = join(this.#tmpDir, `${name}.${randomUUID()}.tmp`);
    try {
      writeFileSync(tmp, `${JSON.stringify(data, null, 2)}\n`);
    } catch (error) {
      throw this.#storeError('write', error);
    }
    return tmp;
  }

  #read<T>(file: string): T | undefined {
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

export type { FileStoreOptions };
export { FileStore };
