/**
 * The FileStore keeps the store contract across threads and processes on one directory, as `npm start` uses it (the
 * webhook and delivery-health in two worker threads) and as a second runtime or an operator tool may (same
 * STORE_PATH): writers race every kind of conditional write at once, one row a call and many rows a call (a batch
 * spread over the lock stripes), and a writer stopped while holding a lock (killed, or its thread terminated) does not
 * block the next one. The writers are `tests/support/fileStoreRacer.ts`, bundled
 * here; they meet at barriers, never at sleeps.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { build } from 'esbuild';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { StoreError } from '../../shared/errors';
import { FileStore } from '../../shared/store/FileStore';
import { deliveryRecord } from '../support/deliveryRecords';
import {
  BATCH_KEYS,
  DAY_MS,
  RACE_START,
  RaceKey,
  type RaceResult,
  type RacerTask,
  type RaceTask,
  ROUND_MS,
  replacedRecord,
  Step,
} from '../support/fileStoreRacer';

const WRITERS = 4;
const ROUNDS = 100;
const INCREMENTS = 500;

let work: string;
let racer: string;
/** Writers started by a test, stopped after it whatever happened (a failed test must not leave one blocked). */
const started: Array<Worker | ChildProcess> = [];

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'file-store-race-'));
  racer = join(work, 'racer.cjs');
  await build({
    entryPoints: [join(__dirname, '..', 'support', 'fileStoreRacer.ts')],
    outfile: racer,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    logLevel: 'warning',
  });
});
afterEach(async () => {
  for (const writer of started.splice(0)) {
    if (writer instanceof Worker) await writer.terminate();
    else if (writer.exitCode === null && writer.signalCode === null) writer.kill('SIGKILL');
  }
});
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

/** A fresh store directory with the raced deliveries at version 1. */
async function seededStore(): Promise<string> {
  const path = mkdtempSync(join(work, 'store-'));
  await new FileStore({ path, now: () => RACE_START }).claim([
    replacedRecord(1, -1),
    ...BATCH_KEYS.map((key) => replacedRecord(1, -1, key)),
  ]);
  return path;
}

function raceTask(path: string, writer: number): RaceTask {
  return { mode: 'race', path, writer, writers: WRITERS, rounds: ROUNDS, increments: INCREMENTS };
}

function startThread(task: RacerTask, cells = new Int32Array(new SharedArrayBuffer(8))): Worker {
  const worker = new Worker(racer, { workerData: { racer: { task, cells } } });
  started.push(worker);
  return worker;
}

function startProcess(stdout: 'pipe' | 'inherit' = 'inherit'): ChildProcess {
  const child = fork(racer, [], {
    env: { ...process.env, FILE_STORE_RACER: '1' },
    execArgv: [],
    stdio: ['ignore', stdout, 'inherit', 'ipc'],
  });
  started.push(child);
  return child;
}

async function raceThreads(path: string): Promise<RaceResult[]> {
  const cells = new Int32Array(new SharedArrayBuffer(8));
  return Promise.all(
    Array.from({ length: WRITERS }, (_, writer) => {
      const worker = startThread(raceTask(path, writer), cells);
      return new Promise<RaceResult>((resolve, reject) => {
        worker.on('message', (message) => message.type === 'done' && resolve(message.result));
        worker.once('error', reject);
        worker.once('exit', (code) => reject(new Error(`writer ${writer} exited (${code}) without a result`)));
      });
    }),
  );
}

/** The processes meet at each round: every one sends `arrive`, and all get `go` once the last has. */
async function raceProcesses(path: string): Promise<RaceResult[]> {
  const children = Array.from({ length: WRITERS }, () => startProcess());
  let arrived = 0;
  return Promise.all(
    children.map(
      (child, writer) =>
        new Promise<RaceResult>((resolve, reject) => {
          child.on('message', (message: { type: string; result?: RaceResult; error?: string }) => {
            if (message.type === 'arrive' && ++arrived === WRITERS) {
              arrived = 0;
              for (const other of children) other.send({ type: 'go' });
            } else if (message.type === 'done') resolve(message.result as RaceResult);
            else if (message.type === 'failed') reject(new Error(message.error));
          });
          child.once('exit', (code) => reject(new Error(`writer ${writer} exited (${code}) without a result`)));
          child.send(raceTask(path, writer));
        }),
    ),
  );
}

