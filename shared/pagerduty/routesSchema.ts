/**
 * JSON Schema of `PAGERDUTY_ROUTES` / `PAGERDUTY_ROUTES_FILE`: the shape only. `parseRoutes` adds what a schema cannot
 * say (unique names, parsable matchers, compilable regexes, keys present in the environment, key format).
 * Compiled at build time as `validateRoutes`; data only, so the compiler can load it before any validator exists.
 */
import { DeliveryMode, Severity } from '../constants';

/** More rules than this is a configuration mistake (and would not fit FC's 4 KB of env vars anyway). */
const MAX_ROUTES = 100;
/** Matchers per rule. */
const MAX_MATCHERS = 32;
/** Route names are stored with each delivery (a resolve follows its trigger's route), so keep them short and plain. */
const ROUTE_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$';
/** Environment variable names as POSIX shells accept them. */
const ENV_NAME_PATTERN = '^[A-Za-z_][A-Za-z0-9_]*$';

const routesSchema = {
  $id: 'pagerdutyRoutes',
  type: 'array',
  maxItems: MAX_ROUTES,
  items: {
    type: 'object',
    additionalProperties: false,
    required: ['name'],
    properties: {
      name: { type: 'string', pattern: ROUTE_NAME_PATTERN },
      matchers: { type: 'array', maxItems: MAX_MATCHERS, items: { type: 'string', minLength: 1 } },
      routingKey: { type: 'string' },
      routingKeyEnv: { type: 'string', pattern: ENV_NAME_PATTERN },
      defaultSeverity: { type: 'string', enum: Object.values(Severity) },
      mode: { type: 'string', enum: Object.values(DeliveryMode) },
    },
  },
} as const;

export { MAX_ROUTES, routesSchema };
