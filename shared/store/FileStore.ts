/**
 * The local runtime's embedded store (STORE=file): one JSON file per row (one line, readable with `cat`), surviving
 * restarts and crashes.
 *
 * ```
 *  <STORE_PATH>/deliveries/<deliveryKey>.json   markers/m1-<hash>.json   key-states/<keyId>.json
 *              counters/<minute>.json           tmp/  rows being written    locks/  writes in progress
 * ```
 *
 * Several writers share one directory: `npm start` runs the webhook and delivery-health in two threads, and a second
 * runtime or an operator tool may run on the same STORE_PATH. So every write that depends on what is stored (a claim,
 * the takeover of an expired row, a replace by version, markers and key states by version, counter sums, the pruning
 * of expired rows) is a compare-and-swap under a lock, the same steps for every kind of row. The port's calls are
 * batches (a 5,000-alert callback claims and replaces thousands of rows per call), and creating a file is the costliest
 * file call, so a lock covers a stripe of rows, not one row: each row belongs to one of `LOCK_STRIPES` stripes of its
 * directory (a hash of its file name), and `#swapAll` takes a stripe's lock once for all the batch's rows in it:
 *
 * ```
 *  1. lock     create locks/<dir>.<stripe>.lock exclusively (open 'wx': one creator wins, across threads and
 *              processes), writing its holder {host, pid, thread, since} through that descriptor; kept open while held
 *  then, for each of the batch's rows in the stripe, in the batch's order:
 *  2. read     the row as it is now; `decide` returns the row to write, REMOVE, or undefined (leave it as it is)
 *  3. stage    write the new row to tmp/ (a crash here leaves a stray temporary file, never a torn row)
 *  4. fence    the lock file is still the one this writer created (same inode), else lock again and redo this row
 *  5. commit   rename the temporary file over the row (atomic: a reader sees the old row or the new one)
 *  and once the stripe's rows are done, or the lock has been held `LOCK_HOLD_MS`:
 *  6. unlock   remove the lock file if it is still ours
 * ```
 *
 * A row's steps 2–5 all run under its stripe's lock, so each row is one atomic compare-and-swap, as with a per-row
 * lock; rows of one batch stay independent (a failed condition on one does not stop the others), and the same row
 * twice in a batch is applied in order (the second read sees the first write). Every writer of a directory must use
 * the same stripes: the number is part of the on-disk format, like the file names.
 *
 * Reads take no lock (step 5 is atomic). Steps 1–6 are synchronous file calls, so no other callback of the thread runs
 * meanwhile. A hold ends after `LOCK_HOLD_MS` (the stripe's other rows wait for its next turn) and the writer goes
 * round the batch's stripes in turn, so a large batch keeps no stripe from another writer for longer than one hold,
 * and a hold stays far below `lockStaleMs`. A writer holds one lock at a time, so writers never wait for each other
 * in a cycle.
 *
 * A writer that finds a lock waits (short synchronous pauses) and takes the lock over when it is abandoned: its
 * holder's process is gone (same host, pid not running: a SIGKILL, a crash), or it is older than `lockStaleMs` (a
 * thread stopped mid-write in a live process, a reused pid). After `lockWaitMs` the writer gives up with a
 * `StoreError`, as on any store outage. So no kill leaves a row locked for longer than `lockStaleMs`.
 *
 * Why the fence, before each row's commit: POSIX has no "remove this file if unchanged", so taking a lock over cannot
 * be atomic with judging it. Two writers may take over one abandoned lock at once (the second removing the first
 * one's new lock), or a holder stalled past `lockStaleMs` may be judged abandoned. Either way the writer whose lock
 * file was removed sees it at step 4 and locks again, having written nothing of that row (its rows committed before
 * were committed under the lock). What is left is a removal landing exactly between steps 4 and 5 (two adjacent file
 * calls), which takes one of those two cases at that very moment.
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
import { basename, join } from 'node:path';
import { StoreError } from '../errors';
import { type CounterDelta, type CounterTotals, mergeCounters } from './Counters';
import type { DeliveryRecord } from './DeliveryRecord';
import { type ClaimOutcome, DeliveryStore, type OutboxSummary } from './DeliveryStore';
import type { KeyState } from './KeyState';
import { markerKeyOf, type OccurrenceMarker } from './OccurrenceMarker';
import { dueAmong, followsVersion, summaryOf } from './storeRules';

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
  /** When it was taken (`Date.now()`), to end the hold in time. */
  takenAt: number;
}

