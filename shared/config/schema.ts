/**
 * JSON Schema of the environment, derived from the settings table so the two cannot drift. The loader first turns
 * each raw string into its JSON type (`config.ts` `readSetting`; a `list` is checked as its text and split after),
 * then this schema (compiled at build time into a standalone validator) checks ranges, enums and URL forms, and names
 * the variable in every error.
 */
import { SETTINGS, type Setting } from './settings';

const URL_PATTERN = '^https?://[^\\s/?#]+[^\\s]*$';

function schemaOf(setting: Setting): Record<string, unknown> {
  switch (setting.type) {
    case 'integer':
    case 'number':
      return {
        type: setting.type,
        ...(setting.minimum === undefined ? {} : { minimum: setting.minimum }),
        ...(setting.maximum === undefined ? {} : { maximum: setting.maximum }),
      };
    case 'boolean':
      return { type: 'boolean' };
    case 'enum':
      return { type: 'string', enum: [...(setting.values ?? [])] };
    case 'url':
    case 'secret-url':
      return { type: 'string', pattern: URL_PATTERN, maxLength: 2048 };
    case 'secret-list':
      return { type: 'array', minItems: 1, items: { type: 'string', minLength: 1, maxLength: 200 } };
    case 'secret':
    case 'string':
    case 'list':
      return { type: 'string', minLength: 1 };
  }
}

const configSchema = {
  $id: 'config',
  type: 'object',
  additionalProperties: false,
  properties: Object.fromEntries(SETTINGS.map((setting) => [setting.env, schemaOf(setting)])),
};

export { configSchema };
