/**
 * The deployed store (`TablestoreStore`, the real tablestore SDK) over the wire-compatible fake on loopback, with the
 * two tables `npm run infra:tablestore` creates: what the integration tests run the Tablestore path on.
 *
 * @example
 * const { fake, store, close } = await startTablestoreOverFake({ now: () => clock });
 * fake.faults.add({ op: 'BatchWriteRow', action: { kind: 'error', code: 'OTSServerBusy' } });
 */
import { Secret } from '../../shared/config/Secret';
import { TablestoreStore } from '../../shared/store/TablestoreStore';
import { TablestoreConnection } from '../../shared/store/tablestore/connection';
import { DUE_PRIMARY_KEY, dueTableName, MAIN_PRIMARY_KEY } from '../../shared/store/tablestore/rowCodec';
import { type FakeTablestore, startFakeTablestore } from './fakeTablestore';

/** The main table's name (`TABLESTORE_TABLE`'s default). */
const TABLE = 'alert_delivery';
const WEEK_SECONDS = 7 * 86_400;

interface TablestoreOverFake {
  fake: FakeTablestore;
  store: TablestoreStore;
  table: string;
  dueTable: string;
  /** The environment that points a function (or a built bundle) at the fake. */
  env: Record<string, string>;
  close(): Promise<void>;
}

async function startTablestoreOverFake(
  options: { now?: () => number; timeoutMs?: number; seed?: number } = {},
): Promise<TablestoreOverFake> {
  const fake = await startFakeTablestore({ now: options.now, seed: options.seed });
  const dueTable = dueTableName(TABLE);
  fake.tables.create(TABLE, MAIN_PRIMARY_KEY, { timeToLive: WEEK_SECONDS });
  fake.tables.create(dueTable, DUE_PRIMARY_KEY, { timeToLive: WEEK_SECONDS });
  const credentials = { accessKeyId: new Secret('test-ak'), accessKeySecret: new Secret('test-sk') };
  const store = TablestoreStore.connect({
    endpoint: fake.endpoint,
    instance: fake.instance,
    table: TABLE,
    timeoutMs: options.timeoutMs ?? 2_000,
    credentials: () => credentials,
    now: options.now,
  });
  const env = {
    STORE: 'tablestore',
    TABLESTORE_ENDPOINT: fake.endpoint,
    TABLESTORE_INSTANCE: fake.instance,
    TABLESTORE_TABLE: TABLE,
    ALIBABA_CLOUD_ACCESS_KEY_ID: 'test-ak',
    ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'test-sk',
  };
  return {
    fake,
    store,
    table: TABLE,
    dueTable,
    env,
    close: async () => {
      await store.close();
      await fake.close();
    },
  };
}

export type { TablestoreOverFake };

/**
 * A connection of its own to the fake (the real SDK client, the tests' credentials), for a second store over the same
 * tables whose SDK calls a test wraps (`countedCalls.ts`, `heldCalls.ts`).
 */
function connectionTo(fake: FakeTablestore, timeoutMs = 2_000): TablestoreConnection {
  const credentials = { accessKeyId: new Secret('test-ak'), accessKeySecret: new Secret('test-sk') };
  return new TablestoreConnection({
    endpoint: fake.endpoint,
    instance: fake.instance,
    timeoutMs,
    credentials: () => credentials,
  });
}

export { connectionTo, startTablestoreOverFake, TABLE };
