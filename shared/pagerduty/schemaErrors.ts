/**
 * ajv errors as one readable line each, naming the field (`payload.summary`, `links[0].href`, `matchers[2]`). ajv
 * messages never quote the value (no `verbose`), so a routing key can never leak through them.
 */
import type { ErrorObject } from 'ajv';

/** `/payload/summary` → `payload.summary`, `/links/0/href` → `links[0].href`, plus the missing/unknown property. */
function fieldName(instancePath: string, child?: string): string {
  const segments = instancePath.split('/').slice(1);
  if (child !== undefined) segments.push(child);
  let name = '';
  for (const segment of segments) name += /^\d+$/.test(segment) ? `[${segment}]` : name ? `.${segment}` : segment;
  return name;
}

/**
 * One line per ajv error.
 *
 * @param stripPrefix - a leading instance path to drop (e.g. `/1` to describe the fields of the second rule)
 *
 * @example
 * describeSchemaErrors(validatePagerDutyEvent.errors); // ["payload.severity must be one of critical, error, warning, info"]
 */
function describeSchemaErrors(errors: readonly ErrorObject[] | null | undefined, stripPrefix = ''): string[] {
  return (errors ?? []).map((error) => {
    const path = error.instancePath.startsWith(stripPrefix)
      ? error.instancePath.slice(stripPrefix.length)
      : error.instancePath;
    const params = error.params as { missingProperty?: string; additionalProperty?: string; allowedValues?: unknown[] };
    const field = fieldName(path, params.missingProperty ?? params.additionalProperty);
    const subject = field === '' ? 'the value' : field;
    if (params.missingProperty !== undefined) return `${subject} is required`;
    if (params.additionalProperty !== undefined) return `${subject} is not a known field`;
    if (params.allowedValues) return `${subject} must be one of ${params.allowedValues.join(', ')}`;
    return `${subject} ${error.message ?? 'is invalid'}`;
  });
}

export { describeSchemaErrors };
