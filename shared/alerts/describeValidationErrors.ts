/**
 * Turns ajv errors into sentences a person configuring ARMS can act on (`labels.severity must be a string`), instead
 * of ajv's `/labels/severity must be string`. The raw errors stay available to the caller for logs.
 */
import type { ErrorObject } from 'ajv';

/** Longest label name or value quoted in a message: a 16 KB label name must not become a 16 KB response. */
const MAX_QUOTED_LENGTH = 64;
/** Most problems listed for one object; the rest are counted ("and 3 more problems"). */
const MAX_LISTED_PROBLEMS = 3;

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** Quotes a value for a message, cut to `MAX_QUOTED_LENGTH` code points. */
function quote(value: unknown): string {
  const text = typeof value === 'string' ? value : String(JSON.stringify(value));
  const codePoints = Array.from(text);
  const shown = codePoints.length > MAX_QUOTED_LENGTH ? `${codePoints.slice(0, MAX_QUOTED_LENGTH).join('')}…` : text;
  return JSON.stringify(shown);
}

/**
 * `/labels/severity` → `labels.severity` (relative to the validated value; `root` only names the value itself); keys that are not identifiers are bracketed (`labels["app.kubernetes.io"]`)
 * and array indexes too (`alerts[3]`), so the path can be read back unambiguously.
 */
function readablePath(instancePath: string, root: string): string {
  if (instancePath === '') return root;
  const segments = instancePath
    .slice(1)
    .split('/')
    .map((segment) => segment.replace(/~1/g, '/').replace(/~0/g, '~'));
  let path = '';
  for (const segment of segments) {
    if (/^(0|[1-9][0-9]*)$/.test(segment)) path += `[${segment}]`;
    else if (IDENTIFIER.test(segment) && segment.length <= MAX_QUOTED_LENGTH)
      path += path === '' ? segment : `.${segment}`;
    else path += `[${quote(segment)}]`;
  }
  return path;
}

/** An ajv type name as English ("an object", "a string"). */
function article(type: unknown): string {
  const names = String(type).split(',');
  return names
    .map((name) => (name === 'object' || name === 'array' || name === 'integer' ? `an ${name}` : `a ${name}`))
    .join(' or ');
}

/** The value at a JSON Pointer (ajv's `instancePath`) inside `data`, or undefined. */
function valueAt(data: unknown, instancePath: string): unknown {
  let value = data;
  for (const segment of instancePath.split('/').slice(1)) {
    const key = segment.replace(/~1/g, '/').replace(/~0/g, '~');
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/** What was sent instead, for type and enum errors: `(got "FIRING")`, `(got a number)`. */
function got(data: unknown, instancePath: string, keyword: string): string {
  const value = valueAt(data, instancePath);
  if (keyword === 'enum' && typeof value === 'string') return ` (got ${quote(value)})`;
  if (value === null) return ' (got null)';
  if (Array.isArray(value)) return ' (got an array)';
  return value === undefined ? '' : ` (got ${article(typeof value)})`;
}

/** One ajv error as one sentence. `root` names the validated value when the path is empty ("body", "alert"). */
function describeError(error: ErrorObject, root: string, data: unknown): string {
  const path = readablePath(error.instancePath, root);
  const params = error.params as Record<string, unknown>;
  // Errors on a property *name* (propertyNames) carry the offending name; say which map and which name.
  const propertyName = (error as ErrorObject & { propertyName?: string }).propertyName;
  if (propertyName !== undefined) {
    if (error.keyword === 'minLength') return `${path} has an empty name`;
    if (error.keyword === 'maxLength')
      return `${path} has a name longer than ${params.limit} characters (${quote(propertyName)})`;
    return `${path} has an invalid name ${quote(propertyName)}`;
  }
  switch (error.keyword) {
    case 'required': {
      const missing = String(params.missingProperty).replace(/~/g, '~0').replace(/\//g, '~1');
      return `${readablePath(`${error.instancePath}/${missing}`, root)} is required`;
    }
    case 'type':
      return `${path} must be ${article(params.type)}${got(data, error.instancePath, error.keyword)}`;
    case 'enum': {
      const allowed = (params.allowedValues as unknown[]).map((value) => JSON.stringify(value)).join(' or ');
      return `${path} must be ${allowed}${got(data, error.instancePath, error.keyword)}`;
    }
    case 'minLength':
      return Number(params.limit) === 1
        ? `${path} must not be empty`
        : `${path} must be at least ${params.limit} characters`;
    case 'maxLength':
      return `${path} must be at most ${params.limit} characters`;
    case 'minProperties':
      return Number(params.limit) === 1
        ? `${path} must not be empty`
        : `${path} must have at least ${params.limit} entries`;
    case 'maxProperties':
      return `${path} must have at most ${params.limit} entries`;
    case 'minimum':
      return `${path} must be ${params.comparison} ${params.limit}`;
    default:
      return `${path} ${error.message ?? 'is invalid'}`;
  }
}

/**
 * All ajv errors of one validation as one readable reason: the distinct sentences, at most `MAX_LISTED_PROBLEMS`,
 * joined by `; `. The generic `propertyNames` summary ajv adds next to the precise error is dropped, and so are
 * further errors on a value that already has the wrong type.
 *
 * @param errors - `validate.errors` after a failed validation (null/undefined gives a generic reason).
 * @param root - what the validated value is called when the path is empty: `body` (top level) or `alert`.
 * @param data - the validated value, to say what was sent instead (`(got a number)`); optional.
 * @example describeValidationErrors(validateAlert.errors, 'alert') // 'labels.severity must be a string (got a number)'
 */
function describeValidationErrors(
  errors: readonly ErrorObject[] | null | undefined,
  root: string,
  data?: unknown,
): string {
  const sentences: string[] = [];
  // A value of the wrong type also fails its other keywords (enum, maxLength): the type error alone says it.
  const wrongType = new Set(
    (errors ?? []).filter((error) => error.keyword === 'type').map((error) => error.instancePath),
  );
  for (const error of errors ?? []) {
    if (error.keyword === 'propertyNames') continue;
    if (error.keyword !== 'type' && wrongType.has(error.instancePath)) continue;
    const sentence = describeError(error, root, data);
    if (!sentences.includes(sentence)) sentences.push(sentence);
  }
  if (sentences.length === 0) return `${root} is invalid`;
  const listed = sentences.slice(0, MAX_LISTED_PROBLEMS).join('; ');
  const more = sentences.length - MAX_LISTED_PROBLEMS;
  return more > 0 ? `${listed}; and ${more} more problem${more === 1 ? '' : 's'}` : listed;
}

export { describeValidationErrors };
