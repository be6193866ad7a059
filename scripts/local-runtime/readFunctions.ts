// Reads the functions the local runtime hosts from s.yaml, the same file `s deploy` reads, so local and deployed
// functions share one handler, memory, timeout and trigger definition.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

/** One fc3 function of s.yaml, with the fields the local runtime needs. */
interface FunctionSpec {
  name: string;
  handler: string;
  code: string;
  /** MB */
  memory: number;
  /** Seconds */
  timeout: number;
  region: string;
  runtime: string;
  /** `environmentVariables`, each `${env(…)}` resolved against the given environment. */
  environmentVariables: Record<string, string>;
  httpTrigger?: { name: string; methods: string[]; authType: string };
  timerTrigger?: { name: string; cronExpression: string; payload: string };
}

/** What `${…}` can be resolved from locally. */
interface VariableScope {
  env: Record<string, string | undefined>;
  vars: Record<string, unknown>;
}

/** The part of a Serverless Devs fc3 resource the runtime reads; everything is optional in a hand-written file. */
interface Fc3Trigger {
  triggerType?: string;
  triggerName?: unknown;
  triggerConfig?: {
    methods?: unknown[];
    authType?: unknown;
    enable?: boolean;
    cronExpression?: unknown;
    payload?: unknown;
  };
}
interface Fc3Resource {
  component?: string;
  props?: {
    functionName?: unknown;
    handler?: unknown;
    code?: unknown;
    memorySize?: unknown;
    timeout?: unknown;
    region?: unknown;
    runtime?: unknown;
    environmentVariables?: Record<string, unknown>;
    triggers?: unknown;
  };
}
interface SYamlDocument {
  vars?: Record<string, unknown>;
  resources?: Record<string, Fc3Resource | null>;
}

/** Fallbacks when a function in s.yaml omits them (this project's s.yaml always sets both). */
const DEFAULT_TIMEOUT_SECONDS = 3;
const DEFAULT_MEMORY_MB = 512;

/**
 * Resolves the Serverless Devs variables a local run can know: `${env('NAME')}`, `${env('NAME', 'default')}` and
 * `${vars.name}`. Others (`${config('AccountID')}`, `${resources…}`) need the cloud and are left as written.
 */
function resolveVariables(value: unknown, scope: VariableScope, depth = 0): unknown {
  if (typeof value !== 'string' || depth > 8) return value;
  const whole = /^\$\{([^}]+)\}$/.exec(value);
  const evaluate = (expression: string): unknown => {
    const env = /^env\(\s*(['"])([^'"]+)\1\s*(?:,\s*(['"])(.*?)\3\s*)?\)$/.exec(expression.trim());
    if (env) {
      const fromEnv = scope.env[env[2] as string];
      return fromEnv !== undefined && fromEnv !== '' ? fromEnv : (env[4] ?? '');
    }
    const vars = /^vars\.([\w-]+)$/.exec(expression.trim());
    if (vars && (vars[1] as string) in scope.vars)
      return resolveVariables(scope.vars[vars[1] as string], scope, depth + 1);
    return undefined;
  };
  if (whole) {
    const resolved = evaluate(whole[1] as string);
    return resolved === undefined ? value : resolved;
  }
  return value.replace(/\$\{([^}]+)\}/g, (text, expression: string) => {
    const resolved = evaluate(expression);
    return resolved === undefined ? text : String(resolved);
  });
}

/**
 * The fc3 functions of an s.yaml, with the fields the local runtime needs.
 *
 * @param env used for `${env(…)}`
 * @returns keyed by function name, in file order
 */
function readFunctions(sYamlPath: string, env: Record<string, string | undefined>): Map<string, FunctionSpec> {
  let document: SYamlDocument | null;
  try {
    document = parse(readFileSync(sYamlPath, 'utf8')) as SYamlDocument | null;
  } catch (error) {
    throw new Error(`cannot read ${sYamlPath}: ${error instanceof Error ? error.message : error}`, { cause: error });
  }
  const scope: VariableScope = { env, vars: document?.vars ?? {} };
  const functions = new Map<string, FunctionSpec>();
  for (const [resourceName, resource] of Object.entries(document?.resources ?? {})) {
    if (resource?.component !== 'fc3' || !resource.props) continue;
    const props = resource.props;
    const name = String(resolveVariables(props.functionName ?? resourceName, scope));
    const handler = String(resolveVariables(props.handler ?? 'index.handler', scope));
    const triggers: (Fc3Trigger | null)[] = Array.isArray(props.triggers) ? props.triggers : [];
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

export type { FunctionSpec };
export { readFunctions, resolveVariables };
