/**
 * The configuration an instance runs with, as plain data with every secret masked: the local runtime prints it at
 * start, and the health report includes it, so an operator sees what the bridge believes without reading env vars.
 */
import type { Env } from './config/config';
import { Secret } from './config/Secret';
import { SETTINGS } from './config/settings';
import type { BridgeInstance } from './instance';

interface InstanceSummary {
  ok: boolean;
  problems: string[];
  /** Each setting's effective value (secrets masked; unset without default: null). */
  settings: Record<string, string | number | boolean | null>;
  dryRun: boolean;
  unauthenticated: boolean;
}

function describeInstance(instance: BridgeInstance, env: Env = process.env): InstanceSummary {
  const settings: InstanceSummary['settings'] = {};
  for (const setting of SETTINGS) {
    const raw = env[setting.env]?.trim();
    const value = raw === undefined || raw === '' ? undefined : raw;
    if (setting.type === 'secret' || setting.type === 'secret-url') {
      settings[setting.env] = value === undefined ? null : new Secret(value).masked();
    } else if (setting.type === 'secret-list') {
      const count = value?.split(',').filter((token) => token.trim() !== '').length ?? 0;
      settings[setting.env] = count === 0 ? null : `<${count} token${count === 1 ? '' : 's'}>`;
    } else {
      settings[setting.env] = value ?? setting.default ?? null;
    }
  }
  if (!instance.ok) {
    return { ok: false, problems: [...instance.error.problems], settings, dryRun: false, unauthenticated: false };
  }
  const { config } = instance;
  settings.STORE = config.store.kind;
  settings.STORE_PATH = config.store.path;
  return {
    ok: true,
    problems: [],
    settings,
    dryRun: config.pagerduty.dryRun,
    unauthenticated: config.webhook.tokens.length === 0,
  };
}

export type { InstanceSummary };
export { describeInstance };
