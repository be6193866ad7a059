/**
 * `npm run check-config` through its built bundle (`dist/ops/checkConfig.js`): each function's configuration loaded
 * as the function loads it, by default as deployed (only what s.yaml passes, FC_FUNCTION_NAME set), offline.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { assertBuilt, runOpsTool, type ToolRun } from '../../support/opsTool';

const ROUTING_KEY = 'CHECKC0NFIGR0UTINGKEY00000000001';
const DB_KEY = 'CHECKC0NFIGDBKEY0000000000000002';
const TOKEN = 'check-config-token-0003';
/** A deployable configuration: tokens, a key, Tablestore. */
const DEPLOYABLE = {
  WEBHOOK_TOKENS: TOKEN,
  PAGERDUTY_ROUTING_KEY: ROUTING_KEY,
  TABLESTORE_ENDPOINT: 'https://bridge.cn-hangzhou.ots.aliyuncs.com',
  TABLESTORE_INSTANCE: 'bridge',
};

let dir: string;
const check = (args: string[], env: Record<string, string>) =>
  runOpsTool('checkConfig', args, { STORE_PATH: join(dir, 'store'), ...env });
const noSecret = (run: ToolRun) => {
  for (const secret of [ROUTING_KEY, DB_KEY, TOKEN]) expect(`${run.stdout}${run.stderr}`).not.toContain(secret);
};

beforeAll(() => assertBuilt(['checkConfig']));
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'bridge-check-config-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('npm run check-config (as deployed)', () => {
  it('prints a masked one-screen summary of both functions, exit 0', async () => {
    // Prepare
    const routes = JSON.stringify([
      { name: 'db', matchers: ['team="db"'], routingKey: DB_KEY, defaultSeverity: 'warning' },
    ]);

    // Act
    const run = await check([], { ...DEPLOYABLE, PAGERDUTY_ROUTES: routes });

    // Assess
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(
      'Configuration as deployed (s.yaml environment, FC_FUNCTION_NAME set; secrets masked)',
    );
    expect(run.stdout).toContain('alert-webhook: OK');
    expect(run.stdout).toContain('delivery-health: OK');
    expect(run.stdout).toContain('store        tablestore https://bridge.cn-hangzhou.ots.aliyuncs.com instance bridge');
    expect(run.stdout).toMatch(/WEBHOOK_TOKENS\s+<1 token>/);
    expect(run.stdout).toMatch(/PAGERDUTY_ROUTING_KEY\s+\*\*\*\*0001/);
    expect(run.stdout).toContain('db: team="db" → ****0002 (route), per-alert, default severity warning');
    expect(run.stdout).toContain('default: (every alert) → ****0001 (fallback), per-alert');
    expect(run.stdout).toMatch(/environment {2}\d+ of 4096 bytes/);
    expect(run.stdout.split('\n').length).toBeLessThan(40);
    noSecret(run);
  });

  it('names each problem by its setting: no tokens, no Tablestore, a bad number', async () => {
    // Act
    const tokens = await check(['--function', 'alert-webhook'], { PAGERDUTY_ROUTING_KEY: ROUTING_KEY });
    const store = await check(['--function', 'delivery-health'], { PAGERDUTY_ROUTING_KEY: ROUTING_KEY });
    const number = await check([], { ...DEPLOYABLE, STORE_TIMEOUT_MS: 'soon' });

    // Assess
    expect(tokens.code).toBe(1);
    expect(tokens.stdout).toContain('alert-webhook: 1 PROBLEM\n  - WEBHOOK_TOKENS is required when deployed');
    expect(tokens.stdout).not.toContain('delivery-health');
    expect(store.stdout).toContain('  - STORE=tablestore needs TABLESTORE_ENDPOINT and TABLESTORE_INSTANCE');
    expect(number.stdout).toContain('  - STORE_TIMEOUT_MS must be an integer');
    noSecret(tokens);
  });

  it('finds a routingKeyEnv variable s.yaml does not pass to the functions, and says how to pass it', async () => {
    // Prepare
    const routes = JSON.stringify([{ name: 'db', matchers: ['team="db"'], routingKeyEnv: 'PD_KEY_DB' }]);

    // Act
    const deployed = await check([], { ...DEPLOYABLE, PAGERDUTY_ROUTES: routes, PD_KEY_DB: DB_KEY });
    const local = await check(['--local'], { ...DEPLOYABLE, PAGERDUTY_ROUTES: routes, PD_KEY_DB: DB_KEY });

    // Assess
    expect(deployed.code).toBe(1);
    expect(deployed.stdout).toContain('  - PAGERDUTY_ROUTES[0] ("db"): routingKeyEnv PD_KEY_DB is not set');
    expect(deployed.stdout).toContain(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: s.yaml's own syntax, printed as is
      "PD_KEY_DB is set in this shell but s.yaml does not pass it to alert-webhook: add PD_KEY_DB: ${env('PD_KEY_DB', '')}",
    );
    expect(local.code).toBe(0);
    expect(local.stdout).toContain('db: team="db" → ****0002 (PD_KEY_DB), per-alert');
    noSecret(deployed);
    noSecret(local);
  });

  it("refuses an environment over FC's 4 KB", async () => {
    // Prepare
    const routes = JSON.stringify(
      Array.from({ length: 40 }, (_, index) => ({
        name: `team-${index}`,
        matchers: [`team="team-number-${index}"`, `env!~"staging|test|dev"`],
        routingKey: ROUTING_KEY,
      })),
    );

    // Act
    const run = await check(['--function', 'alert-webhook'], { ...DEPLOYABLE, PAGERDUTY_ROUTES: routes });

    // Assess
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/the environment s\.yaml gives alert-webhook is \d+ bytes, over FC's 4096/);
    noSecret(run);
  });

  it('reads PAGERDUTY_ROUTES_FILE from the code package, as the function does', async () => {
    // Act
    const run = await check(['--function', 'alert-webhook'], { ...DEPLOYABLE, PAGERDUTY_ROUTES_FILE: 'routes.json' });

    // Assess
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('  - PAGERDUTY_ROUTES_FILE (routes.json) cannot be read: ENOENT');
    expect(run.stdout).toContain('PAGERDUTY_ROUTES_FILE is read from the code package ./dist/alert-webhook/');
  });
});

