/**
 * A per-key circuit: the delivery engine pausing every send on a routing key (after a 429, or a run of failures)
 * until a given time. `npm run trace` shows a waiting delivery as "circuit open" when the store can say so.
 *
 * The store port (`shared/store/DeliveryStore.ts`) keeps no such state today: the only per-key pause is the pacer's,
 * in memory, for one invocation (`KeyPacer`). So trace asks the store for an optional capability: a store that
 * implements {@link CircuitReader} (`readCircuits`, keyed by route name, since records name their route, never their
 * key) lights up the "circuit open" answer with no change to trace; any other store answers from each record alone
 * (next attempt, last failure).
 */
import type { DeliveryStore } from '../../shared/store/DeliveryStore';

/** What a store knows of one route's key. */
interface CircuitState {
  /** True while sends on the key are paused. */
  open: boolean;
  /** Epoch ms when the pause ends (the next probe), if known. */
  until?: number;
  /** Why it opened, one line (e.g. `rate-limited: PagerDuty answered 429 …`); never a secret. */
  reason?: string;
}

/** The optional store capability. */
interface CircuitReader {
  /** The state of each named route's key; a route left out has no state (closed). One bounded read. */
  readCircuits(routeNames: readonly string[]): Promise<ReadonlyMap<string, CircuitState>>;
}

/** The store's circuit reader, or undefined when the store keeps no per-key state. */
function circuitReaderOf(store: DeliveryStore): CircuitReader | undefined {
  const candidate = store as DeliveryStore & Partial<CircuitReader>;
  return typeof candidate.readCircuits === 'function'
    ? { readCircuits: (names) => (candidate.readCircuits as CircuitReader['readCircuits']).call(store, names) }
    : undefined;
}

export type { CircuitReader, CircuitState };
export { circuitReaderOf };
