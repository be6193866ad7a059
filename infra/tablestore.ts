/**
 * `npm run infra:tablestore`: creates the delivery store's two tables, idempotently, and waits until they answer.
 *
 * - `<TABLESTORE_TABLE>` (PK `pk` STRING): one row per delivery, plus the occurrence markers.
 * - `<TABLESTORE_TABLE>_due` (PK `shard` INTEGER, `dueAt` INTEGER, `pk` STRING): the due index the relay reads.
 *
 * Both with TTL `DELIVERY_TTL_SECONDS`, one version per cell and no reserved throughput (pay per request). An existing
 * table with the right primary key keeps its data; a different TTL or version count is updated; a different primary
 * key is an error (the script never drops a table). Reads the same variables as the functions, through `loadConfig`:
 * `TABLESTORE_ENDPOINT`, `TABLESTORE_INSTANCE`, `TABLESTORE_TABLE`, `DELIVERY_TTL_SECONDS` and the
 * `ALIBABA_CLOUD_ACCESS_KEY_ID` / `_SECRET` (/ `_SECURITY_TOKEN`) of an identity allowed to create tables. Prints what
 * it did, never a credential.
 */
import { type BridgeConfig, loadConfig } from '../shared/config/config';
import { TABLESTORE_MIN_TTL_SECONDS } from '../shared/constants';
import { ConfigError } from '../shared/errors';
import { credentialsFromConfig } from '../shared/fc/credentials';
import { TablestoreConnection, withDeadline } from '../shared/store/tablestore/connection';
import { fromCallError } from '../shared/store/tablestore/errors';
import { DUE_PRIMARY_KEY, dueTableName, MAIN_PRIMARY_KEY } from '../shared/store/tablestore/rowCodec';
import { loadTablestoreSdk, type SdkClient } from '../shared/store/tablestore/sdk';

/** Per call: table operations are slower than row operations. */
const CALL_TIMEOUT_MS = 30_000;
/** Numeric primary-key types as `describeTable` answers them. */
const PK_TYPE_NAMES: Record<string, string> = { 1: 'INTEGER', 2: 'STRING', 3: 'BINARY' };

type PrimaryKeySchema = ReadonlyArray<{ name: string; type: 'STRING' | 'INTEGER' }>;

interface TableResult {
  table: string;
  /** `created`, `updated` (TTL or versions changed), or `unchanged`. */
  action: 'created' | 'updated' | 'unchanged';
}

interface EnsureOptions {
  /** Where progress lines go. @default console.log */
  log?: (line: string) => void;
  /** How long to wait for a new table to answer. @default 120000 */
  readyTimeoutMs?: number;
  /** Pause between readiness checks. @default 1000 */
  pollMs?: number;
}

const describePk = (pk: PrimaryKeySchema) => pk.map((column) => `${column.name} ${column.type}`).join(', ');
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function ensureTable(
  client: SdkClient,
  table: string,
  primaryKey: PrimaryKeySchema,
  ttlSeconds: number,
  log: (line: string) => void,
): Promise<TableResult> {
  const call = <T>(promise: Promise<T>) => withDeadline(promise, CALL_TIMEOUT_MS);
  let existing: Awaited<ReturnType<SdkClient['describeTable']>> | undefined;
  try {
    existing = await call(client.describeTable({ tableName: table }));
  } catch (error) {
    if (fromCallError(error).code !== 'OTSObjectNotExist') throw error;
  }

  if (existing === undefined) {
    try {
      await call(
        client.createTable({
          tableMeta: { tableName: table, primaryKey: primaryKey.map((column) => ({ ...column })) },
          reservedThroughput: { capacityUnit: { read: 0, write: 0 } },
          tableOptions: { timeToLive: ttlSeconds, maxVersions: 1 },
        }),
      );
      log(`created table ${table} (${describePk(primaryKey)}), TTL ${ttlSeconds} s, 1 version`);
      return { table, action: 'created' };
    } catch (error) {
      // Created by someone else in between: check it like any existing table.
      if (fromCallError(error).code !== 'OTSObjectAlreadyExist') throw error;
      existing = await call(client.describeTable({ tableName: table }));
    }
  }

  const actual = existing.tableMeta.primaryKey.map((column) => ({
    name: column.name,
    type: PK_TYPE_NAMES[String(column.type)] ?? String(column.type),
  }));
  if (describePk(actual as PrimaryKeySchema) !== describePk(primaryKey)) {
    throw new Error(
      `table ${table} exists with primary key (${describePk(actual as PrimaryKeySchema)}), ` +
        `expected (${describePk(primaryKey)}): use another TABLESTORE_TABLE or drop it by hand`,
    );
  }
  const { timeToLive, maxVersions } = existing.tableOptions;
  if (Number(timeToLive) === ttlSeconds && Number(maxVersions) === 1) {
    log(`table ${table} exists (${describePk(primaryKey)}), TTL ${ttlSeconds} s, 1 version: unchanged`);
    return { table, action: 'unchanged' };
  }
  await call(client.updateTable({ tableName: table, tableOptions: { timeToLive: ttlSeconds, maxVersions: 1 } }));
  log(`table ${table} exists: TTL ${timeToLive} s → ${ttlSeconds} s, versions ${maxVersions} → 1`);
  return { table, action: 'updated' };
}

