/**
 * What init starts for each configuration (`shared/warmUp.ts`): a connection to PagerDuty unless nothing is sent,
 * one to Tablestore and its SDK only on the Tablestore store.
 */
import { describe, expect, it } from 'vitest';
import { applyRoutingKeyRule, loadConfig } from '../../shared/config/config';
import { warmUpPlan } from '../../shared/warmUp';

const KEY = 'R0UT1NGKEYR0UT1NGKEYR0UT1NGKEY32';
const TABLESTORE = {
  STORE: 'tablestore',
  TABLESTORE_ENDPOINT: 'https://bridge.cn-hangzhou.ots.aliyuncs.com',
  TABLESTORE_INSTANCE: 'bridge',
};

describe('Function: warmUpPlan', () => {
  it.each([
    ['dry-run on the memory store', { STORE: 'memory' }, [], false],
    [
      'sending on the file store',
      { STORE: 'file', PAGERDUTY_ROUTING_KEY: KEY },
      ['https://events.pagerduty.com/v2/enqueue'],
      false,
    ],
    ['dry-run on Tablestore', TABLESTORE, ['https://bridge.cn-hangzhou.ots.aliyuncs.com'], true],
    [
      'sending on Tablestore, EU events host',
      { ...TABLESTORE, PAGERDUTY_ROUTING_KEY: KEY, PAGERDUTY_EVENTS_URL: 'https://events.eu.pagerduty.com/v2/enqueue' },
      ['https://events.eu.pagerduty.com/v2/enqueue', 'https://bridge.cn-hangzhou.ots.aliyuncs.com'],
      true,
    ],
  ])('%s', (_name, env, connect, loadSdk) => {
    // Prepare: as the instance builds it (no route keys here)
    const config = applyRoutingKeyRule(loadConfig(env), false);

    // Act
    const plan = warmUpPlan(config);

    // Assess
    expect(plan).toEqual({ connect, loadSdk });
  });
});
