/**
 * Pins, byte for byte, what the bridge sends to PagerDuty and stores for every callback fixture (`tests/fixtures/arms/`,
 * `tests/fixtures/alertmanager/`) and a few bodies made from them that reach the builders' other branches (cuts, the
 * 512 KB degradation, links, images, label identities, route defaults): through the real handler chain, in per-alert
 * and per-group mode, sent to the fake PagerDuty and in dry-run, on a fixed clock.
 *
 * Performance work on the intake and the builders must leave `__snapshots__/eventSnapshot.txt` unchanged. When an event
 * is meant to change, regenerate it (`npx vitest run --config tests/vitest.config.mts -u <this file>`) and review the
 * diff line by line: each line is one exact JSON body.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../../shared/store/MemoryStore';
import { fakePagerDutyPerFile } from '../../support/pagerDutyPerFile';
import { webhookHarness } from '../../support/webhook';

const ROUTING_KEY = 'SNAPSH0TROUTINGKEY00000000000001';
const DB_ROUTING_KEY = 'SNAPSH0TROUTINGKEY0000000000000D';
/** The invocation clock: a resolve without `endsAt` is stamped with it. */
const NOW = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
/** Lines longer than this are written as their SHA-256 and length (the degraded 512 KB events). */
const MAX_LINE = 4_000;

const fixtures = ['arms', 'alertmanager'].flatMap((dir) =>
  readdirSync(new URL(`../../fixtures/${dir}/`, import.meta.url))
    .filter((name) => name.endsWith('.json') || name.endsWith('.txt'))
    .sort()
    .map((name) => `${dir}/${name}`),
);
const fixture = (path: string) => readFileSync(new URL(`../../fixtures/${path}`, import.meta.url));

// biome-ignore lint/suspicious/noExplicitAny: the fixture is plain JSON, varied per case.
type Json = any;
const sample = (): Json => JSON.parse(fixture('arms/sample.json').toString('utf8'));

/** Bodies made from the sample, one per builder branch the fixtures leave out. */
function variants(): Array<[string, string]> {
  const withAlerts = (alerts: Json[], extra: Json = {}) => JSON.stringify({ ...sample(), ...extra, alerts });
  const [template] = sample().alerts;
  return [
    [
      'label identities: no fingerprint, a fingerprint over 255 characters, a __proto__ label',
      withAlerts([
        { ...template, fingerprint: undefined, labels: { ...template.labels, pod_name: 'p-1' } },
        { ...template, fingerprint: 'f'.repeat(256), labels: { ...template.labels, pod_name: 'p-2' } },
      ]).replace('"pod_name":"p-2"', '"pod_name":"p-2","__proto__":"x"'),
    ],
    [
      'a summary over 1024 code points, Chinese and emoji; resolved without endsAt; blank fields',
      withAlerts([
        {
          ...template,
          annotations: { ...template.annotations, message: `告警🔥${'数据库连接失败'.repeat(200)}` },
        },
        {
          ...template,
          status: 'resolved',
          endsAt: '0001-01-01T00:00:00Z',
          labels: { alertname: ' ', team: '', severity: 'bogus', _aliyun_arms_alert_level: 'P1' },
          annotations: {},
        },
      ]),
    ],
    [
      'links and images: runbook, dashboard, insights, generatorURL, bad protocols, duplicates',
      withAlerts(
        [
          {
            ...template,
            generatorURL: 'https://arms.console.aliyun.com/prom/graph?g0.expr=up',
            annotations: {
              ...template.annotations,
              runbook_url: 'javascript:alert(1)',
              runbook: 'https://wiki.example.com/runbook?a=1&b=2',
              dashboard_url: 'https://grafana.example.com/d/abc',
              image_url: 'http://img.example.com/a.png',
              image: 'https://img.example.com/b.png',
              snapshot_url: 'https://img.example.com/b.png',
            },
            labels: { ...template.labels, _aliyun_arms_insights_analyze_link: 'https://insights.example.com/x' },
          },
        ],
        { externalURL: 'ftp://not-web.example.com/' },
      ),
    ],
    [
      'an event over 512 KB, degraded step by step',
      withAlerts([
        {
          ...template,
          annotations: {
            ...template.annotations,
            huge1: '巨'.repeat(100_000),
            huge2: `${'大'.repeat(99_999)}🔥`,
            huge3: 'x'.repeat(100_000),
          },
        },
      ]),
    ],
    [
      'Alertmanager with a receiver: client_url to its alert list; team=db takes the db route',
      JSON.stringify({
        version: '4',
        groupKey: '{}:{alertname="HighCPU"}',
        truncatedAlerts: 0,
        status: 'firing',
        receiver: 'ops team',
        groupLabels: { alertname: 'HighCPU' },
        commonLabels: { alertname: 'HighCPU' },
        commonAnnotations: {},
        externalURL: 'http://alertmanager.example.com:9093/',
        alerts: [
          {
            status: 'firing',
            labels: { alertname: 'HighCPU', instance: 'db-1:9100', team: 'db' },
            annotations: { description: 'CPU {{ $value }} on {{ $labels.instance }}' },
            startsAt: '2026-01-01T00:00:00.123456789Z',
            endsAt: '0001-01-01T00:00:00Z',
            generatorURL: 'http://prometheus.example.com/graph?g0.expr=cpu',
            fingerprint: '0123456789abcdef',
          },
          {
            status: 'resolved',
            labels: { alertname: 'HighCPU', instance: 'web-1:9100', severity: 'warning' },
            annotations: { summary: 'CPU high on web-1' },
            startsAt: '2026-01-01T00:00:00Z',
            endsAt: '2026-01-01T00:10:00Z',
            fingerprint: 'fedcba9876543210',
          },
        ],
      }),
    ],
  ];
}

