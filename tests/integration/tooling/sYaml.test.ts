/**
 * `s deploy` cannot run offline, so this checks s.yaml against what it deploys: the built bundles (the test run builds
 * first), the config loader's settings (shared/config/settings.ts) and the local runtime that reads the same file.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseSchedule } from '../../../scripts/local-runtime/cron';
import { readFunctions, resolveVariables } from '../../../scripts/local-runtime/readFunctions';
import { SETTINGS } from '../../../shared/config/settings';
import { FC_ENV_MAX_BYTES } from '../../../shared/constants';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const S_YAML_PATH = join(ROOT, 's.yaml');
const FUNCTIONS = ['alert-webhook', 'delivery-health'] as const;

/**
 * Settings the loader reads that s.yaml must NOT set: FC sets the ALIBABA_CLOUD_* credentials itself from the
 * function's role (setting them would replace short-lived STS credentials with static ones), and STORE_PATH is the
 * file store's, which a deployed function never uses. Local-only settings (`localOnly`) are excluded too.
 */
const NOT_DEPLOYED = new Set([
  'ALIBABA_CLOUD_ACCESS_KEY_ID',
  'ALIBABA_CLOUD_ACCESS_KEY_SECRET',
  'ALIBABA_CLOUD_SECURITY_TOKEN',
  'STORE_PATH',
]);

interface Trigger {
  triggerName: string;
  triggerType: string;
  qualifier?: string;
  triggerConfig: Record<string, unknown>;
}
interface Props {
  region: string;
  functionName: string;
  runtime: string;
  code: string;
  handler: string;
  memorySize?: number;
  timeout: number;
  internetAccess?: boolean;
  role: string;
  logConfig: unknown;
  environmentVariables: Record<string, string>;
  triggers: Trigger[];
}
interface SYaml {
  edition: string;
  name: string;
  vars: Record<string, string>;
  actions?: Record<string, { run: string; path?: string }[]>;
  resources: Record<string, { component: string; props: Props; actions?: Record<string, { run: string }[]> }>;
}

