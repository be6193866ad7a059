/**
 * Waits, before an invocation answers, for the store's writes still in flight (`DeliveryStore.settle`: the deletes of
 * old due-index entries a transition leaves running beside its caller's next step). FC may freeze an instance once it
 * has answered, so nothing may stay on the wire past the answer. On success and on error alike; never changes the
 * answer (`settle` does not throw).
 */
import type { MiddlewareObj } from '@middy/core';
import type { MiddyFcContext } from '../fc/types';

interface SettleStoreOptions {
  /** The store's `settle`. */
  settle: () => Promise<void>;
}

function settleStore(options: SettleStoreOptions): MiddlewareObj<unknown, unknown, Error, MiddyFcContext> {
  const settleStoreAfter = async (): Promise<void> => {
    await options.settle();
  };
  return { after: settleStoreAfter, onError: settleStoreAfter, name: 'settleStore' };
}

export type { SettleStoreOptions };
export { settleStore };
