/**
 * Every secret a configuration holds, read from the raw environment whether or not the configuration is valid: a
 * banner or a problem line about a *bad* configuration must not print its keys either (`loadConfig` never returns
 * for a bad one, so its `config.secrets` cannot be used there).
 *
 * | Where | What counts as a secret |
 * |---|---|
 * | settings of type `secret`, `secret-url`, `secret-list` (`settings.ts`) | the value; each token of a list |
 * | `PAGERDUTY_ROUTES`, or the file `PAGERDUTY_ROUTES_FILE` names | every `routingKey` value (any spelling: `routing_key`…) |
 * | the same rules | the variable each `routingKeyEnv` names; the `routingKeyEnv` value itself when it does not look like a variable name (a key pasted into the wrong field) |
 *
 * Rules that are not valid JSON are searched for `"routingKey": "…"` pairs as text.
 */
import { readFileSync } from 'node:fs';
import { resolveCodePath } from './config';
import { Secret } from './Secret';
import { SETTINGS } from './settings';

type Env = Record<string, string | undefined>;

/** A property holding a key inline (`routingKey`, `routing_key`, `routingkey`…) or naming its variable. */
const INLINE_KEY_FIELD = /^routing_?key$/i;
const KEY_ENV_FIELD = /^routing_?key_?env$/i;
/** Text search of rules that do not parse. */
const INLINE_KEY_TEXT = /"routing_?key"\s*:\s*"((?:[^"\\]|\\.)*)"/gi;
const KEY_ENV_TEXT = /"routing_?key_?env"\s*:\s*"((?:[^"\\]|\\.)*)"/gi;

/** Variable names have an underscore (`PD_KEY_DB`); PagerDuty integration keys are letters and digits only. */
function looksLikeVariableName(value: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(value) && value.includes('_');
}

function nonEmpty(value: string | undefined): string | undefined {
  const text = value?.trim();
  return text === undefined || text === '' ? undefined : text;
}

/** The rules' text, as `loadConfig` would read it; undefined when there is none or the file cannot be read. */
function routesTextOf(env: Env, codeDir: string): string | undefined {
  const inline = nonEmpty(env.PAGERDUTY_ROUTES);
  const file = nonEmpty(env.PAGERDUTY_ROUTES_FILE);
  const texts = [inline];
  if (file !== undefined) {
    try {
      texts.push(readFileSync(resolveCodePath(file, codeDir), 'utf8'));
    } catch {
      // loadConfig reports the unreadable file; nothing in it can be printed then.
    }
  }
  const present = texts.filter((text): text is string => text !== undefined);
  return present.length === 0 ? undefined : present.join('\n');
}

function keysInRules(text: string, env: Env): string[] {
  const inline: string[] = [];
  const named: string[] = [];
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(visit);
    else if (value !== null && typeof value === 'object') {
      for (const [field, child] of Object.entries(value)) {
        if (typeof child === 'string' && INLINE_KEY_FIELD.test(field)) inline.push(child);
        else if (typeof child === 'string' && KEY_ENV_FIELD.test(field)) named.push(child);
        else visit(child);
      }
    }
  };
  try {
    visit(JSON.parse(text));
  } catch {
    for (const match of text.matchAll(INLINE_KEY_TEXT)) inline.push(match[1] as string);
    for (const match of text.matchAll(KEY_ENV_TEXT)) named.push(match[1] as string);
  }
  const fromEnv = named.map((name) => env[name]).filter((value): value is string => value !== undefined);
  const misplaced = named.filter((name) => !looksLikeVariableName(name));
  return [...inline, ...fromEnv, ...misplaced];
}

/**
 * @param env the raw environment
 * @param options.codeDir where a relative `PAGERDUTY_ROUTES_FILE` resolves (the code package) @default process.cwd()
 * @example
 * logger.addSecrets(configuredSecrets(process.env, { codeDir: __dirname }));
 */
function configuredSecrets(env: Env, options: { codeDir?: string } = {}): Secret[] {
  const values: string[] = [];
  for (const setting of SETTINGS) {
    const value = nonEmpty(env[setting.env]);
    if (value === undefined) continue;
    if (setting.type === 'secret' || setting.type === 'secret-url') values.push(value);
    else if (setting.type === 'secret-list') values.push(...value.split(',').map((token) => token.trim()));
  }
  const rules = routesTextOf(env, options.codeDir ?? process.cwd());
  if (rules !== undefined) values.push(...keysInRules(rules, env));
  return [...new Set(values.filter((value) => value !== ''))].map((value) => new Secret(value));
}

export { configuredSecrets };