/** Per step: rounds won by no writer, by exactly one, by several (and how many wins those had). */
function tally(results: readonly RaceResult[]) {
  return Object.fromEntries(
    Object.entries(Step).map(([name, bit]) => {
      const winners = Array.from({ length: ROUNDS }, (_, round) => results.filter((r) => (r.wins[round] ?? 0) & bit));
      return [
        name,
        {
          noWinner: winners.filter((list) => list.length === 0).length,
          oneWinner: winners.filter((list) => list.length === 1).length,
          severalWinners: winners.filter((list) => list.length > 1).length,
        },
      ];
    }),
  );
}

/** Per round and batch row: how many writers replaced it (each row moves one version a round, so exactly one). */
function tallyBatch(results: readonly RaceResult[]) {
  const counts = Array.from({ length: ROUNDS }, (_, round) =>
    BATCH_KEYS.map((_, row) => results.filter((r) => r.batchWins[round]?.includes(row)).length),
  ).flat();
  return {
    noWinner: counts.filter((count) => count === 0).length,
    oneWinner: counts.filter((count) => count === 1).length,
    severalWinners: counts.filter((count) => count > 1).length,
  };
}

/** The writer that won `step` in the last round. */
function lastWinner(results: readonly RaceResult[], step: number): number {
  return results.findIndex((result) => ((result.wins[ROUNDS - 1] ?? 0) & step) !== 0);
}

/** Every step had exactly one winner, the stored rows are the last winners', and no increment was lost. */
async function assessRace(path: string, results: readonly RaceResult[]): Promise<void> {
  const perfect = { noWinner: 0, oneWinner: ROUNDS, severalWinners: 0 };
  expect.soft(tally(results)).toEqual({ REPLACE: perfect, TAKEOVER: perfect, MARKER: perfect, KEY_STATE: perfect });
  expect.soft(tallyBatch(results)).toEqual({ noWinner: 0, oneWinner: ROUNDS * BATCH_KEYS.length, severalWinners: 0 });

  const lastRound = RACE_START + (ROUNDS - 1) * ROUND_MS;
  const store = new FileStore({ path, now: () => lastRound });
  const rows = await store.get([RaceKey.REPLACED, RaceKey.TAKEN_OVER]);
  expect.soft(rows.get(RaceKey.REPLACED)).toMatchObject({
    version: ROUNDS + 1,
    routeName: `writer-${lastWinner(results, Step.REPLACE)}`,
  });
  expect.soft(rows.get(RaceKey.TAKEN_OVER)?.routeName).toBe(`writer-${lastWinner(results, Step.TAKEOVER)}`);
  const batchRows = await store.get(BATCH_KEYS);
  expect.soft(BATCH_KEYS.map((key) => batchRows.get(key)?.version)).toEqual(BATCH_KEYS.map(() => ROUNDS + 1));
  expect.soft((await store.getMarkers([RaceKey.DEDUP_KEY])).get(RaceKey.DEDUP_KEY)?.version).toBe(ROUNDS);
  expect.soft((await store.getKeyStates([RaceKey.KEY_ID])).get(RaceKey.KEY_ID)).toMatchObject({
    version: ROUNDS,
    data: { writer: lastWinner(results, Step.KEY_STATE), round: ROUNDS - 1 },
  });
  expect.soft(await store.readCounters(lastRound - 60_000)).toEqual({
    counts: { [RaceKey.COUNTER]: WRITERS * INCREMENTS },
    latest: {},
  });
  expect.soft(readdirSync(join(path, 'locks'))).toEqual([]);
  expect.soft(readdirSync(join(path, 'tmp'))).toEqual([]);
}

