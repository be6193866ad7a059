/**
 * What the delivery code needs from routing: the route for an alert's labels, and a route by its recorded name (a
 * resolve follows its trigger's route). `shared/pagerduty/routes.ts` parses and matches the rules; this interface
 * keeps the outbox independent of the rule format.
 */
import type { Secret } from '../config/Secret';
import type { DeliveryMode, Severity } from '../constants';

interface RouteChoice {
  name: string;
  /** Absent when neither the route nor PAGERDUTY_ROUTING_KEY gives a key. */
  routingKey?: Secret;
  defaultSeverity?: Severity;
  mode: DeliveryMode;
}

interface Router {
  select(labels: Readonly<Record<string, string>>): RouteChoice;
  byName(name: string): RouteChoice | undefined;
  /** Every configured route, the fallback `default` included (the health report's circuits). */
  all(): RouteChoice[];
}

export type { RouteChoice, Router };
