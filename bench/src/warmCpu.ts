/**
 * (2) Warm CPU per alert through the real handler chain (`functions/alert-webhook` `buildHandler`: FC event adapter,
 * configuration, authentication, intake validation, normalization, routing, event building, dedupe claim) on an
 * in-process MemoryStore, in DRY-RUN (events built, stored and logged, never sent: no HTTP in the figure), vs the floor
 * of `JSON.parse` of the callback body plus `JSON.stringify` of each outgoing event (as the PagerDuty client sends
 * it, with its routing key), timed in the same process, interleaved sample by sample. Beside it, what FC's event
 * format adds to any handler and the floor leaves out: the Buffer event decoded and parsed before its body can be.
 *
 * Also counts the store calls a callback makes (outermost `DeliveryStore` calls, i.e. batches) in send mode against
 * the fake PagerDuty at 0 ms, untimed: the figure that must stay constant in N.
 *
 * Runs in its own process (`node --expose-gc`), so the harness's own heap and timers stay out of the figures.
 */
import { buildHandler } from '../../functions/alert-webhook/index';
import { createBridge } from '../../shared/app';
import type { FcHttpResponse } from '../../shared/fc/types';
import type { DeliveryRecord } from '../../shared/store/DeliveryRecord';
import { MemoryStore } from '../../shared/store/MemoryStore';
import type { OccurrenceMarker } from '../../shared/store/OccurrenceMarker';
import { startFakePagerDuty } from '../../tests/support/fakePagerDuty';
import { fcContext, httpEvent } from '../../tests/support/fcEvents';
import { type CallFrame, profileWhile, summarizeProfile } from './profile';
import { armsCallback, median, ROUTING_KEY, round } from './support';

interface WarmOptions {
  sizes: number[];
  samples: number;
  /** After the timed samples, `callbacks` more of `size` alerts each under the CPU profiler (untimed): its top entries. */
  profile?: { size: number; callbacks: number; top: number };
}

/**
 * The timed runs' store: a MemoryStore that keeps what each callback claims (the floor stringifies those events), and
 * adds nothing else to a store call, so the figure is the bridge's own.
 */
class ClaimRecorder extends MemoryStore {
  /** Every record claimed since the last `takeClaimed()`: a callback claims in chunks (`WEBHOOK_CLAIM_CHUNK`). */
  #claimed: DeliveryRecord[] = [];

  /** The records claimed since the previous call (one callback's, when called after each). */
  public takeClaimed(): DeliveryRecord[] {
    const claimed = this.#claimed;
    this.#claimed = [];
    return claimed;
  }

  public override claim(records: readonly DeliveryRecord[]) {
    for (const record of records) this.#claimed.push(record);
    return super.claim(records);
  }
}

/**
 * A MemoryStore that counts its outermost calls (a batch method calling `replace` per row counts once). Untimed: its
 * wrapper around every call (an async frame and a closure) is the harness's cost, not the bridge's.
 */
class CountingStore extends MemoryStore {
  public calls: Record<string, number> = {};
  #depth = 0;

  async #count<T>(name: string, work: () => Promise<T>): Promise<T> {
    if (this.#depth === 0) this.calls[name] = (this.calls[name] ?? 0) + 1;
    this.#depth++;
    try {
      return await work();
    } finally {
      this.#depth--;
    }
  }

  public override claim(records: readonly DeliveryRecord[]) {
    return this.#count('claim', () => super.claim(records));
  }
  public override replace(record: DeliveryRecord) {
    return this.#count('replace', () => super.replace(record));
  }
  public override replaceMany(records: readonly DeliveryRecord[]) {
    return this.#count('replaceMany', () => super.replaceMany(records));
  }
  public override get(keys: readonly string[]) {
    return this.#count('get', () => super.get(keys));
  }
  public override getMarkers(keys: readonly string[]) {
    return this.#count('getMarkers', () => super.getMarkers(keys));
  }
  public override putMarkers(markers: readonly OccurrenceMarker[]) {
    return this.#count('putMarkers', () => super.putMarkers(markers));
  }
  public override listDue(limit: number) {
    return this.#count('listDue', () => super.listDue(limit));
  }
  public override list() {
    return this.#count('list', () => super.list());
  }
  public total(): number {
    return Object.values(this.calls).reduce((sum, count) => sum + count, 0);
  }
}

