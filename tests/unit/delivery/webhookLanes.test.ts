/**
 * The webhook's lanes with controlled interleavings: the lane the test starts (in place of `sendLane`) takes what it is
 * fed and starts and answers each send when the test says so, so every step of the bookkeeping `inlineCount` decides
 * from is observed, never timed. The clock is the test's.
 */
import { describe, expect, it } from 'vitest';
import { Secret } from '../../../shared/config/Secret';
import { DeliveryMode } from '../../../shared/constants';
import type { Planned } from '../../../shared/delivery/deliveryRules';
import type { RouteChoice } from '../../../shared/delivery/Router';
import type { LaneResult } from '../../../shared/delivery/sendLane';
import { WebhookLanes } from '../../../shared/delivery/webhookLanes';
import type { DeliveryRecord } from '../../../shared/store/DeliveryRecord';
import { deliveryRecord } from '../../support/deliveryRecords';

const AT = 1_700_000_000_000;
const KEY_A = new Secret('KEYAKEYAKEYAKEYAKEYAKEYAKEYAKEY1');
const ROUTE_A: RouteChoice = { name: 'a', routingKey: KEY_A, mode: DeliveryMode.PER_ALERT };
/** Another route on the same key: one lane (one gate, one pace per key). */
const ROUTE_A2: RouteChoice = { name: 'a2', routingKey: KEY_A, mode: DeliveryMode.PER_ALERT };
const ROUTE_B: RouteChoice = {
  name: 'b',
  routingKey: new Secret('KEYBKEYBKEYBKEYBKEYBKEYBKEYBKEY2'),
  mode: DeliveryMode.PER_ALERT,
};

/** Lets every promise callback that can run now run. */
async function settleMicrotasks(): Promise<void> {
  for (let turn = 0; turn < 50; turn++) await Promise.resolve();
  await new Promise((resolve) => setImmediate(resolve));
}

const planned = (route: RouteChoice, ...keys: string[]): Planned[] =>
  keys.map((key) => ({ record: deliveryRecord(key, AT), route }));

/**
 * Lanes whose sends the test steps: `step(route)` starts the next record fed to that route's lane; `answer(route)`
 * answers the oldest started one; `stop(route)` ends the lane, leaving what it holds unsent (as a gate that refuses).
 */
function steppedLanes() {
  const clock = { now: AT };
  const lanes = new Map<
    string,
    { fed: DeliveryRecord[]; started: DeliveryRecord[]; step: () => void; answer: () => void; stop: () => void }
  >();
  const startedLanes: string[] = [];
  const webhookLanes = new WebhookLanes(
    async (route, feed) => {
      startedLanes.push(route.name);
      const fed: DeliveryRecord[] = [];
      let wake: (() => void) | undefined;
      let stopped = false;
      let pendingSteps = 0;
      const state = {
        fed,
        started: [] as DeliveryRecord[],
        step: () => {
          pendingSteps++;
          wake?.();
        },
        answer: () => feed.answered(),
        stop: () => {
          stopped = true;
          wake?.();
        },
      };
      lanes.set(route.name, state);
      for (;;) {
        if (fed.length === 0) {
          const more = await feed.more();
          if (more === undefined) return { unsent: [], rateLimited: false } satisfies LaneResult;
          fed.push(...more);
        }
        while (pendingSteps === 0 && !stopped) await new Promise<void>((resolve) => (wake = resolve));
        if (stopped) return { unsent: fed.splice(0), stopped: 'paced', rateLimited: false } satisfies LaneResult;
        pendingSteps--;
        state.started.push(fed.shift() as DeliveryRecord);
        feed.started();
      }
    },
    () => clock.now,
  );
  const lane = (route: RouteChoice) => {
    const found = lanes.get(route.name);
    if (found === undefined) throw new Error(`no lane started for ${route.name}`);
    return found;
  };
  return { webhookLanes, lane, clock, startedLanes };
}