/** One row of a `#swapAll` batch: its file, and what to make of the row stored there (see the file header). */
interface SwapItem<T> {
  file: string;
  decide: (existing: T | undefined) => T | typeof REMOVE | undefined;
}

/** The row as read under the lock, and whether the swap changed it. */
interface SwapResult<T> {
  swapped: boolean;
  existing: T | undefined;
}

/** The batch rows of one stripe, in batch order, and how many of them are done. */
interface StripeQueue {
  lockFile: string;
  indices: number[];
  done: number;
}

type StoredCounters = CounterTotals & { expiresAt?: number };

/**
 * Stripes per directory. Fewer mean fewer lock files per batch (a batch takes each of its stripes' locks once per
 * hold); more mean fewer writers meeting on one, which only costs them the wait for one hold.
 */
const LOCK_STRIPES = 16;
/**
 * A hold ends after this, at a row boundary (or after a quarter of `lockStaleMs`, if that is shorter): long enough that
 * one lock file serves dozens of rows, short enough that a writer waiting for the stripe hardly notices.
 */
const LOCK_HOLD_MS = 50;
/**
 * Pauses between two looks at a held lock: doubling from the first to the last, with jitter. The first is about one
 * row's write; shorter ones only take CPU from the holder on a busy machine.
 */
const LOCK_PAUSE_FIRST_MS = 0.5;
const LOCK_PAUSE_LAST_MS = 4;
const pauseCell = new Int32Array(new SharedArrayBuffer(4));
const HOST = hostname();
/**
 * This thread's id, read on the first lock: `node:worker_threads` (≈ 1.3 ms to load) stays out of the cold start of
 * every function, the ones on another store included (the bundle holds every store).
 */
let lockThreadId: number | undefined;
const threadId = () =>
  (lockThreadId ??= (require('node:worker_threads') as typeof import('node:worker_threads')).threadId);