const document = parse(readFileSync(S_YAML_PATH, 'utf8')) as SYaml;
const propsOf = (name: string): Props => {
  const resource = document.resources[name];
  if (!resource) throw new Error(`s.yaml has no resource ${name}`);
  return resource.props;
};
const triggerOf = (name: string, type: string): Trigger => {
  const trigger = propsOf(name).triggers.find((candidate) => candidate.triggerType === type);
  if (!trigger) throw new Error(`${name} has no ${type} trigger`);
  return trigger;
};
/** A Serverless Devs variable reference as written in s.yaml: `variable('vars.region')` is `${vars.region}`. */
const variable = (expression: string) => `\${${expression}}`;
/** `${env('NAME', 'default')}` → { name, fallback }; undefined when the value is not exactly that. */
const envReference = (value: unknown) => {
  const match = /^\$\{env\('([A-Za-z_][A-Za-z0-9_]*)'(?:,\s*'([^']*)')?\)\}$/.exec(String(value));
  return match ? { name: match[1] as string, fallback: match[2] } : undefined;
};

describe('s.yaml', () => {
  it('is a Serverless Devs 3 project of two fc3 functions', () => {
    // Assess
    expect(document.edition).toBe('3.0.0');
    expect(Object.keys(document.resources).sort()).toEqual([...FUNCTIONS].sort());
    for (const name of FUNCTIONS) {
      expect(document.resources[name]?.component).toBe('fc3');
      expect(propsOf(name).functionName).toBe(name);
    }
  });

  it('builds both bundles in a pre-deploy action', () => {
    // Prepare
    const actions = [
      ...(document.actions?.['pre-deploy'] ?? []),
      ...FUNCTIONS.flatMap((name) => document.resources[name]?.actions?.['pre-deploy'] ?? []),
    ];

    // Assess
    expect(actions.map((action) => action.run)).toContain('npm ci && npm run build');
  });

  it.each(FUNCTIONS)('deploys %s from the bundle the build produces, with a handler it exports', (name) => {
    // Prepare
    const props = propsOf(name);
    const bundle = join(ROOT, props.code, 'index.js');

    // Assess
    expect(props.code).toBe(`./dist/${name}`);
    expect(props.handler).toBe('index.handler');
    expect(existsSync(bundle), `${bundle} is missing: run \`npm run build\` first`).toBe(true);
    expect(JSON.parse(readFileSync(join(ROOT, props.code, 'package.json'), 'utf8'))).toEqual({ type: 'commonjs' });
    const loaded = createRequire(import.meta.url)(bundle) as Record<string, unknown>;
    expect(typeof loaded.handler).toBe('function');
  });

  it.each(FUNCTIONS)('gives %s the runtime as a variable, not a literal', (name) => {
    // Assess
    expect(propsOf(name).runtime).toBe(variable('vars.runtime'));
    const reference = envReference(document.vars.runtime);
    expect(reference?.fallback).toMatch(/^nodejs\d+$/);
    // FC_* names are reserved inside functions; keep deploy-time variables clear of them too.
    expect(reference?.name).not.toMatch(/^FC_/);
  });

  it.each(FUNCTIONS)('runs %s under the dedicated RAM role, with logs and internet access', (name) => {
    // Prepare
    const props = propsOf(name);

    // Assess
    expect(props.role).toBe(`acs:ram::${variable("config('AccountID')")}:role/${variable('vars.roleName')}`);
    expect(envReference(document.vars.roleName)?.fallback).toBe('arms-pagerduty-bridge');
    expect(JSON.stringify(document)).not.toMatch(/aliyunfcdefaultrole/i);
    expect(props.region).toBe(variable('vars.region'));
    expect(props.logConfig).toBe('auto');
    expect(props.internetAccess).toBe(true);
  });

  it('exposes alert-webhook through an anonymous POST-only HTTP trigger (the function checks tokens itself)', () => {
    // Prepare
    const props = propsOf('alert-webhook');
    const trigger = triggerOf('alert-webhook', 'http');

    // Assess
    expect(props.memorySize).toBe(256);
    expect(props.timeout).toBe(10);
    expect(trigger.triggerConfig.authType).toBe('anonymous');
    expect(trigger.triggerConfig.methods).toEqual(['POST']);
  });

  it('runs delivery-health every minute on a cron the local runtime understands', () => {
    // Prepare
    const trigger = triggerOf('delivery-health', 'timer');

    // Act
    const schedule = parseSchedule(String(trigger.triggerConfig.cronExpression));

    // Assess
    expect(propsOf('delivery-health').timeout).toBe(60);
    expect(trigger.triggerConfig.cronExpression).toBe('0 * * * * *');
    expect(trigger.triggerConfig.enable).toBe(true);
    expect(typeof trigger.triggerConfig.payload).toBe('string');
    expect(schedule.kind).toBe('cron');
  });

  describe.each(FUNCTIONS)('environment of %s', (name) => {
    const variables = propsOf(name).environmentVariables;
    const readBy = SETTINGS.filter((setting) => (setting.functions as readonly string[]).includes(name));

    it('sets only variables the config loader reads for this function', () => {
      // Assess
      for (const variable of Object.keys(variables)) {
        const setting = SETTINGS.find((candidate) => candidate.env === variable);
        expect(setting, `${variable} is not in shared/config/settings.ts`).toBeDefined();
        expect(readBy, `${variable} is not read by ${name}`).toContain(setting);
        expect(setting?.localOnly ?? false, `${variable} is local-only`).toBe(false);
        expect(NOT_DEPLOYED.has(variable), `${variable} must not be set on FC`).toBe(false);
        // FC reserves FC_*; FC_FUNCTION_NAME in particular is what marks a function as deployed.
        expect(variable).not.toMatch(/^FC_/);
      }
    });

    it('sets every deployable variable the loader reads for this function', () => {
      // Prepare
      const expected = readBy
        .filter((setting) => !setting.localOnly && !NOT_DEPLOYED.has(setting.env))
        .map((setting) => setting.env);

      // Assess
      expect(Object.keys(variables).sort()).toEqual([...expected].sort());
    });

    it('fixes STORE to tablestore and reads everything else from the deploying shell under the same name', () => {
      // Assess
      expect(variables.STORE).toBe('tablestore');
      for (const [variable, value] of Object.entries(variables)) {
        if (variable === 'STORE') continue;
        // Empty fallbacks: the loader's defaults (settings.ts) are the only defaults.
        expect(envReference(value), `${variable}: ${value}`).toEqual({ name: variable, fallback: '' });
      }
    });

    it('never holds a secret literally', () => {
      // Prepare
      const secrets = SETTINGS.filter((setting) => setting.type.startsWith('secret')).map((setting) => setting.env);

      // Assess
      for (const variable of secrets.filter((secret) => secret in variables)) {
        expect(envReference(variables[variable])).toEqual({ name: variable, fallback: '' });
      }
    });

    it('stays far inside the 4 KB FC allows for all variables of a function, when left at defaults', () => {
      // Prepare
      const resolved = Object.entries(variables).map(([key, value]) => {
        const text = String(resolveVariables(value, { env: {}, vars: document.vars }));
        return Buffer.byteLength(key) + Buffer.byteLength(text);
      });

      // Assess
      expect(resolved.reduce((sum, bytes) => sum + bytes, 0)).toBeLessThan(FC_ENV_MAX_BYTES / 2);
    });
  });

  it('is what the local runtime reads: same handlers, timeouts and triggers', () => {
    // Act
    const functions = readFunctions(S_YAML_PATH, {});

    // Assess
    expect([...functions.keys()]).toEqual([...FUNCTIONS]);
    expect(functions.get('alert-webhook')).toMatchObject({
      handler: 'index.handler',
      timeout: 10,
      memory: 256,
      region: 'cn-hangzhou',
      runtime: 'nodejs20',
      httpTrigger: { authType: 'anonymous', methods: ['POST'] },
    });
    expect(functions.get('delivery-health')).toMatchObject({
      handler: 'index.handler',
      timeout: 60,
      timerTrigger: { name: 'timer', cronExpression: '0 * * * * *' },
    });
    expect(functions.get('alert-webhook')?.timerTrigger).toBeUndefined();
  });
});
