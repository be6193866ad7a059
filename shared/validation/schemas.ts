/**
 * The registry of every JSON Schema the bridge validates with. `scripts/compile-schemas.mjs` compiles each entry
 * into a standalone validator exported under the same name from `./generated/validators.js`.
 */
import { alertSchema, callbackEnvelopeSchema } from '../alerts/schema';
import { configSchema } from '../config/schema';
import { pagerDutyEventSchema } from '../pagerduty/eventSchema';
import { routesSchema } from '../pagerduty/routesSchema';

const schemas = {
  validateConfig: configSchema,
  validateCallbackEnvelope: callbackEnvelopeSchema,
  validateAlert: alertSchema,
  validatePagerDutyEvent: pagerDutyEventSchema,
  validateRoutes: routesSchema,
} as const;

export { schemas };