/** A store directory holding `held`, an expired delivery row that a claim takes over. */
async function storeWithExpiredRow(): Promise<string> {
  const path = mkdtempSync(join(work, 'store-'));
  await new FileStore({ path, now: () => RACE_START }).claim([
    deliveryRecord('held', RACE_START - DAY_MS, { expiresAt: RACE_START - 1 }),
  ]);
  return path;
}

/** Who holds the one lock in place: the lock of the stripe of deliveries that `held` belongs to. */
function lockHolder(path: string): { pid: number; thread: number } {
  const locks = readdirSync(join(path, 'locks'));
  expect.soft(locks).toEqual([expect.stringMatching(/^deliveries\.\d+\.lock$/)]);
  return JSON.parse(readFileSync(join(path, 'locks', locks[0] as string), 'utf8'));
}

// Hundreds of lock handovers between threads and processes: on a loaded 2-core machine they have taken 20 s; the
// guarantee is counted, never timed, so the bound is only there to end a hang.
const RACE_TIMEOUT_MS = 90_000;

describe('Class: FileStore, writers sharing one directory', () => {
  it(
    `${WRITERS} worker threads × ${ROUNDS} rounds: one winner per compare-and-set step, no lost increment`,
    async () => {
      // Prepare
      const path = await seededStore();

      // Act
      const results = await raceThreads(path);

      // Assess
      await assessRace(path, results);
    },
    RACE_TIMEOUT_MS,
  );

  it(
    `${WRITERS} processes × ${ROUNDS} rounds: one winner per compare-and-set step, no lost increment`,
    async () => {
      // Prepare
      const path = await seededStore();

      // Act
      const results = await raceProcesses(path);

      // Assess
      await assessRace(path, results);
    },
    RACE_TIMEOUT_MS,
  );

  it('a process SIGKILLed while holding a lock does not block the next writer', async () => {
    // Prepare: the holder stops inside its write; a stale age far beyond the test leaves only the dead-pid rule.
    const path = await storeWithExpiredRow();
    const child = startProcess('pipe');
    child.send({ mode: 'hold', path, deliveryKey: 'held' } satisfies RacerTask);
    await new Promise<void>((resolve) =>
      child.stdout?.on('data', (chunk) => String(chunk).includes('holding') && resolve()),
    );
    expect(lockHolder(path).pid).toBe(child.pid);
    child.kill('SIGKILL');
    await once(child, 'exit');
    const next = new FileStore({ path, now: () => RACE_START, lockStaleMs: 600_000, lockWaitMs: 5_000 });

    // Act
    const [outcome] = await next.claim([deliveryRecord('held', RACE_START)]);

    // Assess
    expect(outcome?.claimed).toBe(true);
    expect(readdirSync(join(path, 'locks'))).toEqual([]);
  });

  it('a thread stopped while holding a lock: writers wait, then give up; once stale, the lock is taken over', async () => {
    // Prepare
    const path = await storeWithExpiredRow();
    const worker = startThread({ mode: 'hold', path, deliveryKey: 'held' });
    await new Promise<void>((resolve) => worker.on('message', (message) => message.type === 'holding' && resolve()));
    const thread = worker.threadId;
    expect(lockHolder(path)).toMatchObject({ pid: process.pid, thread });
    const impatient = new FileStore({ path, now: () => RACE_START, lockWaitMs: 50 });
    const waitedOut = await impatient.claim([deliveryRecord('held', RACE_START)]).catch((error: unknown) => error);
    await worker.terminate();
    const next = new FileStore({ path, now: () => RACE_START, lockStaleMs: 100 });

    // Act
    const [outcome] = await next.claim([deliveryRecord('held', RACE_START)]);

    // Assess
    expect(waitedOut).toBeInstanceOf(StoreError);
    expect((waitedOut as Error).message).toMatch(`stayed locked by pid ${process.pid} (thread ${thread})`);
    expect(outcome?.claimed).toBe(true);
    expect(readdirSync(join(path, 'locks'))).toEqual([]);
  });
});
