/**
 * The lane's own ordering and back-pressure, with controlled interleavings: every send and every outcome write is a
 * promise the test settles by hand, so what the lane starts is observed step by step, never timed. The gate is the
 * real one on the memory store, with a rate high enough never to hold a send.
 */
import { describe, expect, it } from 'vitest';
import { EventAction, SENDS_IN_FLIGHT } from '../../../shared/constants';
import { Deadline } from '../../../shared/deadline';
import { KeyGate } from '../../../shared/delivery/KeyGate';
import { type LaneOptions, sendLane } from '../../../shared/delivery/sendLane';
import type { SendOutcome } from '../../../shared/delivery/sendRecord';
import type { DeliveryRecord } from '../../../shared/store/DeliveryRecord';
import { MemoryStore } from '../../../shared/store/MemoryStore';
import { deliveryRecord } from '../../support/deliveryRecords';

const KEY_ID = '0123456789abcdef';
const AT = 1_700_000_000_000;

interface Held<T> {
  value: Promise<T>;
  settle: (value: T) => void;
}

function held<T>(): Held<T> {
  let settle: (value: T) => void = () => undefined;
  const value = new Promise<T>((resolve) => {
    settle = resolve;
  });
  return { value, settle };
}

/** Lets every promise callback that can run now run (the lane's awaits are all on settled promises by then). */
async function settleMicrotasks(): Promise<void> {
  for (let turn = 0; turn < 50; turn++) await Promise.resolve();
  await new Promise((resolve) => setImmediate(resolve));
}

/** A lane whose sends and outcome writes wait for the test; returns what it started and wrote, as it happens. */
function heldLane(records: DeliveryRecord[], sliceSize?: number) {
  const store = new MemoryStore({ now: () => AT });
  const gate = new KeyGate({
    store,
    ratePerMinute: 1_000_000,
    probe: { baseMs: 1_000, maxMs: 5_000 },
    ttlMs: 86_400_000,
    now: () => AT,
  });
  const sends: Array<{ record: DeliveryRecord; answer: Held<SendOutcome> }> = [];
  const writes: Array<{ outcomes: SendOutcome[]; done: Held<boolean> }> = [];
  const options: LaneOptions = {
    keyId: KEY_ID,
    routingKey: undefined,
    route: 'default',
    gate,
    deadline: new Deadline(60_000),
    sendTimeoutMs: 2_500,
    reserveMs: 750,
    wait: false,
    send: (record) => {
      const answer = held<SendOutcome>();
      sends.push({ record, answer });
      return answer.value;
    },
    record: (outcomes) => {
      const done = held<boolean>();
      writes.push({ outcomes, done });
      return done.value;
    },
    sleep: async () => undefined,
    now: () => AT,
    sliceSize,
  };
  const result = sendLane(records, options);
  return { sends, writes, result };
}

const accepted = (record: DeliveryRecord): SendOutcome => ({ record });

describe('Function: sendLane', () => {
  it('sends one alert’s events one at a time, oldest occurrence first, whatever order they came in', async () => {
    // Prepare: a newer occurrence's trigger queued before the older occurrence's resolve of the same alert.
    const newerTrigger = deliveryRecord('t2', AT, { dedupKey: 'alert-1', occurrence: 2_000 });
    const olderResolve = deliveryRecord('r1', AT, {
      dedupKey: 'alert-1',
      occurrence: 1_000,
      action: EventAction.RESOLVE,
    });
    const other = deliveryRecord('x', AT, { dedupKey: 'alert-2', occurrence: 3_000 });

    // Act
    const lane = heldLane([newerTrigger, olderResolve, other]);
    await settleMicrotasks();
    const startedFirst = lane.sends.map((send) => send.record.deliveryKey);
    lane.sends[0]?.answer.settle(accepted(olderResolve));
    await settleMicrotasks();
    const startedAfter = lane.sends.map((send) => send.record.deliveryKey);
    for (const send of lane.sends) send.answer.settle(accepted(send.record));
    await settleMicrotasks();
    for (const write of lane.writes) write.done.settle(true);
    const result = await lane.result;

    // Assess: the resolve alone on the wire for alert-1; the newer trigger only once it was answered.
    expect(startedFirst).toEqual(['r1']);
    expect(startedAfter).toEqual(['r1', 't2', 'x']);
    expect(result.unsent).toEqual([]);
  });

  it('starts no more sends while the slice being written and the sends on the wire are all unrecorded', async () => {
    // Prepare: far more deliveries than one slice and one window of sends.
    const sliceSize = 8;
    const records = Array.from({ length: 200 }, (_, index) =>
      deliveryRecord(`k${index}`, AT, { occurrence: 1_000 + index }),
    );

    // Act: PagerDuty answers every send at once; the store does not finish the first outcome write.
    const lane = heldLane(records, sliceSize);
    for (let round = 0; round < 20; round++) {
      await settleMicrotasks();
      for (const send of lane.sends) send.answer.settle(accepted(send.record));
    }
    const startedWhileBlocked = lane.sends.length;
    for (let round = 0; round < 60; round++) {
      for (const write of lane.writes) write.done.settle(true);
      for (const send of lane.sends) send.answer.settle(accepted(send.record));
      await settleMicrotasks();
    }
    const result = await lane.result;

    // Assess: a crash while the write hung would re-send at most a slice and a window; nothing is lost after it.
    expect(startedWhileBlocked).toBe(sliceSize + SENDS_IN_FLIGHT);
    expect(lane.sends).toHaveLength(200);
    expect(lane.writes.flatMap((write) => write.outcomes)).toHaveLength(200);
    expect(result.unsent).toEqual([]);
  });
});
