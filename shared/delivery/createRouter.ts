/**
 * Builds the `Router` from the configuration: the rules of PAGERDUTY_ROUTES / PAGERDUTY_ROUTES_FILE
 * (`shared/pagerduty/routes.ts`), with PAGERDUTY_ROUTING_KEY as the fallback route `default`. Problems in the rules
 * are configuration errors; warnings are logged once at cold start.
 */
import type { BridgeConfig, Env } from '../config/config';
import type { Secret } from '../config/Secret';
import {
  FALLBACK_ROUTE_NAME,
  findRouteByName,
  parseRoutes,
  type SelectedRoute,
  selectRoute,
} from '../pagerduty/routes';
import type { RouteChoice, Router } from './Router';

function toChoice(route: SelectedRoute, config: BridgeConfig): RouteChoice {
  return {
    name: route.name,
    routingKey: route.routingKey,
    defaultSeverity: route.defaultSeverity,
    mode: route.mode ?? config.pagerduty.mode,
  };
}

/**
 * @returns the router, the compiled rules in order (for the operator tools and the banner), the route keys (secrets
 *   to scrub from logs), the problems and warnings of the rules, and the delivery modes in use
 */
function createRouter(config: BridgeConfig, env: Env) {
  const { routesText, routesSource, routingKey } = config.pagerduty;
  const { routes, problems, warnings } = parseRoutes(routesText, env, { source: routesSource });
  const router: Router = {
    select: (labels) => toChoice(selectRoute(routes, labels, routingKey), config),
    byName: (name) => {
      const route = findRouteByName(routes, name, routingKey);
      return route === undefined ? undefined : toChoice(route, config);
    },
    all: () =>
      [...routes.map((route) => route.name), FALLBACK_ROUTE_NAME].flatMap((name) => {
        const route = findRouteByName(routes, name, routingKey);
        return route === undefined ? [] : [toChoice(route, config)];
      }),
  };
  const routeKeys: Secret[] = routes.flatMap((route) => (route.routingKey === undefined ? [] : [route.routingKey]));
  const modes = new Set(routes.map((route) => route.mode ?? config.pagerduty.mode));
  modes.add(config.pagerduty.mode);
  return { router, routes, routeKeys, problems, warnings, modes };
}

export { createRouter };
