/** Types of `sYaml.mjs`. */

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

declare function readFunctions(sYamlPath: string, env: Record<string, string | undefined>): Map<string, FunctionSpec>;
declare function resolveVariables(
  value: unknown,
  scope: { env: Record<string, string | undefined>; vars: Record<string, unknown> },
): unknown;

export type { FunctionSpec };
export { readFunctions, resolveVariables };
