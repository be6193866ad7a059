/**
 * The registry of every JSON Schema the bridge validates with. `scripts/compile-schemas.mjs` compiles each entry
 * into a standalone validator exported under the same name from `./generated/validators.js`.
 */
import { configSchema } from '../config/schema';

const schemas = {
  validateConfig: configSchema,
} as const;

export { schemas };
