/**
 * Sends one routing key's deliveries through its gate (`KeyGate.ts`): blocks of sends taken from the key's shared
 * budget, up to `SENDS_IN_FLIGHT` on the wire at once, outcomes recorded in slices as they come (a crash re-sends at
 * most the slice in flight), the circuit honoured (one probe at a time while it is open). Used by the webhook, which
 * never waits for the gate (ARMS waits 5 s) and feeds the lane each chunk as it is claimed (`more`), and by the relay,
 * which waits inside its deadline.
 *
 * No send starts unless the deadline leaves it its whole `PAGERDUTY_TIMEOUT_MS` plus `reserveMs`: a send on the wire
 * always completes and is recorded, so PagerDuty never gets the same event twice because of our own deadline.
 */
import type { Secret } from '../config/Secret';
import { SENDS_IN_FLIGHT } from '../constants';
import type { Deadline } from '../deadline';
import { DeliveryFailureReason } from '../errors';
import type { DeliveryRecord } from '../store/DeliveryRecord';
import { type KeyGate, stopsKey } from './KeyGate';
import type { SendOutcome } from './sendRecord';

interface LaneOptions {
  /** The key's gate id (`keyIdOf`); undefined when the route has no key (the send makes the delivery DEAD). */
  keyId: string | undefined;
  routingKey: Secret | undefined;
  route: string;
  gate: KeyGate;
  deadline: Deadline;
  /** `PAGERDUTY_TIMEOUT_MS`. */
  sendTimeoutMs: number;
  /** Time kept after the last send completes (recording, answering). */
  reserveMs: number;
  /** Wait for the gate (relay) or leave what it refuses now (webhook). */
  wait: boolean;
  send: (record: DeliveryRecord, probe: boolean) => Promise<SendOutcome>;
  /** Leases a block before it is sent (relay); returns the records won. Absent: already leased (webhook claims). */
  lease?: (records: DeliveryRecord[]) => Promise<DeliveryRecord[]>;
  /**
   * Records a slice of outcomes (called in order, never concurrently); false when the store failed: the lane then
   * starts no more sends (what it could not record, the relay sends after the lease; what it never sent, too).
   */
  record: (outcomes: SendOutcome[]) => Promise<boolean>;
  sleep: (ms: number) => Promise<void>;
  now: () => number;
  /** Outcomes recorded per write. @default SENDS_IN_FLIGHT */
  sliceSize?: number;
  /**
   * More records once the lane has started all it holds (the webhook: each chunk as soon as it is claimed, while it
   * claims the next); resolves undefined when no more will come. Absent: `records` is all there is.
   */
  more?: () => Promise<readonly DeliveryRecord[] | undefined>;
}

interface LaneResult {
  /** Not sent: the gate refused (webhook), the deadline came, or the key's circuit opened. */
  unsent: DeliveryRecord[];
  /** Why the lane stopped early, when it did. */
  stopped?: 'deadline' | 'paced' | 'circuit-open' | 'rate-limited' | 'store';
  /** PagerDuty answered 429 on the key during the lane. */
  rateLimited: boolean;
  /** When the gate opens again, if the lane stopped because it opens too late for this deadline (epoch ms). */
  resumeAt?: number;
}

