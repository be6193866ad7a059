/**
 * Webhooks a real Alertmanager sent, captured from the wire and kept byte for byte apart from whitespace
 * (`tests/fixtures/alertmanager/real-v4-*.json`), through the webhook's real handler chain in dry-run.
 *
 * Captured from Debian's `prometheus-alertmanager` 0.25.0 (`User-Agent: Alertmanager/0.25.0`,
 * `Content-Type: application/json`, `Authorization: Bearer …`), for an alert pushed with `POST /api/v2/alerts`
 * (route `group_by: [alertname]`, `group_wait: 0s`). What differs from ARMS's `$alertmanager_content`: `version` "4",
 * `groupKey` and `truncatedAlerts` present, no `notification_reason` (newer releases add it), a firing alert's `endsAt`
 * is Go's zero time `0001-01-01T00:00:00Z`, times are whole seconds when pushed so, `externalURL` is Alertmanager's own
 * base URL (here derived from the host name), and `fingerprint` is 16 hex digits (FNV-64a of the label set).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { PagerDutyEventBody } from '../../../shared/pagerduty/types';
import { MemoryStore } from '../../../shared/store/MemoryStore';
import { webhookHarness } from '../../support/webhook';

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/alertmanager/${name}`, import.meta.url));
const firing = fixture('real-v4-firing.json');
const resolved = fixture('real-v4-resolved.json');
const captured = JSON.parse(firing.toString('utf8'));
const FINGERPRINT: string = captured.alerts[0].fingerprint;
const LABELS: Record<string, string> = captured.alerts[0].labels;
/** As Alertmanager sent it. */
const HEADERS = { 'Content-Type': 'application/json', 'User-Agent': 'Alertmanager/0.25.0' };

async function events(store: MemoryStore) {
  return (await store.list()).map((row) => row.event as PagerDutyEventBody);
}

describe('intake: a webhook captured from a real Alertmanager 0.25', () => {
  it('is the v4 shape the reference documents (version, groupKey, truncatedAlerts; a zero endsAt while firing)', () => {
    expect(captured).toMatchObject({
      version: '4',
      status: 'firing',
      truncatedAlerts: 0,
      groupKey: expect.any(String),
    });
    expect(captured.alerts[0]).toMatchObject({ status: 'firing', endsAt: '0001-01-01T00:00:00Z' });
    expect(FINGERPRINT).toMatch(/^[0-9a-f]{16}$/);
  });

  it('stores one dry-run trigger under the fingerprint, from client Alertmanager', async () => {
    // Prepare
    const store = new MemoryStore();

    // Act
    const response = await webhookHarness({}, store).post(firing, { headers: HEADERS });

    // Assess
    expect(response.statusCode).toBe(200);
    expect(response.json).toMatchObject({ status: 'dry-run', received: 1, dryRun: 1, rejected: [] });
    const stored = await events(store);
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({
      event_action: 'trigger',
      dedup_key: FINGERPRINT,
      client: 'Alertmanager',
      client_url: `${captured.externalURL}/#/alerts?receiver=${captured.receiver}`,
      payload: {
        summary: captured.alerts[0].annotations.summary,
        source: LABELS.instance,
        severity: 'critical',
        // startsAt, not the zero endsAt.
        timestamp: new Date(captured.alerts[0].startsAt).toISOString(),
        custom_details: { labels: LABELS, notification: { format: 'alertmanager', group_key: captured.groupKey } },
      },
    });
    expect(stored[0]?.payload.custom_details).not.toHaveProperty('ends_at');
  });

  it('stores the captured resolve under the same dedup_key, and a repeat of the firing webhook as a duplicate', async () => {
    // Prepare
    const store = new MemoryStore();
    const bridge = webhookHarness({}, store);

    // Act
    const first = await bridge.post(firing, { headers: HEADERS });
    const repeat = await bridge.post(firing, { headers: HEADERS });
    const resolve = await bridge.post(resolved, { headers: HEADERS });

    // Assess
    expect([first.statusCode, repeat.statusCode, resolve.statusCode]).toEqual([200, 200, 200]);
    expect(repeat.json).toMatchObject({ duplicates: 1, dryRun: 0 });
    const stored = await events(store);
    expect(stored.map((event) => [event.event_action, event.dedup_key]).sort()).toEqual([
      ['resolve', FINGERPRINT],
      ['trigger', FINGERPRINT],
    ]);
  });
});