/** Polls a one-row range read until the table serves requests (a new table takes a few seconds). */
async function waitUntilReady(
  client: SdkClient,
  table: string,
  primaryKey: PrimaryKeySchema,
  options: Required<Omit<EnsureOptions, 'log'>>,
): Promise<void> {
  const { INF_MIN, INF_MAX } = loadTablestoreSdk();
  const giveUpAt = Date.now() + options.readyTimeoutMs;
  for (;;) {
    try {
      await withDeadline(
        client.getRange({
          tableName: table,
          direction: 'FORWARD',
          inclusiveStartPrimaryKey: primaryKey.map((column) => ({ [column.name]: INF_MIN })),
          exclusiveEndPrimaryKey: primaryKey.map((column) => ({ [column.name]: INF_MAX })),
          limit: 1,
          maxVersions: 1,
        }),
        CALL_TIMEOUT_MS,
      );
      return;
    } catch (error) {
      const failure = fromCallError(error);
      if (!failure.retryable && failure.code !== 'OTSObjectNotExist') throw error;
      if (Date.now() >= giveUpAt) throw new Error(`table ${table} did not answer within ${options.readyTimeoutMs} ms`);
      await sleep(options.pollMs);
    }
  }
}

/**
 * Creates (or checks) the main table and its due index, then waits until both answer. Safe to run again.
 *
 * @example
 * const results = await ensureTables(loadConfig({ ...process.env, STORE: 'tablestore' }));
 * // [{ table: 'alert_delivery', action: 'created' }, { table: 'alert_delivery_due', action: 'created' }]
 */
async function ensureTables(
  config: Pick<BridgeConfig, 'store' | 'credentials'>,
  options: EnsureOptions = {},
): Promise<TableResult[]> {
  const log = options.log ?? console.log;
  const {
    tablestoreEndpoint: endpoint,
    tablestoreInstance: instance,
    tablestoreTable: table,
    ttlSeconds,
  } = config.store;
  const problems: string[] = [];
  if (!endpoint) problems.push('TABLESTORE_ENDPOINT is required');
  if (!instance) problems.push('TABLESTORE_INSTANCE is required');
  const credentials = credentialsFromConfig(config.credentials);
  if (credentials === undefined) {
    problems.push('ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET are required to create tables');
  }
  if (ttlSeconds < TABLESTORE_MIN_TTL_SECONDS) {
    problems.push(`DELIVERY_TTL_SECONDS must be at least ${TABLESTORE_MIN_TTL_SECONDS} (Tablestore's minimum TTL)`);
  }
  if (problems.length > 0 || !endpoint || !instance) throw new ConfigError(problems);

  const connection = new TablestoreConnection({
    endpoint,
    instance,
    timeoutMs: CALL_TIMEOUT_MS,
    credentials: () => credentials,
  });
  try {
    const client = connection.client();
    log(`tablestore ${endpoint}, instance ${instance}`);
    const specs: Array<[string, PrimaryKeySchema]> = [
      [table, MAIN_PRIMARY_KEY],
      [dueTableName(table), DUE_PRIMARY_KEY],
    ];
    const results: TableResult[] = [];
    for (const [name, primaryKey] of specs) {
      results.push(await ensureTable(client, name, primaryKey, ttlSeconds, log));
      await waitUntilReady(client, name, primaryKey, {
        readyTimeoutMs: options.readyTimeoutMs ?? 120_000,
        pollMs: options.pollMs ?? 1_000,
      });
      log(`table ${name} answers`);
    }
    return results;
  } finally {
    connection.close();
  }
}

async function main(): Promise<void> {
  try {
    // The script is about Tablestore whatever STORE says locally: require its variables.
    const config = loadConfig({ ...process.env, STORE: 'tablestore' });
    await ensureTables(config);
    console.log('done');
  } catch (error) {
    if (error instanceof ConfigError) {
      for (const problem of error.problems) console.error(`configuration: ${problem}`);
      process.exitCode = 2;
      return;
    }
    console.error(`infra:tablestore failed: ${(error as Error).message}`);
    process.exitCode = 1;
  }
}

if (require.main === module) void main();

export type { EnsureOptions, TableResult };
export { ensureTables };