describe('npm run check-config -- --local / --json', () => {
  it('--local checks what npm start runs: dry-run and unauthenticated, exit 0', async () => {
    // Act
    const run = await check(['--local'], {});

    // Assess
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Configuration as npm start runs it');
    expect(run.stdout).toContain(`store        file store ${join(dir, 'store')}`);
    expect(run.stdout).toContain('DRY-RUN      nothing is sent to PagerDuty (no routing key configured)');
    expect(run.stdout).toContain('UNAUTHENTICATED');
  });

  it('--json gives problems, warnings and the masked summary per function', async () => {
    // Act
    const run = await check(['--json'], { PAGERDUTY_ROUTING_KEY: ROUTING_KEY });

    // Assess
    const result = JSON.parse(run.stdout);
    expect(run.code).toBe(1);
    expect(result.deployed).toBe(true);
    expect(result.functions.map((fn: { name: string }) => fn.name)).toEqual(['alert-webhook', 'delivery-health']);
    expect(result.functions[0].problems).toEqual([
      'WEBHOOK_TOKENS is required when deployed (or set ALLOW_UNAUTHENTICATED=true)',
    ]);
    expect(result.functions[1].summary.settings.PAGERDUTY_ROUTING_KEY).toBe('****0001');
    noSecret(run);
  });

  it.each([
    [['--function', 'nope'], 'has no function "nope" (it has alert-webhook, delivery-health)'],
    [['--s-yaml', 'missing.yaml'], 'cannot read'],
    [['extra'], '--help'],
    [['--verbose'], '--help'],
  ])('refuses %j with exit 2', async (args, message) => {
    // Act
    const run = await check(args, {});

    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
  });

  it('--help prints the usage with an example', async () => {
    // Act
    const run = await check(['--help'], {});

    // Assess
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Usage: npm run check-config');
    expect(run.stdout).toContain('Example (CI, before s deploy)');
    expect(run.stderr).toBe('');
  });
});
