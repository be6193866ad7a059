/**
 * One writer of the FileStore concurrency tests (`tests/contract/fileStoreConcurrency.test.ts`). The test bundles this
 * file with esbuild and runs the bundle as worker threads and as child processes on one store directory.
 *
 * - `race`: rounds of compare-and-set steps that every writer attempts at once (a barrier before each round), then a
 *   burst of counter increments; reports which steps this writer won. One step replaces a batch of rows spread over
 *   the store's lock stripes, each writer going through them from its own starting row, so batches meet mid-way.
 * - `hold`: takes over an expired delivery row and stops while holding its lock (the store reads its clock under the
 *   lock, to judge the row's expiry, and this clock never returns), after saying so: the test kills the process (or
 *   terminates the thread) there.
 *
 * A worker thread gets its task in `workerData.racer` (with a SharedArrayBuffer barrier) and answers by `postMessage`;
 * a child process (env `FILE_STORE_RACER=1`) gets it as its first IPC message and meets the others at a barrier kept by
 * the test (`arrive` / `go` messages). Imported for its constants, it runs nothing.
 */
import { writeSync } from 'node:fs';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import type { DeliveryRecord } from '../../shared/store/DeliveryRecord';
import { FileStore } from '../../shared/store/FileStore';
import { deliveryRecord } from './deliveryRecords';

/** The store clock of round `r` is `RACE_START + r * ROUND_MS`; a row claimed in a round expires before the next. */
const RACE_START = 1_700_000_000_000;
const ROUND_MS = 1_000;
const DAY_MS = 86_400_000;

/** The rows every writer races for. */
const RaceKey = {
  REPLACED: 'race-replaced',
  TAKEN_OVER: 'race-taken-over',
  DEDUP_KEY: 'race-identity',
  KEY_ID: '00000000000000aa',
  COUNTER: 'race.increments',
} as const;

/** The rows of the batch step, each replaced once per round (version round + 2), seeded at version 1 by the test. */
const BATCH_ROWS = 24;
const BATCH_KEYS: readonly string[] = Array.from({ length: BATCH_ROWS }, (_, row) => `race-batch-${row}`);

/** The steps of a round, as bits of the writer's result for that round. */
const Step = { REPLACE: 1, TAKEOVER: 2, MARKER: 4, KEY_STATE: 8 } as const;

interface RaceTask {
  mode: 'race';
  path: string;
  writer: number;
  writers: number;
  rounds: number;
  increments: number;
}

interface HoldTask {
  mode: 'hold';
  path: string;
  deliveryKey: string;
}

type RacerTask = RaceTask | HoldTask;

/** Per round, the `Step` bits this writer won, and the batch rows (indices in `BATCH_KEYS`) it replaced. */
interface RaceResult {
  wins: number[];
  batchWins: number[][];
}

/** A delivery every writer replaces, at `version` (version 1 is seeded by the test). */
function replacedRecord(version: number, writer: number, key: string = RaceKey.REPLACED): DeliveryRecord {
  return deliveryRecord(key, RACE_START, {
    version,
    attempts: version - 1,
    routeName: `writer-${writer}`,
  });
}

