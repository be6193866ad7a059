/**
 * A routing key's circuit, as `npm run trace` shows it: open while PagerDuty fails for the key (5xx, timeouts,
 * network errors), when nothing but one probe at a time is sent to it (`shared/delivery/circuit.ts`). Read from the
 * key's state row (`shared/store/KeyState.ts`): one batch read of the routes' keys, by their ids, never the keys.
 */
import { nextProbeAt } from '../../shared/delivery/circuit';
import { circuitOf } from '../../shared/delivery/KeyGate';
import { keyIdOf } from '../../shared/delivery/keyIdOf';
import type { Router } from '../../shared/delivery/Router';
import type { DeliveryStore } from '../../shared/store/DeliveryStore';

/** What trace says of one route's key. */
interface CircuitState {
  /** True while sends on the key are held to one probe at a time. */
  open: boolean;
  /** Epoch ms of the next probe, if known. */
  until?: number;
  /** Why it opened, one line (e.g. `server: PagerDuty answered 500 …`); never a secret. */
  reason?: string;
}

/** The circuits of the named routes' keys; a route left out has no key or a closed circuit. */
async function readCircuits(
  store: DeliveryStore,
  router: Router,
  routeNames: readonly string[],
): Promise<ReadonlyMap<string, CircuitState>> {
  const idOfRoute = new Map<string, string>();
  for (const name of routeNames) {
    const key = router.byName(name)?.routingKey;
    if (key !== undefined) idOfRoute.set(name, keyIdOf(key));
  }
  const circuits = new Map<string, CircuitState>();
  if (idOfRoute.size === 0) return circuits;
  const states = await store.getKeyStates([...idOfRoute.values()]);
  for (const [name, keyId] of idOfRoute) {
    const circuit = circuitOf(states.get(keyId));
    if (circuit !== undefined)
      circuits.set(name, { open: true, until: nextProbeAt(circuit), reason: circuit.lastError });
  }
  return circuits;
}

export type { CircuitState };
export { readCircuits };