/** The webhook's handler on `store`, called as FC calls it: with the event and a context FC made (not timed here). */
function webhookOn(env: Record<string, string>, store: MemoryStore) {
  const built = createBridge('alert-webhook', env, { logSink: () => {}, store });
  if (!built.ok) throw new Error(`bench configuration refused: ${built.error.problems.join('; ')}`);
  const handler = buildHandler(built.bridge);
  return (event: Buffer, context: unknown = fcContext()) =>
    handler(event as never, context as never) as Promise<FcHttpResponse>;
}

/** Callbacks per timed sample, so each sample lasts well above the clock's resolution. */
function batchOf(size: number): number {
  return Math.max(1, Math.ceil(200 / size));
}

const collect = (globalThis as { gc?: (options?: { type: 'minor' | 'major' }) => void }).gc ?? (() => {});
/**
 * Before each sample, its floor and the profile: a scavenge, which empties the young generation of the other side's garbage (the floor's parses,
 * the bridge's records) so neither pays for the other's. Not a full collection: that frees objects optimized code
 * holds weakly and deoptimizes it (`--trace-deopt`: "marking dependent code … for deoptimization, reason: weak
 * objects"), so the next callbacks re-optimize: on 1-alert callbacks the first one after a full `gc()` took ≈ 1.2–1.8
 * ms and a 200-callback sample's mean nearly doubled (≈ 55 → 125 µs), a cost FC's instances, which never force a full
 * collection every 200 callbacks, do not pay.
 */
const scavenge = () => collect({ type: 'minor' });

async function measureWarmCpu(options: WarmOptions) {
  /**
   * A bridge on an empty store. Each sample gets its own: its callbacks' alerts are all new, so nothing an earlier
   * sample stored is ever read, and one store kept for the run grows to tens of thousands of rows (a 1,000-alert sample
   * adds a thousand, nothing expires them) whose heap and lookups no deployed store puts on the function (STORE=memory
   * is refused when deployed): on this machine ≈ 8 % of the 1,000-alert figure.
   */
  const fresh = () => {
    const empty = new ClaimRecorder();
    return {
      store: empty,
      invoke: webhookOn({ DRY_RUN: 'true', PAGERDUTY_ROUTING_KEY: ROUTING_KEY, STORE: 'memory' }, empty),
    };
  };
  let { store, invoke } = fresh();
  const rows = [];
  for (const size of options.sizes) {
    const batch = batchOf(size);
    const warmups = Math.max(3, Math.ceil(1000 / size));
    const total = warmups + options.samples * batch;
    const bodies = Array.from({ length: total }, () => armsCallback(size));
    const events = bodies.map((body) => httpEvent({ body }));
    const contexts = bodies.map(() => fcContext());
    const bridgeUs: number[] = [];
    const bridgeCpuUs: number[] = [];
    const floorUs: number[] = [];
    const envelopeUs: number[] = [];
    const ratios: number[] = [];
    let cursor = 0;
    /** Runs the bridge on the next `count` callbacks; returns wall µs, CPU µs and each callback's events. */
    const bridge = async (count: number) => {
      const outgoing: DeliveryRecord['event'][][] = [];
      let elapsed = 0n;
      let cpu = 0;
      for (let index = 0; index < count; index++) {
        const event = events[cursor] as Buffer;
        const context = contexts[cursor];
        const cpuStart = process.cpuUsage();
        const started = process.hrtime.bigint();
        const response = await invoke(event, context);
        elapsed += process.hrtime.bigint() - started;
        const used = process.cpuUsage(cpuStart);
        cpu += used.user + used.system;
        if (response.statusCode !== 200) throw new Error(`warm bridge answered ${response.statusCode}`);
        // Every alert is a new occurrence: the floor must stringify one event per alert, claimed in however many chunks.
        const claimed = store.takeClaimed();
        if (claimed.length !== size) throw new Error(`a ${size}-alert callback claimed ${claimed.length} deliveries`);
        outgoing.push(claimed.map((record) => record.event));
        cursor++;
      }
      return { us: Number(elapsed) / 1e3, cpu, outgoing, from: cursor - count };
    };
    const floor = (from: number, outgoing: DeliveryRecord['event'][][]) => {
      let sink = 0;
      const started = process.hrtime.bigint();
      for (let index = 0; index < outgoing.length; index++) {
        const parsed = JSON.parse(bodies[from + index] as string);
        sink += parsed.alerts.length;
        for (const event of outgoing[index] ?? [])
          sink += JSON.stringify({ routing_key: ROUTING_KEY, ...event }).length;
      }
      const us = Number(process.hrtime.bigint() - started) / 1e3;
      if (sink < 0) throw new Error('unreachable');
      return us;
    };
    /** What FC adds before any handler sees the body: its Buffer event decoded and parsed (the body is a string in it). */
    const envelope = (from: number, count: number) => {
      let sink = 0;
      const started = process.hrtime.bigint();
      for (let index = 0; index < count; index++)
        sink += JSON.parse((events[from + index] as Buffer).toString()).body.length;
      const us = Number(process.hrtime.bigint() - started) / 1e3;
      if (sink < 0) throw new Error('unreachable');
      return us;
    };
    // Warm-up: JIT both paths on this size.
    for (let index = 0; index < warmups; index++) {
      const run = await bridge(1);
      floor(run.from, run.outgoing);
    }
    for (let sample = 0; sample < options.samples; sample++) {
      ({ store, invoke } = fresh());
      scavenge();
      const run = await bridge(batch);
      scavenge();
      const floorTime = floor(run.from, run.outgoing);
      const envelopeTime = envelope(run.from, batch);
      const alerts = size * batch;
      bridgeUs.push(run.us / alerts);
      bridgeCpuUs.push(run.cpu / alerts);
      floorUs.push(floorTime / alerts);
      envelopeUs.push(envelopeTime / alerts);
      ratios.push(run.us / floorTime);
    }
    const bridgeMedian = median(bridgeUs);
    const floorMedian = median(floorUs);
    rows.push({
      alertsPerCallback: size,
      samples: options.samples,
      callbacksPerSample: batch,
      bridgeUsPerAlert: round(bridgeMedian, 1),
      bridgeCpuUsPerAlert: round(median(bridgeCpuUs), 1),
      floorUsPerAlert: round(floorMedian, 2),
      // Each sample's bridge over its own floor, timed just after it: a shared machine's drift between samples cancels.
      ratio: round(median(ratios), 2),
      fcEnvelopeUsPerAlert: round(median(envelopeUs), 2),
    });
  }
  ({ store, invoke } = fresh());
  const profile = options.profile && (await profileChain(invoke, store, options.profile));
  return { rows, storeCalls: await countStoreCalls(options.sizes), ...(profile ? { profile } : {}) };
}

