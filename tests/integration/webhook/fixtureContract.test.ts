/**
 * Contract: for every callback fixture (ARMS and Alertmanager, documented and captured), each alert's event as the
 * bridge builds it is accepted by the fake PagerDuty, which validates like PagerDuty (limits, severity enum, 512 KB).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readCallback } from '../../../shared/alerts/readCallback';
import { Secret } from '../../../shared/config/Secret';
import { DEFAULT_MAX_ALERTS, DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_JSON_DEPTH } from '../../../shared/constants';
import { buildEvent } from '../../../shared/pagerduty/buildEvent';
import { sendEvent } from '../../../shared/pagerduty/client';
import { eventProblems } from '../../../shared/pagerduty/eventProblems';
import { fakePagerDutyPerFile } from '../../support/pagerDutyPerFile';

const limits = {
  maxBodyBytes: DEFAULT_MAX_BODY_BYTES,
  maxAlerts: DEFAULT_MAX_ALERTS,
  maxJsonDepth: DEFAULT_MAX_JSON_DEPTH,
};
const routingKey = new Secret('F1XTURECONTRACTKEY00000000000001');
const fixtures = ['arms', 'alertmanager'].flatMap((dir) =>
  readdirSync(new URL(`../../fixtures/${dir}/`, import.meta.url))
    .filter((name) => name.endsWith('.json'))
    .map((name) => `${dir}/${name}`),
);

const fake = fakePagerDutyPerFile();

describe('Contract: every fixture, built and sent', () => {
  it('covers the fixtures', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(8);
  });

  it.each(fixtures)('%s: every valid alert builds an event PagerDuty accepts', async (path) => {
    // Prepare
    const body = readFileSync(new URL(`../../fixtures/${path}`, import.meta.url));
    const reading = readCallback(body, 'application/json', limits);
    if (reading.kind !== 'callback') throw new Error(`${path} is not a callback`);

    // Act
    const results = [];
    for (const alert of reading.group.alerts) {
      const { event } = buildEvent(alert, reading.group, { receivedAt: Date.now() });
      expect(eventProblems({ routing_key: routingKey.reveal(), ...event })).toEqual([]);
      results.push(await sendEvent({ url: fake.pd.url, routingKey, event, timeoutMs: 5_000 }));
    }

    // Assess
    expect(results.length).toBeGreaterThan(0);
    for (const result of results) expect(result).toMatchObject({ ok: true, statusCode: 202 });
  });
});