const bodies: Array<[string, Buffer | string]> = [
  ...fixtures.map((path): [string, Buffer] => [path, fixture(path)]),
  ...variants(),
];

/** The configurations each body goes through; `sent: false` is dry-run (events stored and logged only). */
const CONFIGS: Array<{ name: string; env: Record<string, string>; sent: boolean }> = [
  { name: 'per-alert', env: {}, sent: true },
  { name: 'per-group', env: { DELIVERY_MODE: 'per-group' }, sent: true },
  {
    name: 'routes',
    env: {
      PAGERDUTY_ROUTES: JSON.stringify([
        { name: 'db', matchers: ['team="db"'], routingKey: DB_ROUTING_KEY, defaultSeverity: 'critical' },
        { name: 'info', matchers: ['alertname=~".+"'], defaultSeverity: 'info' },
      ]),
    },
    sent: true,
  },
  { name: 'dry-run', env: {}, sent: false },
];

const line = (text: string) =>
  text.length <= MAX_LINE
    ? text
    : `sha256:${createHash('sha256').update(text).digest('hex')} (${text.length} characters) ${text.slice(0, 200)}…`;

const fake = fakePagerDutyPerFile();

/** Every line the snapshot holds for one body in one configuration. */
async function run(name: string, body: Buffer | string, config: (typeof CONFIGS)[number]): Promise<string[]> {
  const env = config.sent
    ? { PAGERDUTY_ROUTING_KEY: ROUTING_KEY, PAGERDUTY_EVENTS_URL: fake.pd.url, ...config.env }
    : config.env;
  const now = () => NOW;
  const bridge = webhookHarness(env, new MemoryStore({ now }), now);
  const before = fake.pd.events.length;
  const response = await bridge.post(body, { headers: { 'Content-Type': 'text/plain; charset=UTF-8' } });
  const sent = fake.pd.events
    .slice(before)
    .map((request) => request.raw)
    .sort();
  const stored = (await bridge.store.list())
    .sort((a, b) => (a.deliveryKey < b.deliveryKey ? -1 : a.deliveryKey > b.deliveryKey ? 1 : 0))
    .map((record) => `stored ${record.deliveryKey} ${record.status} ${line(JSON.stringify(record.event))}`);
  return [
    `## ${name} · ${config.name}`,
    `answer ${response.statusCode} ${line(response.body)}`,
    ...sent.map((raw) => `sent ${line(raw)}`),
    ...stored,
    '',
  ];
}

describe('Events sent and stored for every fixture (snapshot)', () => {
  it('covers every fixture', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(11);
  });

  it('sends and stores exactly the pinned events', async () => {
    // Act
    const lines: string[] = [];
    for (const [name, body] of bodies) for (const config of CONFIGS) lines.push(...(await run(name, body, config)));

    // Assess
    await expect(lines.join('\n')).toMatchFileSnapshot('./__snapshots__/eventSnapshot.txt');
  });
});
