/**
 * The store the end-to-end figures run on. `BENCH_STORE=tablestore` (or `auto`, the default) runs the local runtime on
 * `STORE=tablestore` against the wire-compatible fake Tablestore, which also counts store round trips; when that store
 * is not usable in this build (no adapter yet, or the runtime refuses `STORE=tablestore`), `auto` falls back to
 * `STORE=file` and says why, and the round-trip figures are n/a. `BENCH_STORE=file` forces the file store.
 */

import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { type FakeTablestore, startFakeTablestore } from '../../tests/support/fakeTablestore';
import type { LoggedRequest } from '../../tests/support/fakeTablestore/types';
import { ROOT } from './support';

type StoreChoice = 'auto' | 'tablestore' | 'file';

const TABLE = 'alert_delivery';
const INSTANCE = 'bench-instance';

interface BenchStore {
  kind: 'tablestore' | 'file';
  /** Why this store was used (a fallback names its reason). */
  note: string;
  /** Variables for the local runtime. */
  env: Record<string, string>;
  /** Store requests so far (Tablestore only; undefined on the file store). */
  roundTrips(): number | undefined;
  /** The same by request type (`GetRange`, `BatchWriteRow`, …; Tablestore only). */
  roundTripsByKind(): Record<string, number> | undefined;
  /** Every request so far, decoded (Tablestore created with `logRequests` only; else empty). */
  requestLog(): readonly LoggedRequest[];
  /** Live delivery rows by status (for lost/undelivered counts). */
  statuses(): Record<string, number>;
  close(): Promise<void>;
}

function fileStore(note: string): BenchStore {
  const path = mkdtempSync(join(tmpdir(), 'bench-store-'));
  return {
    kind: 'file',
    note,
    env: { STORE: 'file', STORE_PATH: path },
    roundTrips: () => undefined,
    roundTripsByKind: () => undefined,
    requestLog: () => [],
    statuses() {
      const dir = join(path, 'deliveries');
      const counts: Record<string, number> = {};
      if (!existsSync(dir)) return counts;
      for (const name of readdirSync(dir)) {
        if (!name.endsWith('.json')) continue;
        try {
          const status = String(JSON.parse(readFileSync(join(dir, name), 'utf8')).status);
          counts[status] = (counts[status] ?? 0) + 1;
        } catch {
          counts.unreadable = (counts.unreadable ?? 0) + 1;
        }
      }
      return counts;
    },
    close: async () => rmSync(path, { recursive: true, force: true }),
  };
}

/** The table layout as the adapter declares it (read at run time: the adapter's files may still be moving). */
async function tableLayout(buildDir: string) {
  const outfile = join(buildDir, 'rowCodec.cjs');
  await build({
    entryPoints: [join(ROOT, 'shared/store/tablestore/rowCodec.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    logLevel: 'silent',
  });
  // biome-ignore lint/suspicious/noExplicitAny: a module of another work stream, checked field by field below.
  const rows: any = createRequire(__filename)(outfile);
  if (!Array.isArray(rows.MAIN_PRIMARY_KEY) || !Array.isArray(rows.DUE_PRIMARY_KEY)) {
    throw new Error('shared/store/tablestore/rowCodec.ts exports no MAIN_PRIMARY_KEY / DUE_PRIMARY_KEY');
  }
  return {
    main: rows.MAIN_PRIMARY_KEY,
    due: rows.DUE_PRIMARY_KEY,
    dueSuffix: typeof rows.DUE_TABLE_SUFFIX === 'string' ? rows.DUE_TABLE_SUFFIX : '_due',
  };
}

/** Requests kept in the fake's log when asked to (the default keeps none: storms make thousands). */
const LOG_LIMIT = 1_000_000;

async function tablestore(buildDir: string, logRequests = false): Promise<BenchStore> {
  if (!existsSync(join(ROOT, 'shared/store/TablestoreStore.ts'))) {
    throw new Error('shared/store/TablestoreStore.ts does not exist yet');
  }
  const layout = await tableLayout(buildDir);
  const fake: FakeTablestore = await startFakeTablestore({ instance: INSTANCE, logLimit: logRequests ? LOG_LIMIT : 0 });
  fake.tables.create(TABLE, layout.main);
  fake.tables.create(`${TABLE}${layout.dueSuffix}`, layout.due);
  return {
    kind: 'tablestore',
    note: 'STORE=tablestore against the wire-compatible fake Tablestore (tests/support/fakeTablestore.ts)',
    env: {
      STORE: 'tablestore',
      TABLESTORE_ENDPOINT: fake.endpoint,
      TABLESTORE_INSTANCE: INSTANCE,
      TABLESTORE_TABLE: TABLE,
      ALIBABA_CLOUD_ACCESS_KEY_ID: 'bench-access-key-id',
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'bench-access-key-secret',
    },
    roundTrips() {
      const { requests } = fake.stats.snapshot();
      return Object.values(requests).reduce<number>((sum, count) => sum + (count ?? 0), 0);
    },
    roundTripsByKind() {
      const counts: Record<string, number> = {};
      for (const [kind, count] of Object.entries(fake.stats.snapshot().requests)) counts[kind] = count ?? 0;
      return counts;
    },
    requestLog: () => (logRequests ? fake.stats.log : []),
    statuses() {
      const counts: Record<string, number> = {};
      for (const row of fake.tables.rows(TABLE)) {
        const status = row.attrs.status;
        if (typeof status !== 'string') continue; // occurrence markers and other non-delivery rows
        counts[status] = (counts[status] ?? 0) + 1;
      }
      return counts;
    },
    close: () => fake.close(),
  };
}

/**
 * A fresh store of this kind (a new temporary directory, or a new fake Tablestore with empty tables); `logRequests`
 * keeps every Tablestore request decoded, for a breakdown by operation and table.
 */
async function createStore(
  kind: BenchStore['kind'],
  buildDir: string,
  note: string,
  options: { logRequests?: boolean } = {},
): Promise<BenchStore> {
  if (kind === 'file') return fileStore(note);
  return { ...(await tablestore(buildDir, options.logRequests)), note };
}

/**
 * Decides once per run which store the end-to-end figures use. `probe` starts the runtime on a candidate store and
 * answers undefined when it accepted a callback, else why not; in `auto` mode a refusal falls back to the file store.
 */
async function detectStore(
  choice: StoreChoice,
  buildDir: string,
  probe: (store: BenchStore) => Promise<string | undefined>,
): Promise<{ kind: BenchStore['kind']; note: string }> {
  if (choice === 'file') return { kind: 'file', note: 'STORE=file (forced by BENCH_STORE=file)' };
  let reason: string;
  let store: BenchStore | undefined;
  try {
    store = await tablestore(buildDir);
    const refusal = await probe(store);
    if (refusal === undefined) return { kind: 'tablestore', note: store.note };
    reason = refusal;
  } catch (error) {
    reason = (error as Error).message.split('\n')[0] ?? 'unknown';
  } finally {
    await store?.close();
  }
  if (choice === 'tablestore') throw new Error(`BENCH_STORE=tablestore is not usable: ${reason}`);
  return { kind: 'file', note: `STORE=file: the Tablestore store is not usable in this build yet (${reason})` };
}

export type { BenchStore, StoreChoice };
export { createStore, detectStore };
