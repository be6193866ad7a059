/**
 * The events of `npm run send-test`: one trigger that says plainly it is a test, and its resolve. Pure, so the
 * wording and the dedup key are tested without sending.
 */
import { EventAction, type Severity } from '../../shared/constants';
import type { PagerDutyEventBody } from '../../shared/pagerduty/types';

/** Prefix of every test page's dedup_key; a uuid follows, so two tests never merge into one PagerDuty alert. */
const TEST_DEDUP_PREFIX = 'arms-pagerduty-bridge/test/';

interface TestPageInput {
  /** Where the tool runs (`os.hostname()`), in the summary and as `source`. */
  host: string;
  /** Epoch ms of the send. */
  at: number;
  severity: Severity;
  /** The route's name (never its key). */
  route: string;
  /** A fresh uuid. */
  id: string;
  /** Seconds until the resolve, or undefined when kept open. */
  resolveAfterSeconds?: number;
}

/**
 * The trigger of a test page.
 *
 * @example
 * testTrigger({ host: 'ops-laptop', at: Date.now(), severity: 'info', route: 'default', id: randomUUID() });
 */
function testTrigger(input: TestPageInput): PagerDutyEventBody {
  const time = new Date(input.at).toISOString();
  const host = input.host.trim() === '' ? 'unknown host' : input.host;
  return {
    event_action: EventAction.TRIGGER,
    dedup_key: `${TEST_DEDUP_PREFIX}${input.id}`,
    payload: {
      summary: `ARMS → PagerDuty bridge test page from ${host} at ${time}`,
      source: host,
      severity: input.severity,
      timestamp: time,
      component: 'arms-pagerduty-bridge',
      class: 'test',
      custom_details: {
        purpose: 'A test of the route, sent by an operator with npm run send-test. No alert fired; nothing to fix.',
        route: input.route,
        resolves:
          input.resolveAfterSeconds === undefined
            ? 'kept open (--keep-open): resolve it in PagerDuty'
            : `automatically after ${input.resolveAfterSeconds} s`,
      },
    },
    client: 'arms-pagerduty-bridge',
  };
}

/** The resolve of a test page: same dedup_key, the same payload (the bridge always sends one). */
function testResolve(trigger: PagerDutyEventBody, at: number): PagerDutyEventBody {
  return {
    ...trigger,
    event_action: EventAction.RESOLVE,
    payload: { ...trigger.payload, timestamp: new Date(at).toISOString() },
  };
}

export type { TestPageInput };
export { TEST_DEDUP_PREFIX, testResolve, testTrigger };