async function race(task: RaceTask, barrier: () => void | Promise<void>): Promise<RaceResult> {
  let clock = RACE_START;
  const store = new FileStore({ path: task.path, now: () => clock });
  const wins: number[] = [];
  const batchWins: number[][] = [];
  const route = `writer-${task.writer}`;
  // This writer's order of the batch rows: from its own start, so the writers' batches overlap in different places.
  const batchOrder = BATCH_KEYS.map((_, offset) => (offset + task.writer * 7) % BATCH_ROWS);
  for (let round = 0; round < task.rounds; round++) {
    clock = RACE_START + round * ROUND_MS;
    await barrier();
    let won = 0;
    if (await store.replace(replacedRecord(round + 2, task.writer))) won |= Step.REPLACE;
    const claim = deliveryRecord(RaceKey.TAKEN_OVER, clock, { routeName: route, expiresAt: clock + ROUND_MS / 2 });
    if ((await store.claim([claim]))[0]?.claimed) won |= Step.TAKEOVER;
    const marker = {
      dedupKey: RaceKey.DEDUP_KEY,
      latestOccurrence: round,
      version: round + 1,
      updatedAt: clock,
      expiresAt: RACE_START + DAY_MS,
    };
    if ((await store.putMarkers([marker]))[0]) won |= Step.MARKER;
    const state = {
      keyId: RaceKey.KEY_ID,
      version: round + 1,
      updatedAt: clock,
      expiresAt: RACE_START + DAY_MS,
      data: { writer: task.writer, round },
    };
    if ((await store.putKeyStates([state]))[0]) won |= Step.KEY_STATE;
    wins.push(won);
    const batch = batchOrder.map((row) => replacedRecord(round + 2, task.writer, BATCH_KEYS[row]));
    const replaced = await store.replaceMany(batch);
    batchWins.push(batchOrder.filter((_, index) => replaced[index]));
  }
  await barrier();
  for (let increment = 0; increment < task.increments; increment++) {
    await store.addCounters({ counts: { [RaceKey.COUNTER]: 1 } }, DAY_MS / 1000);
  }
  return { wins, batchWins };
}

/** Never returns: claims `deliveryKey` (an expired row) with a clock that signals, then blocks under the lock. */
async function hold(task: HoldTask, signal: () => void): Promise<never> {
  const blocked = new Int32Array(new SharedArrayBuffer(4));
  const store = new FileStore({
    path: task.path,
    now: () => {
      signal();
      for (;;) Atomics.wait(blocked, 0, 0);
    },
  });
  await store.claim([deliveryRecord(task.deliveryKey, RACE_START)]);
  throw new Error('the hold returned: the store did not read its clock under the lock');
}

/** A barrier of `parties` threads on `cells` ([arrived, generation]). */
function threadBarrier(cells: Int32Array, parties: number): void {
  const generation = Atomics.load(cells, 1);
  if (Atomics.add(cells, 0, 1) === parties - 1) {
    Atomics.store(cells, 0, 0);
    Atomics.add(cells, 1, 1);
    Atomics.notify(cells, 1);
  } else {
    while (Atomics.load(cells, 1) === generation) Atomics.wait(cells, 1, generation);
  }
}

/** Meets the other processes: `arrive`, then wait for the test's `go`. */
function processBarrier(): Promise<void> {
  return new Promise((resolve) => {
    const onGo = (message: { type?: string }) => {
      if (message?.type !== 'go') return;
      process.off('message', onGo);
      resolve();
    };
    process.on('message', onGo);
    process.send?.({ type: 'arrive' });
  });
}

async function runInThread(): Promise<void> {
  const { task, cells } = workerData.racer as { task: RacerTask; cells: Int32Array };
  if (task.mode === 'hold') await hold(task, () => parentPort?.postMessage({ type: 'holding' }));
  else {
    const result = await race(task, () => threadBarrier(cells, task.writers));
    parentPort?.postMessage({ type: 'done', result });
  }
}

function runInProcess(): void {
  process.once('message', async (task: RacerTask) => {
    try {
      // A synchronous write: the process blocks right after, so an asynchronous message might never leave.
      if (task.mode === 'hold') await hold(task, () => writeSync(1, 'holding\n'));
      else process.send?.({ type: 'done', result: await race(task, processBarrier) });
      process.disconnect?.();
    } catch (error) {
      process.send?.({ type: 'failed', error: String((error as Error).stack ?? error) });
      process.exitCode = 1;
      process.disconnect?.();
    }
  });
}

if (!isMainThread && workerData?.racer !== undefined) void runInThread();
else if (process.env.FILE_STORE_RACER === '1') runInProcess();

export type { HoldTask, RaceResult, RacerTask, RaceTask };
export { BATCH_KEYS, DAY_MS, RACE_START, RaceKey, ROUND_MS, replacedRecord, Step };
