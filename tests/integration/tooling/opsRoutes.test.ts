/**
 * `npm run routes` through its built bundle (`dist/ops/routes.js`): the webhook's intake, routing and event building
 * answer "which PagerDuty service will this alert go to?", with nothing stored and nothing sent.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { labelSetIdentity } from '../../../shared/alerts/identity';
import { assertBuilt, runOpsTool, type ToolRun } from '../../support/opsTool';

const FALLBACK_KEY = 'R0UTESF4LLBACKKEY000000000000001';
const DB_KEY = 'R0UTESDBKEY000000000000000000002';
const ROUTES = JSON.stringify([
  { name: 'db', matchers: ['team="db"', 'env!=staging'], routingKeyEnv: 'PD_KEY_DB', defaultSeverity: 'warning' },
  { name: 'k8s', matchers: ['team="k8s"'], mode: 'per-group' },
]);

let dir: string;
let env: Record<string, string>;
const routes = (args: string[], extra: Record<string, string> = {}) => runOpsTool('routes', args, { ...env, ...extra });
const noKey = (run: ToolRun) => {
  for (const key of [FALLBACK_KEY, DB_KEY]) expect(`${run.stdout}${run.stderr}`).not.toContain(key);
};

beforeAll(() => assertBuilt(['routes']));
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'bridge-routes-'));
  env = {
    PAGERDUTY_ROUTING_KEY: FALLBACK_KEY,
    PAGERDUTY_ROUTES: ROUTES,
    PD_KEY_DB: DB_KEY,
    STORE: 'file',
    STORE_PATH: join(dir, 'store'),
  };
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('npm run routes -- <labels>', () => {
  it('names the matching route, its mode, the masked key, the mapped severity and the dedup_key; exit 0', async () => {
    // Act
    const run = await routes(['alertname=HighCPU', 'team=db', 'severity=p1']);

    // Assess
    const identity = labelSetIdentity({ alertname: 'HighCPU', team: 'db', severity: 'p1' });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(
      `#0 firing HighCPU → route db (per-alert), key ****0002, severity critical (labels.severity "p1"), trigger, dedup_key ${identity}`,
    );
    expect(run.stdout).toContain('1 alert: 1 route to a key, 0 without a key, 0 rejected');
    expect(existsSync(join(dir, 'store'))).toBe(false);
    noKey(run);
  });

  it('falls back to the route default and the bridge default severity, and applies a route defaultSeverity', async () => {
    // Act
    const fallback = await routes(['alertname=DiskFull', 'team=web']);
    const staging = await routes(['alertname=DiskFull', 'team=db', 'env=staging']);
    const routeDefault = await routes(['alertname=DiskFull', 'team=db']);

    // Assess
    expect(fallback.stdout).toMatch(/→ route default \(per-alert\), key \*\*\*\*0001, severity error \(bridge default/);
    expect(staging.stdout).toContain('→ route default');
    expect(routeDefault.stdout).toContain(
      '→ route db (per-alert), key ****0002, severity warning (route defaultSeverity)',
    );
  });

  it('--event prints the event that would be sent, the routing key masked; --status resolved makes it a resolve', async () => {
    // Act
    const run = await routes(['alertname=HighCPU', 'team=db', '--status', 'resolved', '--event']);

    // Assess
    const json = run.stdout.slice(run.stdout.indexOf('{'), run.stdout.lastIndexOf('}') + 1);
    const event = JSON.parse(json);
    expect(run.code).toBe(0);
    expect(event).toMatchObject({
      routing_key: '****0002',
      event_action: 'resolve',
      dedup_key: labelSetIdentity({ alertname: 'HighCPU', team: 'db' }),
      payload: { summary: 'HighCPU', severity: 'warning', custom_details: { labels: { team: 'db' } } },
    });
    noKey(run);
  });

  it('says so, exit 1, when an alert routes to no key', async () => {
    // Act
    const run = await routes(['alertname=HighCPU', 'team=web'], { PAGERDUTY_ROUTING_KEY: '' });

    // Assess
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('→ route default (per-alert), NO ROUTING KEY');
    expect(run.stdout).toContain('0 route to a key, 1 without a key');
  });

  it.each([
    [[], 'give the labels of an alert'],
    [['HighCPU'], 'labels are <name>=<value>, not "HighCPU"'],
    [['a=b', '--status', 'FIRING'], '--status takes firing or resolved'],
    [['a=b', '--starts-at', 'yesterday'], '--starts-at takes an RFC 3339 time'],
    [['a=b', '--callback', 'x.json'], '--callback takes the alerts from the file'],
    [['--callback', 'does-not-exist.json'], 'cannot be read (ENOENT)'],
    [['a=b', '--verbose'], '--help'],
  ])('refuses %j with exit 2', async (args, message) => {
    // Act
    const run = await routes(args);

    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
  });

  it('prints the problems of an invalid configuration, exit 3, without its keys', async () => {
    // Act
    const run = await routes(['a=b'], {
      PAGERDUTY_ROUTES: JSON.stringify([{ name: 'db', routingKeyEnv: 'PD_KEY_GONE' }]),
    });

    // Assess
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('PAGERDUTY_ROUTES[0] ("db"): routingKeyEnv PD_KEY_GONE is not set');
    noKey(run);
  });

  it('--help prints the usage with an example, and reads no configuration', async () => {
    // Act
    const run = await routes(['--help'], { PAGERDUTY_ROUTES: 'not json' });

    // Assess
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Usage: npm run routes -- <label>=<value>');
    expect(run.stdout).toContain('npm run routes -- alertname=HighCPU team=db severity=p1');
    expect(run.stderr).toBe('');
  });
});

describe('npm run routes -- --callback <file>', () => {
  it('prints one line per alert, rejected alerts with their reason, exit 1 when any is rejected', async () => {
    // Act
    const run = await routes(['--callback', 'tests/fixtures/arms/multi-alert-with-invalid.json']);

    // Assess
    const lines = run.stdout.trim().split('\n');
    expect(run.code).toBe(1);
    expect(lines.map((line) => line.split(' ')[0])).toEqual(['#0', '#1', '#2', '#3', '#4', '5']);
    expect(lines[1]).toBe('#1 REJECTED: labels.severity must be a string (got a number)');
    expect(lines[3]).toBe('#3 REJECTED: labels is required');
    expect(lines[0]).toMatch(/^#0 firing .* → route default \(per-alert\), key \*\*\*\*0001, severity critical/);
    expect(lines[2]).toMatch(/^#2 resolved .*, resolve, dedup_key v1:/);
    expect(lines[5]).toBe('5 alerts: 2 route to a key, 0 without a key, 3 rejected');
  });

  it('routes the documented ARMS sample by its fingerprint, exit 0', async () => {
    // Act
    const run = await routes(['--callback', 'tests/fixtures/arms/sample.json']);

    // Assess
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('dedup_key bec72890cc2c7b4a027e008df0cd1013');
  });

  it('shows the alerts of a per-group route as one event, and a repeat in the callback as one delivery', async () => {
    // Prepare
    const alert = (name: string, team: string) => ({
      status: 'firing',
      labels: { alertname: name, team },
      startsAt: '2026-11-25T10:00:00Z',
    });
    const file = join(dir, 'callback.json');
    writeFileSync(
      file,
      JSON.stringify({
        receiver: 'ops',
        groupLabels: { team: 'k8s' },
        alerts: [alert('PodCrash', 'k8s'), alert('PodOOM', 'k8s'), alert('HighCPU', 'web'), alert('HighCPU', 'web')],
      }),
    );

    // Act
    const run = await routes(['--callback', file, '--event']);

    // Assess
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/#0 firing PodCrash → route k8s \(per-group\), key \*\*\*\*0001, .*dedup_key group:v1:/);
    expect(run.stdout).toMatch(/#1 firing PodOOM → route k8s \(per-group\).*, one event with #0/);
    expect(run.stdout).toMatch(
      /#3 firing HighCPU → route default .*, a repeat of #2 in this callback \(one delivery\)/,
    );
    expect(run.stdout.match(/"routing_key": "\*\*\*\*0001"/g)).toHaveLength(2);
  });

  it('says the ARMS console test routes nothing, exit 1', async () => {
    // Act
    const run = await routes(['--callback', 'tests/fixtures/arms/console-test-literal.txt']);

    // Assess
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('the webhook answers 200 "test" and routes nothing');
  });

  it('answers a callback the webhook would refuse with its status and code, exit 1', async () => {
    // Prepare
    const file = join(dir, 'bad.json');
    writeFileSync(file, '{"alerts": [');

    // Act
    const run = await routes(['--callback', file]);

    // Assess
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('the webhook would answer 400 malformed_json');
  });
});
