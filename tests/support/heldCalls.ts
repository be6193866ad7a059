/**
 * An `SdkClientSource` over another that holds the calls a test names until it lets them go: controlled interleavings
 * of several store instances on one table, the real SDK on the wire fake for every call, held or not.
 *
 * @example
 * const held = holdCalls(new TablestoreConnection({ … }));
 * const store = new TablestoreStore({ client: held.source, table, timeoutMs });
 * const cas = held.next('batchWriteRow', (params) => writesTo(params, table));
 * const write = store.replace(next);
 * await cas.reached; // the call is about to go out; the test acts meanwhile
 * cas.release();
 */

import type { SdkClientSource } from '../../shared/store/tablestore/connection';
import type { SdkClient } from '../../shared/store/tablestore/sdk';

type Operation = 'batchWriteRow' | 'batchGetRow' | 'getRange';

interface Hold {
  /** Settles when the matching call has been made (and is held). */
  reached: Promise<void>;
  /** Lets the held call go out. */
  release(): void;
}

interface PendingHold {
  operation: Operation;
  matches: (params: never) => boolean;
  reached: () => void;
  gate: Promise<void>;
}

function holdCalls(inner: SdkClientSource): {
  source: SdkClientSource;
  next(operation: Operation, matches?: (params: never) => boolean): Hold;
} {
  const pending: PendingHold[] = [];
  const wrap = (client: SdkClient): SdkClient =>
    new Proxy(client, {
      get(target, name, receiver) {
        const value = Reflect.get(target, name, receiver);
        if (typeof value !== 'function') return value;
        return async (params: never) => {
          const index = pending.findIndex((hold) => hold.operation === name && hold.matches(params));
          if (index >= 0) {
            const [hold] = pending.splice(index, 1) as [PendingHold];
            hold.reached();
            await hold.gate;
          }
          return value.call(target, params);
        };
      },
    });
  return {
    source: {
      client: () => wrap(inner.client()),
      useCredentials: (credentials) => inner.useCredentials(credentials),
      close: () => inner.close(),
    },
    /** Holds the next call of `operation` that `matches`, once. */
    next(operation, matches = () => true) {
      let reached = () => {};
      let release = () => {};
      const reachedPromise = new Promise<void>((resolve) => {
        reached = resolve;
      });
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      pending.push({ operation, matches, reached, gate });
      return { reached: reachedPromise, release };
    },
  };
}

export { holdCalls };