/**
 * The warm chain's own profile: only the handler's callbacks are sampled (none of the harness's bodies, floors or forced
 * GCs), so "(garbage collector)" in it is the collection the chain's own allocation causes.
 */
async function profileChain(
  invoke: (event: Buffer, context?: unknown) => Promise<FcHttpResponse>,
  store: ClaimRecorder,
  options: NonNullable<WarmOptions['profile']>,
) {
  const events = Array.from({ length: options.callbacks + 3 }, () => httpEvent({ body: armsCallback(options.size) }));
  const contexts = events.map(() => fcContext());
  const run = async (from: number, to: number) => {
    for (let index = from; index < to; index++) {
      const response = await invoke(events[index] as Buffer, contexts[index]);
      if (response.statusCode !== 200) throw new Error(`warm bridge answered ${response.statusCode}`);
      store.takeClaimed();
    }
  };
  await run(0, 3);
  scavenge();
  const profile = await profileWhile(() => run(3, events.length));
  // The inspector's `dispatch` (no script) is the profiler serializing its own profile at `Profiler.stop`.
  const profilersOwn = (frame: CallFrame) => frame.functionName === 'dispatch' && frame.url === '';
  const summary = summarizeProfile(profile, options.top, profilersOwn);
  return { alertsPerCallback: options.size, callbacks: options.callbacks, ...summary };
}

/** Outermost store calls per callback in send mode (fake PagerDuty at 0 ms, in this process; untimed). */
async function countStoreCalls(sizes: number[]) {
  const pd = await startFakePagerDuty();
  try {
    const rows = [];
    for (const size of sizes) {
      const store = new CountingStore();
      const invoke = webhookOn(
        { PAGERDUTY_ROUTING_KEY: ROUTING_KEY, PAGERDUTY_EVENTS_URL: pd.url, STORE: 'memory' },
        store,
      );
      const before = pd.events.length;
      const response = await invoke(httpEvent({ body: armsCallback(size) }));
      rows.push({
        alertsPerCallback: size,
        status: response.statusCode,
        storeCalls: store.total(),
        byMethod: store.calls,
        pagerdutyRequests: pd.events.length - before,
      });
    }
    return rows;
  } finally {
    await pd.close();
  }
}

export { measureWarmCpu };
