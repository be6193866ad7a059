import type { Secret } from '../config/Secret';
import { sha256Hex } from '../sha256';
import type { Router } from './Router';

/** Each configured key's id, hashed once (the lanes and the gate ask for it per delivery). */
const ids = new WeakMap<Secret, string>();

/** A routing key's id in the store and in logs: a hash, so the key itself is never held as a row key or printed. */
function keyIdOf(routingKey: Secret): string {
  let id = ids.get(routingKey);
  if (id === undefined) {
    id = sha256Hex(routingKey.reveal()).slice(0, 16);
    ids.set(routingKey, id);
  }
  return id;
}

/**
 * The lane a delivery is sent in: its routing key's id (one gate, one pace per key, however many routes share it), or
 * its route's name when the route has no key (those deliveries only become DEAD).
 */
function laneIdOf(route: { name: string; routingKey?: Secret } | undefined, routeName = route?.name ?? ''): string {
  return route?.routingKey === undefined ? `no-key:${routeName}` : keyIdOf(route.routingKey);
}

/** The key ids of every route with a key, each once, with the route's name (the health report's circuits). */
function routeKeyIds(router: Router): string[] {
  const keyIds = new Set<string>();
  for (const route of router.all()) if (route.routingKey !== undefined) keyIds.add(keyIdOf(route.routingKey));
  return [...keyIds];
}

export { keyIdOf, laneIdOf, routeKeyIds };