interface FileStoreOptions {
  /** `STORE_PATH`: the store's directory, created on first use. */
  path: string;
  /** Injectable clock (tests). Lock ages are always wall-clock time. @default Date.now */
  now?: () => number;
  /**
   * A lock older than this is abandoned and taken over. A hold lasts 50 ms at most (plus one row's write);
   * this is for a thread stopped mid-write (a worker terminated) while its process lives on. @default 2000
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

/** The stripe of a row's file name (FNV-1a): fixed for every writer of the directory. */
function stripeOf(name: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < name.length; index++) hash = Math.imul(hash ^ name.charCodeAt(index), 0x01000193);
  return (hash >>> 0) % LOCK_STRIPES;
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
  readonly #holdMs: number;

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
    this.#holdMs = Math.min(LOCK_HOLD_MS, this.#lockStaleMs / 4);
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
    return this.#swapAll<DeliveryRecord, ClaimOutcome>(
      this.#dir,
      records.map((record) => ({
        file: this.#fileOf(record.deliveryKey),
        decide: (row) => (row !== undefined && row.expiresAt > this.now() ? undefined : record),
      })),
      ({ swapped, existing }, index) => {
        const record = records[index] as DeliveryRecord;
        return swapped ? { claimed: true, record } : { claimed: false, record, existing: existing as DeliveryRecord };
      },
    );
  }

  /** All records in one batch (one lock per stripe), each on its own condition. */
  protected async _putIfVersion(records: readonly DeliveryRecord[], expected: readonly number[]): Promise<boolean[]> {
    return this.#swapAll<DeliveryRecord, boolean>(
      this.#dir,
      records.map((record, index) => ({
        file: this.#fileOf(record.deliveryKey),
        decide: (row) => (row !== undefined && row.version === expected[index] ? record : undefined),
      })),
      (result) => result.swapped,
    );
  }

  protected async _get(deliveryKeys: readonly string[]): Promise<Map<string, DeliveryRecord>> {
    const found = new Map<string, DeliveryRecord>();
    for (const key of deliveryKeys) {
      const record = this.#read<DeliveryRecord>(this.#fileOf(key));
      if (record !== undefined) found.set(key, record);
    }
    return found;
  }

  /** From every row: the file store has no index (its outbox is small, or it is a test's). */
  protected async _listDue(limit: number, now: number, until: number): Promise<DeliveryRecord[]> {
    return dueAmong(await this._scan(), now, until, limit);
  }

  protected async _outboxSummary(): Promise<OutboxSummary> {
    return summaryOf(await this.list());
  }

  /** Every row; expired ones are pruned (under the lock, so a takeover landing meanwhile survives). */
  protected async _scan(): Promise<DeliveryRecord[]> {
    this.#ensureDirectories();
    const now = this.now();
    const records: DeliveryRecord[] = [];
    const expired: string[] = [];
    for (const name of readdirSync(this.#dir)) {
      if (!name.endsWith('.json')) continue;
      const file = join(this.#dir, name);
      const record = this.#read<DeliveryRecord>(file);
      if (record === undefined) continue;
      if (record.expiresAt > now) records.push(record);
      else expired.push(file);
    }
    this.#removeIfExpired(this.#dir, expired);
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
    return this.#putVersioned(
      this.#markerDir,
      markers.map((marker) => ({ file: this.#markerFileOf(marker.dedupKey), row: marker })),
    );
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
    return this.#putVersioned(
      this.#keyStateDir,
      states.map((state) => ({ file: this.#keyStateFileOf(state.keyId), row: state })),
    );
  }

  #putVersioned<T extends { version: number; expiresAt: number }>(
    dir: string,
    rows: readonly { file: string; row: T }[],
  ): boolean[] {
    return this.#swapAll<T, boolean>(
      dir,
      rows.map(({ file, row }) => ({
        file,
        decide: (existing) => (followsVersion(existing, row.version, this.now()) ? row : undefined),
      })),
      (result) => result.swapped,
    );
  }

  // ------------------------------------------------------------------------------------------------------------
  // Health counters
  // ------------------------------------------------------------------------------------------------------------

  protected async _addCounters(
    updates: readonly { bucket: number; delta: CounterDelta }[],
    expiresAt: number,
  ): Promise<void> {
    const created = this.#swapAll<StoredCounters, boolean>(
      this.#counterDir,
      updates.map(({ bucket, delta }) => ({
        file: this.#counterFileOf(bucket),
        decide: (row) => ({ ...mergeCounters(row ?? { counts: {}, latest: {} }, delta), expiresAt }),
      })),
      (result) => result.existing === undefined,
    );
    if (created.includes(true)) this.#pruneCounters();
  }

  /** Drops expired buckets; run when a new minute's bucket is created, so at most once a minute. */
  #pruneCounters(): void {
    const now = this.now();
    const expired: string[] = [];
    for (const name of readdirSync(this.#counterDir)) {
      if (!name.endsWith('.json')) continue;
      const file = join(this.#counterDir, name);
      const expiresAt = this.#read<StoredCounters>(file)?.expiresAt;
      if (expiresAt !== undefined && expiresAt <= now) expired.push(file);
    }
    this.#removeIfExpired(this.#counterDir, expired);
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
   * Steps 1–6 of the header for a batch of rows of one directory: each row's `decide` sees the row as read under its
   * stripe's lock, and what it returns is done. `outcome` turns each row's result into what the caller keeps, in batch
   * order (so a 5,000-row replace keeps 5,000 booleans, not the rows it read). A `decide` may run more than once for a
   * row (after a lost lock), each time on a fresh read; it must not call the store.
   */
  #swapAll<T, R>(
    dir: string,
    items: readonly SwapItem<T>[],
    outcome: (result: SwapResult<T>, index: number) => R,
  ): R[] {
    if (items.length === 0) return [];
    this.#ensureDirectories();
    const byStripe = new Map<number, StripeQueue>();
    items.forEach((item, index) => {
      const stripe = stripeOf(basename(item.file));
      let queue = byStripe.get(stripe);
      if (queue === undefined) {
        queue = { lockFile: join(this.#lockDir, `${basename(dir)}.${stripe}.lock`), indices: [], done: 0 };
        byStripe.set(stripe, queue);
      }
      queue.indices.push(index);
    });
    const results: R[] = new Array(items.length);
    // Round the stripes in turn, one hold each, until every row is done.
    let queues = [...byStripe.values()];
    while (queues.length > 0) {
      for (const queue of queues) this.#swapStripe(queue, items, outcome, results);
      queues = queues.filter((queue) => queue.done < queue.indices.length);
    }
    return results;
  }

  /** One hold of a stripe's lock: its next rows, until all are done or the hold has lasted `#holdMs`. */
  #swapStripe<T, R>(
    queue: StripeQueue,
    items: readonly SwapItem<T>[],
    outcome: (result: SwapResult<T>, index: number) => R,
    results: R[],
  ): void {
    const giveUpAt = Date.now() + this.#lockWaitMs;
    for (;;) {
      const lock = this.#lock(queue.lockFile, giveUpAt);
      try {
        while (queue.done < queue.indices.length) {
          const index = queue.indices[queue.done] as number;
          const result = this.#swapRow(items[index] as SwapItem<T>, queue.lockFile, lock);
          if (result === undefined) break; // lost the lock: lock again, and redo this row
          results[index] = outcome(result, index);
          queue.done++;
          if (Date.now() - lock.takenAt >= this.#holdMs) return;
        }
        if (queue.done === queue.indices.length) return;
      } finally {
        this.#unlock(queue.lockFile, lock);
      }
      if (Date.now() >= giveUpAt) throw new StoreError(`file store: lost the lock ${queue.lockFile} repeatedly`);
    }
  }

  /** Steps 2–5 for one row, under `lock`; undefined when the fence found the lock lost (nothing written). */
  #swapRow<T>({ file, decide }: SwapItem<T>, lockFile: string, lock: HeldLock): SwapResult<T> | undefined {
    const existing = this.#read<T>(file);
    const next = decide(existing);
    if (next === undefined) return { swapped: false, existing };
    let staged = next === REMOVE ? undefined : this.#writeTemp(basename(file), next);
    try {
      if (!this.#holds(lockFile, lock)) return undefined;
      if (staged === undefined) rmSync(file, { force: true });
      else renameSync(staged, file);
      staged = undefined;
    } catch (error) {
      throw this.#storeError('write', error);
    } finally {
      if (staged !== undefined) rmSync(staged, { force: true });
    }
    return { swapped: true, existing };
  }

  #removeIfExpired(dir: string, files: readonly string[]): void {
    this.#swapAll<{ expiresAt?: number }, void>(
      dir,
      files.map((file) => ({
        file,
        decide: (row) => (row?.expiresAt !== undefined && row.expiresAt <= this.now() ? REMOVE : undefined),
      })),
      () => undefined,
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
        const takenAt = Date.now();
        const holder: LockHolder = { host: HOST, pid: process.pid, thread: threadId(), since: takenAt };
        writeSync(fd, `${JSON.stringify(holder)}\n`);
        return { fd, ino: fstatSync(fd).ino, takenAt };
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
      // Compact: half the bytes of an indented row and faster to write and parse; still one line for `cat`.
      writeFileSync(tmp, `${JSON.stringify(data)}\n`);
    } catch (error) {
      throw this.#storeError('write', error);
    }
    return tmp;
  }

  #read<T>(file: string): T | undefined {
    let text: string;
    try {
      // Most rows a callback asks for do not exist (new alerts): a look that does not throw is ten times cheaper than
      // a failed read. A row removed between the two calls is still absent.
      if (statSync(file, { throwIfNoEntry: false }) === undefined) return undefined;
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
