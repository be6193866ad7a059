/**
 * The largest callback the defaults accept (MAX_ALERTS = 5,000 alerts, under MAX_BODY_BYTES = 8 MB) through the built
 * webhook bundle in a fresh process, as FC runs it: answered 2xx with every alert stored (or delivered), inside the
 * function's memory (`memorySize: 256` in s.yaml), on the memory store and on the Tablestore store (the deployed
 * path, against the wire-compatible fake). The answer's time is bounded by the invocation's deadline, which every
 * store call and send respects (`tests/integration/delivery/deliveryEngine.test.ts`, "a slow store"); how long it takes at the
 * defaults is measured by `npm run bench`, not asserted here (the deadline is raised so a slow machine cannot turn
 * this test into a timing test).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MAX_ALERTS, DEFAULT_MAX_BODY_BYTES } from '../../../shared/constants';
import { invokeBundle } from '../../support/bundle';
import { httpEvent } from '../../support/fcEvents';
import { fakePagerDutyPerFile } from '../../support/pagerDutyPerFile';
import { startTablestoreOverFake, type TablestoreOverFake } from '../../support/tablestoreOverFake';

const ROUTING_KEY = 'LARGECALLBACKROUTINGKEY000000001';
/** FC bills and kills by the instance's memory: `memorySize` of alert-webhook in s.yaml. */
const FUNCTION_MEMORY_BYTES = 256 * 1024 * 1024;
const sample = JSON.parse(readFileSync(join(__dirname, '../../fixtures/arms/sample.json'), 'utf8'));

function largestCallback(): string {
  const alerts = Array.from({ length: DEFAULT_MAX_ALERTS }, (_, index) => ({
    ...sample.alerts[0],
    fingerprint: `large-${index}`,
    labels: { ...sample.alerts[0].labels, pod_name: `pod-${index}` },
  }));
  return JSON.stringify({ ...sample, alerts });
}

const fake = fakePagerDutyPerFile();
let tablestore: TablestoreOverFake;
beforeAll(async () => {
  tablestore = await startTablestoreOverFake();
});
afterAll(async () => {
  await tablestore.close();
});

describe('the largest callback the defaults accept', () => {
  const body = largestCallback();

  it('is within the defaults', () => {
    expect(Buffer.byteLength(body)).toBeLessThan(DEFAULT_MAX_BODY_BYTES);
  });

  it.each([
    { store: 'memory', env: () => ({ STORE: 'memory' }) },
    {
      store: 'tablestore',
      env: () => tablestore.env,
    },
  ])(
    'is answered 2xx on the $store store with every alert kept, inside the function’s memory',
    async ({ env }) => {
      // Act
      const { result, peakRssBytes } = await invokeBundle(
        'alert-webhook',
        httpEvent({ body }),
        // A long deadline: this test holds the outcome and the memory, not the time (a loaded CI machine is slow;
        // `npm run bench` measures the time at the defaults).
        {
          PAGERDUTY_ROUTING_KEY: ROUTING_KEY,
          PAGERDUTY_EVENTS_URL: fake.pd.url,
          LOG_LEVEL: 'WARN',
          WEBHOOK_DEADLINE_MS: '30000',
          ...env(),
        },
        // V8's heap as a 256 MB instance leaves it (node itself takes about 40 MB): a callback that needs more
        // crashes here instead of passing on this machine's roomy default heap.
        { timeoutMs: 60_000, nodeArgs: ['--max-old-space-size=160'] },
      );

      // Assess
      expect(result.statusCode).toBeLessThan(300);
      const answer = JSON.parse(result.body);
      expect(answer).toMatchObject({ received: DEFAULT_MAX_ALERTS, lost: 0, failed: 0, duplicates: 0 });
      expect(answer.delivered + answer.queued).toBe(DEFAULT_MAX_ALERTS);
      expect(peakRssBytes).toBeGreaterThan(0);
      expect(peakRssBytes).toBeLessThan(FUNCTION_MEMORY_BYTES);
    },
    90_000,
  );
});
