/**
 * An `SdkClientSource` over another that counts the store's round trips: every SDK call, and how many of them ran one
 * after another. A call's depth is one more than the deepest call that had answered when it was made, so calls made
 * together (`Promise.all`) share a depth and the deepest call is the number of sequential round trips. Deterministic:
 * calls made together are made within one run of microtasks, and no loopback answer arrives inside it.
 *
 * @example
 * const counted = countCalls(new TablestoreConnection({ … }));
 * const store = new TablestoreStore({ client: counted.source, table, timeoutMs });
 * counted.reset(); await work(); expect(counted.sequential()).toBeLessThanOrEqual(4);
 */
import type { SdkClientSource } from '../../shared/store/tablestore/connection';
import type { SdkClient } from '../../shared/store/tablestore/sdk';

interface CountedCall {
  operation: string;
  /** The tables the call addresses. */
  tables: string[];
  /** The first primary-key column of each row a batch call addresses (e.g. `d1-…` deliveries, `m1-…` markers). */
  rows: string[];
  depth: number;
}

type PrimaryKey = Array<Record<string, unknown>>;
interface BatchParams {
  tableName?: string;
  tables?: Array<{ tableName: string; primaryKey?: PrimaryKey[]; rows?: Array<{ primaryKey: PrimaryKey }> }>;
}
const firstKeyOf = (key: PrimaryKey) => String(Object.values(key[0] ?? {})[0]);

function countCalls(inner: SdkClientSource): {
  source: SdkClientSource;
  calls: readonly CountedCall[];
  /** The deepest call since the last reset: sequential round trips. */
  sequential(): number;
  reset(): void;
} {
  const calls: CountedCall[] = [];
  let answered = 0;
  const wrap = (client: SdkClient): SdkClient =>
    new Proxy(client, {
      get(target, name, receiver) {
        const value = Reflect.get(target, name, receiver);
        if (typeof value !== 'function') return value;
        return async (params: BatchParams) => {
          const tables = params.tables?.map((table) => table.tableName) ?? [params.tableName ?? ''];
          const rows = (params.tables ?? []).flatMap((table) => [
            ...(table.primaryKey ?? []).map(firstKeyOf),
            ...(table.rows ?? []).map((row) => firstKeyOf(row.primaryKey)),
          ]);
          const call = { operation: String(name), tables, rows, depth: answered + 1 };
          calls.push(call);
          try {
            return await value.call(target, params);
          } finally {
            answered = Math.max(answered, call.depth);
          }
        };
      },
    });
  return {
    source: {
      client: () => wrap(inner.client()),
      useCredentials: (credentials) => inner.useCredentials(credentials),
      close: () => inner.close(),
    },
    calls,
    sequential: () => calls.reduce((deepest, call) => Math.max(deepest, call.depth), 0),
    reset() {
      calls.length = 0;
      answered = 0;
    },
  };
}

export type { CountedCall };
export { countCalls };