describe('Class: WebhookLanes', () => {
  it('counts a chunk’s reserved leases until its claim is released, then what was fed', async () => {
    // Prepare
    const { webhookLanes } = steppedLanes();

    // Act + Assess: a chunk of 3 about to be claimed
    webhookLanes.reserve(ROUTE_A, 3);
    expect(webhookLanes.progressOf(ROUTE_A)).toEqual({
      leased: 3,
      backlog: 3,
      answered: 0,
      sendingForMs: 0,
      open: true,
    });
    // Two of them claimed and fed, then the claim released
    webhookLanes.feed(planned(ROUTE_A, 'a1', 'a2'));
    webhookLanes.release(ROUTE_A, 3);
    await settleMicrotasks();
    expect(webhookLanes.progressOf(ROUTE_A)).toMatchObject({ leased: 2, backlog: 2 });
    // Another key's lane is its own
    expect(webhookLanes.progressOf(ROUTE_B)).toEqual({
      leased: 0,
      backlog: 0,
      answered: 0,
      sendingForMs: 0,
      open: true,
    });
    webhookLanes.close();
  });

  it('counts starts and answers as the lane goes, and the time since its first send', async () => {
    // Prepare
    const { webhookLanes, lane, clock } = steppedLanes();
    webhookLanes.feed(planned(ROUTE_A, 'a1', 'a2', 'a3'));
    await settleMicrotasks();

    // Act: the first send starts at AT + 100, the second at AT + 400, the first answer comes
    clock.now = AT + 100;
    lane(ROUTE_A).step();
    await settleMicrotasks();
    clock.now = AT + 400;
    lane(ROUTE_A).step();
    lane(ROUTE_A).answer();
    await settleMicrotasks();
    clock.now = AT + 1_000;

    // Assess
    expect(lane(ROUTE_A).started.map((record) => record.deliveryKey)).toEqual(['a1', 'a2']);
    expect(webhookLanes.progressOf(ROUTE_A)).toEqual({
      leased: 3,
      backlog: 1,
      answered: 1,
      sendingForMs: 900,
      open: true,
    });
    lane(ROUTE_A).stop();
    await webhookLanes.finish();
  });

  it('runs one lane per routing key, whatever route the delivery came by', async () => {
    // Prepare
    const { webhookLanes, startedLanes, lane } = steppedLanes();

    // Act
    webhookLanes.feed([...planned(ROUTE_A, 'a1'), ...planned(ROUTE_A2, 'a2'), ...planned(ROUTE_B, 'b1')]);
    await settleMicrotasks();

    // Assess
    expect(startedLanes).toEqual(['a', 'b']);
    expect(webhookLanes.progressOf(ROUTE_A2)).toMatchObject({ leased: 2, backlog: 2 });
    lane(ROUTE_A).stop();
    lane(ROUTE_B).stop();
    expect(await webhookLanes.finish()).toHaveLength(3);
  });

  it('leaves for the relay what a stopped lane held and what is fed after it stopped', async () => {
    // Prepare: a1 sent, then the lane stops (its gate refuses) holding a2
    const { webhookLanes, lane } = steppedLanes();
    webhookLanes.feed(planned(ROUTE_A, 'a1', 'a2'));
    await settleMicrotasks();
    lane(ROUTE_A).step();
    await settleMicrotasks();
    lane(ROUTE_A).stop();
    await settleMicrotasks();

    // Act: the next chunk's deliveries of that key arrive after the lane ended
    webhookLanes.feed(planned(ROUTE_A, 'a3'));
    const unsent = await webhookLanes.finish();

    // Assess: nothing is lost between the lane and the relay, nothing started is left to it
    expect(unsent.map((record) => record.deliveryKey).sort()).toEqual(['a2', 'a3']);
    expect(webhookLanes.progressOf(ROUTE_A)).toMatchObject({ open: false, leased: 2 });
  });

  it('ends every lane once closed, after it has started what it holds', async () => {
    // Prepare
    const { webhookLanes, lane } = steppedLanes();
    webhookLanes.feed(planned(ROUTE_A, 'a1'));
    await settleMicrotasks();

    // Act: no more chunks; the lane still holds a1 and starts it
    const finished = webhookLanes.finish();
    await settleMicrotasks();
    lane(ROUTE_A).step();

    // Assess
    expect(await finished).toEqual([]);
    expect(lane(ROUTE_A).started.map((record) => record.deliveryKey)).toEqual(['a1']);
  });
});
