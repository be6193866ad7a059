// Reads the functions the local runtime hosts from s.yaml, the same file `s deploy` reads, so local and deployed
// functions share one handler, memory, timeout and trigger definition.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

/** Fallbacks when a function in s.yaml omits them (this project's s.yaml always sets both). */
const DEFAULT_TIMEOUT_SECONDS = 3;
const DEFAULT_MEMORY_MB = 512;

/**
 * Resolves the Serverless Devs variables a local run can know: `${env('NAME')}`, `${env('NAME', 'default')}` and
 * `${vars.name}`. Others (`${config('AccountID')}`, `${resources…}`) need the cloud and are left as written.
 * @param {unknown} value
 * @param {{ env: Record<string, string | undefined>, vars: Record<string, unknown> }} scope
 * @returns {unknown}
 */
function resolveVariables(value, scope, depth = 0) {
  if (typeof value !== 'string' || depth > 8) return value;
  const whole = /^\$\{([^}]+)\}$/.exec(value);
  const evaluate = (expression) => {
    const env = /^env\(\s*(['"])([^'"]+)\1\s*(?:,\s*(['"])(.*?)\3\s*)?\)$/.exec(expression.trim());
    if (env) {
      const fromEnv = scope.env[env[2]];
      return fromEnv !== undefined && fromEnv !== '' ? fromEnv : (env[4] ?? '');
    }
    const vars = /^vars\.([\w-]+)$/.exec(expression.trim());
    if (vars && vars[1] in scope.vars) return resolveVariables(scope.vars[vars[1]], scope, depth + 1);
    return undefined;
  };
  if (whole) {
    const resolved = evaluate(whole[1]);
    return resolved === undefined ? value : resolved;
  }
  return value.replace(/\$\{([^}]+)\}/g, (text, expression) => {
    const resolved = evaluate(expression);
    return resolved === undefined ? text : String(resolved);
  });
}

/**
 * The fc3 functions of an s.yaml, with the fields the local runtime needs.
 *
 * @param {string} sYamlPath
 * @param {Record<string, string | undefined>} env used for `${env(…)}`
 * @returns {Map<string, import('./sYaml.d.mts').FunctionSpec>} keyed by function name, in file order
 */
function readFunctions(sYamlPath, env) {
  let document;
  try {
    document = parse(readFileSync(sYamlPath, 'utf8'));
  } catch (error) {
    throw new Error(`cannot read ${sYamlPath}: ${error instanceof Error ? error.message : error}`, { cause: error });
  }
  const scope = { env, vars: document?.vars ?? {} };
  const functions = new Map();
  for (const [resourceName, resource] of Object.entries(document?.resources ?? {})) {
    if (resource?.component !== 'fc3' || !resource.props) continue;
    const props = resource.props;
    const name = String(resolveVariables(props.functionName ?? resourceName, scope));
    const handler = String(resolveVariables(props.handler ?? 'index.handler', scope));
    const triggers = Array.isArray(props.triggers) ? props.triggers : [];
    const http = triggers.find((trigger) => trigger?.triggerType === 'http');
    const timer = triggers.find((trigger) => trigger?.triggerType === 'timer');
    functions.set(name, {
      name,
      handler,
      code: String(resolveVariables(props.code ?? '', scope)),
      memory: Number(resolveVariables(props.memorySize, scope) ?? DEFAULT_MEMORY_MB) || DEFAULT_MEMORY_MB,
      timeout: Number(resolveVariables(props.timeout, scope) ?? DEFAULT_TIMEOUT_SECONDS) || DEFAULT_TIMEOUT_SECONDS,
      region: String(resolveVariables(props.region ?? '', scope)),
      // What the deployed function's environment holds (before FC adds its own FC_* and credential variables).
      environmentVariables: Object.fromEntries(
        Object.entries(props.environmentVariables ?? {}).map(([name, value]) => [
          name,
          String(resolveVariables(value ?? '', scope)),
        ]),
      ),
      runtime: String(resolveVariables(props.runtime ?? '', scope)),
      httpTrigger: http
        ? {
            name: String(http.triggerName ?? 'http'),
            methods: (http.triggerConfig?.methods ?? []).map(String),
            authType: String(http.triggerConfig?.authType ?? ''),
          }
        : undefined,
      timerTrigger:
        timer && timer.triggerConfig?.enable !== false
          ? {
              name: String(timer.triggerName ?? 'timer'),
              cronExpression: String(resolveVariables(timer.triggerConfig?.cronExpression ?? '', scope)),
              payload: String(resolveVariables(timer.triggerConfig?.payload ?? '', scope)),
            }
          : undefined,
    });
  }
  return functions;
}

export { readFunctions, resolveVariables };
