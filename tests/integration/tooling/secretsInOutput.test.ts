/**
 * Issue #16 item 10: every configured secret is masked in every output, good configuration or bad. A routing key
 * written inline in PAGERDUTY_ROUTES (or pasted into the wrong field) must not appear in the `npm start` banner, in
 * `npm run check-config`, `npm run routes` or `npm run trace`, nor in a configuration problem quoting the rules.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, runOpsTool } from '../../support/opsTool';
import { type RunningRuntime, startRuntime } from '../../support/runtime';

const INLINE_KEY = 'SECRETINLINEKEY00000000000000001';
const ENV_KEY = 'SECRETENVKEY00000000000000000002';
const SHORT_KEY = 'SECRETSHORTKEY0003';
const PASTED_KEY = 'SECRETPASTEDKEY00000000000000004';
const FALLBACK_KEY = 'SECRETFALLBACKKEY000000000000005';
const TOKEN = 'secret-webhook-token-0006';
const ALL = [INLINE_KEY, ENV_KEY, SHORT_KEY, PASTED_KEY, FALLBACK_KEY, TOKEN];

/** A good configuration with every kind of key, and bad ones that quote keys back in their problems. */
const CONFIGURATIONS: Record<string, Record<string, string>> = {
  valid: {
    PAGERDUTY_ROUTING_KEY: FALLBACK_KEY,
    WEBHOOK_TOKENS: TOKEN,
    PAGERDUTY_ROUTES: JSON.stringify([
      { name: 'db', matchers: ['team="db"'], routingKey: INLINE_KEY },
      { name: 'web', matchers: ['team="web"'], routingKeyEnv: 'PD_KEY_WEB' },
    ]),
    PD_KEY_WEB: ENV_KEY,
  },
  'invalid: a short inline key and a key pasted into routingKeyEnv': {
    PAGERDUTY_ROUTING_KEY: FALLBACK_KEY,
    PAGERDUTY_ROUTES: JSON.stringify([
      { name: 'db', routingKey: SHORT_KEY },
      { name: 'web', routingKeyEnv: PASTED_KEY },
      { name: 'ops', routingKey: INLINE_KEY, unknownField: true },
    ]),
  },
  'invalid: rules that are not JSON': {
    PAGERDUTY_ROUTES: `[{"name": "db", "routingKey": "${INLINE_KEY}"},, ]`,
    WEBHOOK_TOKENS: TOKEN,
  },
};

const expectNoSecret = (text: string) => {
  for (const secret of ALL) expect(text).not.toContain(secret);
};

describe('npm start banner', () => {
  let runtime: RunningRuntime | undefined;
  afterEach(async () => {
    await runtime?.stop();
    runtime = undefined;
  });

  it.each(Object.entries(CONFIGURATIONS))('masks every key of a %s configuration', async (name, env) => {
    // Act
    runtime = await startRuntime({ env });

    // Assess
    const output = runtime.output();
    expect(output).toContain('Configuration (alert-webhook; secrets masked)');
    if (name === 'valid') {
      expect(output).toMatch(/db: team="db" → key \*\*\*\*0001 \(route\), per-alert/);
      expect(output).toMatch(/web: team="web" → key \*\*\*\*0002 \(PD_KEY_WEB\), per-alert/);
      expect(output).toContain('"routingKey":"<secret>"');
    } else {
      expect(output).toContain('CONFIGURATION PROBLEMS');
    }
    expectNoSecret(output);
  });
});

describe('npm run check-config', () => {
  beforeAll(() => assertBuilt(['checkConfig']));

  it.each(Object.entries(CONFIGURATIONS))('masks every key of a %s configuration', async (name, env) => {
    // Act
    const local = await runOpsTool('checkConfig', ['--local'], env);
    const deployed = await runOpsTool('checkConfig', ['--json'], env);

    // Assess
    expect(local.code).toBe(name === 'valid' ? 0 : 1);
    expect(local.stdout).toContain(name === 'valid' ? 'alert-webhook: OK' : 'alert-webhook: 1 PROBLEM');
    expectNoSecret(local.stdout + local.stderr);
    expectNoSecret(deployed.stdout + deployed.stderr);
  });
});

describe('npm run routes', () => {
  beforeAll(() => assertBuilt(['routes']));

  it.each(Object.entries(CONFIGURATIONS))('masks every key of a %s configuration', async (name, env) => {
    // Act
    const run = await runOpsTool('routes', ['alertname=HighCPU', 'team=db', '--event'], env);

    // Assess
    expect(run.code).toBe(name === 'valid' ? 0 : 3);
    if (name === 'valid') expect(run.stdout).toContain('"routing_key": "****0001"');
    expectNoSecret(run.stdout + run.stderr);
  });
});

describe('npm run trace', () => {
  beforeAll(() => assertBuilt(['trace']));

  it.each(Object.entries(CONFIGURATIONS))('masks every key of a %s configuration', async (name, env) => {
    // Prepare
    const storePath = mkdtempSync(join(tmpdir(), 'bridge-secrets-'));

    // Act
    const run = await runOpsTool('trace', ['no-such-fingerprint'], { ...env, STORE: 'file', STORE_PATH: storePath });
    rmSync(storePath, { recursive: true, force: true });

    // Assess
    expect(run.code).toBe(name === 'valid' ? 1 : 3);
    expectNoSecret(run.stdout + run.stderr);
  });
});