async function sendLane(records: readonly DeliveryRecord[], options: LaneOptions): Promise<LaneResult> {
  const { keyId, gate, deadline, now } = options;
  const queue: DeliveryRecord[] = [];
  const result: LaneResult = { unsent: [], rateLimited: false };
  const pending: SendOutcome[] = [];
  let flushing: Promise<void> = Promise.resolve();
  const sliceSize = options.sliceSize ?? SENDS_IN_FLIGHT;
  /** Outcomes handed to `record` and not yet written. */
  let recording = 0;
  const flush = (all: boolean) => {
    while (pending.length > 0 && (all || pending.length >= sliceSize)) {
      const slice = pending.splice(0, sliceSize);
      recording += slice.length;
      flushing = flushing.then(async () => {
        if (!(await options.record(slice))) storeFailed = true;
        recording -= slice.length;
      });
    }
    return flushing;
  };
  /**
   * Sends whose outcome is not written yet: what a crash now would re-send. Bounded to the slice being written plus the
   * sends on the wire, so a store slower than PagerDuty holds the sends back instead of letting the re-sends grow.
   */
  const unrecorded = () => inFlight.size + pending.length + recording;
  const maxUnrecorded = sliceSize + SENDS_IN_FLIGHT;
  /** Waits for a send to finish or a slice to be written. */
  const progress = () => Promise.race([...inFlight, ...(recording > 0 ? [flushing] : [])]);
  /** Room to start a send: its whole timeout and the reserve still fit in the deadline. */
  const room = () => deadline.remainingMs() - options.reserveMs - options.sendTimeoutMs;

  const inFlight = new Set<Promise<void>>();
  /** Why the block in flight must stop (a failure that is the key's), until the gate is asked again. */
  let halted: 'circuit-open' | 'rate-limited' | undefined;
  let storeFailed = false;
  const sendOne = async (record: DeliveryRecord, probe: boolean) => {
    const outcome = await options.send(record, probe);
    pending.push(outcome);
    // Stop the block at once (before the gate's write): sends still starting would only meet the same failure.
    if (stopsKey(outcome.reason)) {
      const rateLimited = outcome.reason === DeliveryFailureReason.RATE_LIMITED;
      halted = rateLimited ? 'rate-limited' : 'circuit-open';
      result.rateLimited ||= rateLimited;
    }
    if (keyId !== undefined) {
      const stop = await gate.report(keyId, {
        ok: outcome.reason === undefined,
        probe,
        reason: outcome.reason,
        retryAfterMs: outcome.retryAfterMs,
        error: outcome.error,
        route: options.route,
      });
      if (stop) halted ??= 'circuit-open';
    }
    void flush(false);
  };
  /** The send on the wire per PagerDuty dedup_key: two events of one alert are never on the wire at once. */
  const onWire = new Map<string, Promise<void>>();
  const start = (record: DeliveryRecord, probe: boolean) => {
    const running = sendOne(record, probe).finally(() => {
      inFlight.delete(running);
      if (onWire.get(record.dedupKey) === running) onWire.delete(record.dedupKey);
    });
    inFlight.add(running);
    onWire.set(record.dedupKey, running);
    return running;
  };
  /** Queued oldest occurrence first: one alert's events reach PagerDuty in the order they happened. */
  const enqueue = (more: readonly DeliveryRecord[]) => {
    queue.push(...more);
    queue.sort((a, b) => a.occurrence - b.occurrence);
  };

  enqueue(records);
  for (;;) {
    if (queue.length === 0) {
      // Sends in flight keep going while the next records are claimed.
      const next = await options.more?.();
      if (next === undefined) break;
      enqueue(next);
      continue;
    }
    if (storeFailed) {
      result.stopped = 'store';
      break;
    }
    if (room() <= 0) {
      result.stopped = 'deadline';
      break;
    }
    if (keyId === undefined) {
      // No key: each send only records the delivery DEAD (no request is made).
      await start(queue.shift() as DeliveryRecord, false);
      continue;
    }
    if (halted !== undefined) {
      // The circuit opened or PagerDuty said 429 during this block: let the gate decide what comes next.
      await Promise.all(inFlight);
      halted = undefined;
    }
    const grant = await gate.acquire(keyId, queue.length, options.sendTimeoutMs);
    if (grant.kind === 'wait') {
      const waitMs = grant.until - now();
      if (!options.wait) {
        result.stopped = grant.why;
        break;
      }
      if (waitMs > room()) {
        if (grant.why === 'paced' && room() > 0) {
          // The key's next window opens after this run's deadline: wait out the run, so the next one (started at
          // once) is already near the window's opening, instead of leaving it to the next timer tick.
          await options.sleep(room());
        }
        // Say when the gate opens, so the caller can have the next run wait for it.
        result.stopped = grant.why;
        result.resumeAt = grant.until;
        break;
      }
      await options.sleep(Math.max(1, waitMs));
      continue;
    }
    const count = grant.kind === 'probe' ? 1 : grant.count;
    let block = queue.splice(0, count);
    if (options.lease !== undefined) {
      const won = await options.lease(block);
      if (won.length < block.length) await gate.giveBack(keyId, grant.takenAt, block.length - won.length);
      block = won;
    }
    if (grant.kind === 'probe') {
      // One probe at a time: wait for its answer before asking the gate again.
      const probeRecord = block[0];
      if (probeRecord !== undefined) await start(probeRecord, true);
      continue;
    }
    for (const [index, record] of block.entries()) {
      while (inFlight.size >= SENDS_IN_FLIGHT || unrecorded() >= maxUnrecorded) await progress();
      // The alert's previous event first: PagerDuty applies them in the order they arrive.
      await onWire.get(record.dedupKey);
      if (halted !== undefined || storeFailed || room() <= 0) {
        // Cut short: the rest of the block goes back to the queue (leased rows stay leased: the caller re-queues).
        queue.unshift(...block.slice(index));
        await gate.giveBack(keyId, grant.takenAt, block.length - index);
        break;
      }
      void start(record, false);
    }
  }
  await Promise.all(inFlight);
  if (halted !== undefined && result.stopped === undefined && queue.length > 0) result.stopped = halted;
  result.unsent = queue;
  await flush(true);
  return result;
}

export type { LaneOptions, LaneResult };
export { sendLane };
