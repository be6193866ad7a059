/**
 * The gate every sender passes before sending to a routing key: the key's shared pacing budget (`pacing.ts`), its
 * circuit (`circuit.ts`) and its drain lease, all in the key's one row in the store (`KeyState`), so every webhook
 * and relay instance spends the same budget and sees the same circuit.
 *
 * Each change is a compare-and-set of the row: the gate applies a pure rule to the state it last saw (cached per
 * instance) and writes `version + 1`; when someone else wrote first it reads the row again and re-applies the rule.
 * Sends are taken in blocks (up to `PACING_BLOCK_MAX` per write, or a `withBlockMax` view's block), so the budget
 * costs a small fraction of a store round trip per send; a success on a closed circuit writes nothing.
 *
 * The webhook saves the gate its own round trips: it reads the key's row with its first read (`wantsRow`, `prime`),
 * and takes its first block in its claim's write (`prepare`, `prepared`): the row is written beside the claim by the
 * same compare-and-set, and `acquire` hands out those sends first. What the invocation took and did not send goes back
 * at its end (`returnHeld`). A prepared row that lost its race costs nothing: `acquire` then asks as usual.
 */
import { randomUUID } from 'node:crypto';
import { PACING_BLOCK_MAX } from '../constants';
import { DeliveryFailureReason } from '../errors';
import type { DeliveryStore } from '../store/DeliveryStore';
import type { KeyState } from '../store/KeyState';
import { type CircuitState, mayProbe, nextProbeAt, type ProbeTiming, recordFailure, takeProbe } from './circuit';
import { EMPTY_PACING, giveBack, narrow, nextSendAt, type PacingState, take } from './pacing';

/** What a key's row holds. */
interface KeyData {
  pacing?: PacingState;
  circuit?: CircuitState;
  /** The relay draining this key, until when (at most one at a time). */
  drain?: { owner: string; until: number };
}

/** The gate's answer to a sender asking for sends. */
type Grant =
  | { kind: 'send'; count: number; takenAt: number }
  /** The circuit is open and this sender holds its one probe: send one delivery, then report it. */
  | { kind: 'probe'; takenAt: number }
  | { kind: 'wait'; until: number; why: 'paced' | 'circuit-open' };

/** The outcome of one send, as the gate needs it. */
interface SendReport {
  ok: boolean;
  probe: boolean;
  reason?: DeliveryFailureReason;
  retryAfterMs?: number;
  /** One line, never a secret. */
  error?: string;
  route: string;
}

/** An open circuit, for the health report. */
interface OpenCircuit extends CircuitState {
  keyId: string;
}

interface KeyGateOptions {
  store: DeliveryStore;
  /** `PAGERDUTY_RATE_PER_MINUTE`: sends per key per PagerDuty window. */
  ratePerMinute: number;
  probe: ProbeTiming;
  /** How long a key's row outlives its last write. */
  ttlMs: number;
  now?: () => number;
  /** Told of each store failure the gate absorbed (the instance logs it). */
  onStoreError?: (error: unknown, operation: string) => void;
  /** Most sends one `acquire` grants. @default PACING_BLOCK_MAX */
  blockMax?: number;
}

/** Sends taken in advance (`prepare`) and not yet handed out. */
interface HeldGrant {
  count: number;
  takenAt: number;
}

/** What every view of one gate shares (`withBlockMax`): the cached rows, and the owner the drain lease names. */
interface GateShared {
  owner: string;
  cache: Map<string, { state: KeyState | undefined; readAt: number }>;
}

/** Failures that are the key's (PagerDuty or the way to it), not the event's: they open the circuit. */
const CIRCUIT_FAILURES: ReadonlySet<string> = new Set([DeliveryFailureReason.SERVER, DeliveryFailureReason.NETWORK]);
/** Whether a failure is one after which nothing more should be sent to the key for now (the gate decides when). */
function stopsKey(reason: DeliveryFailureReason | undefined): boolean {
  return reason === DeliveryFailureReason.RATE_LIMITED || (reason !== undefined && CIRCUIT_FAILURES.has(reason));
}

/** Cached state older than this is read again before a sender is told to wait (someone may have closed the circuit). */
const CACHE_FRESH_MS = 1_000;
/** Compare-and-set attempts before giving up on one change (contention of many senders on one key). */
const MAX_CAS_ATTEMPTS = 8;

class KeyGate {
  readonly #store: DeliveryStore;
  readonly #rate: number;
  readonly #probe: ProbeTiming;
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #options: KeyGateOptions;
  readonly #blockMax: number;
  /** This instance, as the drain lease names it. */
  readonly #owner: string;
  readonly #cache: GateShared['cache'];
  readonly #onStoreError: (error: unknown, operation: string) => void;
  /** This view's sends taken in a claim's write, per key: `acquire` hands them out first. */
  readonly #held = new Map<string, HeldGrant[]>();
  /** Rows `prepare` built whose write's answer has not come (one per key at a time). */
  readonly #preparing = new Map<string, { state: KeyState; grant: HeldGrant }>();

  public constructor(options: KeyGateOptions, shared?: GateShared) {
    this.#options = options;
    this.#owner = shared?.owner ?? randomUUID();
    this.#cache = shared?.cache ?? new Map();
    this.#blockMax = options.blockMax ?? PACING_BLOCK_MAX;
    this.#store = options.store;
    this.#rate = options.ratePerMinute;
    this.#probe = options.probe;
    this.#ttlMs = options.ttlMs;
    this.#now = options.now ?? Date.now;
    this.#onStoreError = options.onStoreError ?? (() => {});
  }

  /**
   * The same gate (same cached rows, same drain-lease owner) granting blocks of up to `blockMax` sends: the relay
   * leases a whole block in one write, so its blocks are as large as its lease can cover (`relayBlockMax`).
   */
  public withBlockMax(blockMax: number): KeyGate {
    return new KeyGate({ ...this.#options, blockMax }, { owner: this.#owner, cache: this.#cache });
  }

  /** The same gate for one invocation: its own sends taken in advance (`prepare`); rows and owner shared. */
  public forInvocation(): KeyGate {
    return new KeyGate(this.#options, { owner: this.#owner, cache: this.#cache });
  }

  /** Whether a read of the key's row is worth joining to the caller's first read: none cached, or one older than 1 s. */
  public wantsRow(keyId: string): boolean {
    const cached = this.#cache.get(keyId);
    return cached === undefined || this.#now() - cached.readAt > CACHE_FRESH_MS;
  }

  /** Takes the key's row as read by the caller (absent: undefined), unless this gate has seen a newer version. */
  public prime(keyId: string, state: KeyState | undefined): void {
    const cached = this.#cache.get(keyId)?.state;
    if (cached !== undefined && (state?.version ?? 0) < cached.version) return;
    this.#cache.set(keyId, { state, readAt: this.#now() });
  }

  /**
   * The key's row with up to `wanted` sends taken, for the caller to write by compare-and-set beside its own rows
   * (`claimWithMarkers`), then to report with `prepared`. Undefined when the gate would not simply grant sends from
   * what it has seen (nothing cached, the circuit open, the budget spent, or a prepared row of the key unanswered):
   * `acquire` then decides as usual.
   */
  public prepare(keyId: string, wanted: number): KeyState | undefined {
    const cached = this.#cache.get(keyId);
    if (cached === undefined || this.#preparing.has(keyId) || wanted <= 0) return undefined;
    const now = this.#now();
    // The rule `acquire` applies; only a plain block is taken ahead (a probe is one send, asked for when it is due).
    const { data, result } = this.#grantRule(Math.min(wanted, this.#blockMax), 0)(
      (cached.state?.data ?? {}) as KeyData,
      now,
    );
    if (data === undefined || result.kind !== 'send') return undefined;
    const state = this.#nextState(keyId, cached.state, data, now);
    this.#preparing.set(keyId, { state, grant: { count: result.count, takenAt: now } });
    return state;
  }

  /** Whether the row `prepare` built was written: then its sends are this view's, and `acquire` hands them out. */
  public prepared(keyId: string, written: boolean): void {
    const prepared = this.#preparing.get(keyId);
    this.#preparing.delete(keyId);
    if (prepared === undefined || !written) return;
    this.#cache.set(keyId, { state: prepared.state, readAt: prepared.grant.takenAt });
    const held = this.#held.get(keyId) ?? [];
    held.push(prepared.grant);
    this.#held.set(keyId, held);
  }

  /** Gives back the sends taken in advance and never handed out (their claims lost, or their deliveries waited). */
  public async returnHeld(): Promise<void> {
    const held = [...this.#held].flatMap(([keyId, grants]) => grants.map((grant) => ({ keyId, ...grant })));
    this.#held.clear();
    for (const { keyId, takenAt, count } of held) await this.giveBack(keyId, takenAt, count);
  }

  /**
   * Asks for up to `wanted` sends on the key. `probeLeaseMs` is how long a probe may take (the send timeout): another
   * sender may probe after it.
   */
  public async acquire(keyId: string, wanted: number, probeLeaseMs: number): Promise<Grant> {
    const held = this.#held.get(keyId)?.[0];
    if (held !== undefined) {
      // Taken in the claim's write: no round trip. What the lane does not want now stays held for its next ask.
      const count = Math.min(wanted, held.count);
      held.count -= count;
      if (held.count === 0) this.#held.get(keyId)?.shift();
      return { kind: 'send', count, takenAt: held.takenAt };
    }
    const ask = Math.min(wanted, this.#blockMax);
    return this.#absorb('acquire', this.#acquire(keyId, ask, probeLeaseMs), () => ({
      // The store cannot keep the budget: send the block unpaced rather than hold claimed alerts back (a page beats
      // a 429, which is retried); the sender stops at its first outcome it cannot record.
      kind: 'send',
      count: ask,
      takenAt: this.#now(),
    }));
  }

  async #acquire(keyId: string, ask: number, probeLeaseMs: number): Promise<Grant> {
    return this.#change(keyId, this.#grantRule(ask, probeLeaseMs));
  }

  /**
   * The rule of an ask for up to `ask` sends: on a closed circuit a block from the budget; on an open one a probe when
   * one is due; else when to ask again. What `acquire` applies by compare-and-set, and `prepare` ahead of a claim.
   */
  #grantRule(ask: number, probeLeaseMs: number) {
    return (data: KeyData, now: number): { data?: KeyData; result: Grant } => {
      const pacing = data.pacing ?? EMPTY_PACING;
      if (data.circuit !== undefined) {
        if (!mayProbe(data.circuit, now)) {
          return { result: { kind: 'wait', until: nextProbeAt(data.circuit), why: 'circuit-open' } };
        }
        const taken = take(pacing, this.#rate, now, 1);
        if (taken.granted === 0) {
          return { result: { kind: 'wait', until: nextSendAt(pacing, this.#rate, now), why: 'paced' } };
        }
        const circuit = takeProbe(data.circuit, now, probeLeaseMs);
        return { data: { ...data, pacing: taken.state, circuit }, result: { kind: 'probe', takenAt: now } };
      }
      const taken = take(pacing, this.#rate, now, ask);
      if (taken.granted === 0) {
        return { result: { kind: 'wait', until: nextSendAt(pacing, this.#rate, now), why: 'paced' } };
      }
      return { data: { ...data, pacing: taken.state }, result: { kind: 'send', count: taken.granted, takenAt: now } };
    };
  }

  /** Returns sends taken in a block and not made (the block was cut short by a failure or the deadline). */
  public async giveBack(keyId: string, takenAt: number, unused: number): Promise<void> {
    if (unused <= 0) return;
    const change = this.#change(keyId, (data) => ({
      data: { ...data, pacing: giveBack(data.pacing ?? EMPTY_PACING, takenAt, unused) },
      result: undefined,
    }));
    await this.#absorb('give back', change, () => undefined);
  }

  /**
   * Tells the gate how a send went: a success closes an open circuit; a 5xx, timeout or network error opens it (or,
   * on a probe, pushes the next probe later); a 429 narrows the key's budget. Returns whether the key should be left
   * alone for now (the sender stops its block).
   */
  public async report(keyId: string, report: SendReport): Promise<boolean> {
    // A report the store cannot take only costs the shared view of the key; the sender still stops on a failure.
    return this.#absorb('report', this.#report(keyId, report), () => stopsKey(report.reason));
  }

  async #report(keyId: string, report: SendReport): Promise<boolean> {
    const now = this.#now();
    if (report.ok) {
      const cached = this.#cache.get(keyId)?.state?.data as KeyData | undefined;
      if (cached?.circuit === undefined && !report.probe) return false;
      await this.#change(keyId, (data) =>
        data.circuit === undefined ? { result: undefined } : { data: withoutCircuit(data), result: undefined },
      );
      return false;
    }
    if (report.reason === DeliveryFailureReason.RATE_LIMITED) {
      await this.#change(keyId, (data) => ({
        data: { ...data, pacing: narrow(data.pacing ?? EMPTY_PACING, this.#rate, now, report.retryAfterMs) },
        result: undefined,
      }));
      return true;
    }
    if (report.reason === undefined || !CIRCUIT_FAILURES.has(report.reason)) return false;
    await this.#change(keyId, (data) => {
      const circuit = recordFailure(
        data.circuit,
        { now, error: report.error ?? report.reason ?? 'failed', route: report.route, probe: report.probe },
        this.#probe,
      );
      return circuit === data.circuit ? { result: undefined } : { data: { ...data, circuit }, result: undefined };
    });
    return true;
  }

  /** Takes the key's drain lease until `now + leaseMs`: false when another relay holds it. */
  public async leaseDrain(keyId: string, leaseMs: number): Promise<boolean> {
    // No lease without the store: a relay that cannot write the lease could not lease its rows either.
    return this.#absorb('lease drain', this.#leaseDrain(keyId, leaseMs), () => false);
  }

  async #leaseDrain(keyId: string, leaseMs: number): Promise<boolean> {
    return this.#change(
      keyId,
      (data, now) => {
        const holder = data.drain;
        if (holder !== undefined && holder.owner !== this.#owner && holder.until > now) return { result: false };
        return { data: { ...data, drain: { owner: this.#owner, until: now + leaseMs } }, result: true };
      },
      { fresh: true },
    );
  }

  /** Gives the drain lease back, if this instance still holds it. */
  public async releaseDrain(keyId: string): Promise<void> {
    const change = this.#change(keyId, (data) => {
      if (data.drain?.owner !== this.#owner) return { result: undefined };
      const { drain: _drain, ...rest } = data;
      return { data: rest, result: undefined };
    });
    // Unreleased, the lease ends by itself.
    await this.#absorb('release drain', change, () => undefined);
  }

  /** The open circuits among these keys (read from the store). */
  public async openCircuits(keyIds: readonly string[]): Promise<OpenCircuit[]> {
    if (keyIds.length === 0) return [];
    const states = await this.#store.getKeyStates(keyIds);
    const open: OpenCircuit[] = [];
    for (const [keyId, state] of states) {
      const circuit = circuitOf(state);
      if (circuit !== undefined) open.push({ keyId, ...circuit });
    }
    return open;
  }

  /** The gate never fails a send path: a store error becomes the given fallback (and is reported). */
  async #absorb<R>(operation: string, work: Promise<R>, fallback: () => R): Promise<R> {
    try {
      return await work;
    } catch (error) {
      this.#cache.clear();
      this.#onStoreError(error, operation);
      return fallback();
    }
  }

  /**
   * Applies `rule` to the key's state and writes the result by compare-and-set (no write when the rule returns no
   * data). On a lost race, or before a "wait" from a cache older than a second, reads the row again and re-applies
   * the rule; `fresh` reads it first (a refused drain lease must not come from a stale cache).
   */
  async #change<R>(
    keyId: string,
    rule: (data: KeyData, now: number) => { data?: KeyData; result: R },
    options: { fresh?: boolean } = {},
  ): Promise<R> {
    const cached = options.fresh ? undefined : this.#cache.get(keyId);
    let entry = cached ?? (await this.#read(keyId));
    let reread = cached === undefined;
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      const now = this.#now();
      const state = entry.state;
      const outcome = rule((state?.data ?? {}) as KeyData, now);
      if (outcome.data === undefined) {
        const waiting = (outcome.result as Grant | undefined)?.kind === 'wait';
        if (waiting && !reread && now - entry.readAt > CACHE_FRESH_MS) {
          entry = await this.#read(keyId);
          reread = true;
          continue;
        }
        return outcome.result;
      }
      const next = this.#nextState(keyId, state, outcome.data, now);
      const [written] = await this.#store.putKeyStates([next]);
      if (written) {
        this.#cache.set(keyId, { state: next, readAt: now });
        return outcome.result;
      }
      entry = await this.#read(keyId);
      reread = true;
    }
    throw new Error(`key state ${keyId}: too much contention (${MAX_CAS_ATTEMPTS} lost compare-and-sets)`);
  }

  /** The row that follows `state` with `data`: the next version, its TTL from now. */
  #nextState(keyId: string, state: KeyState | undefined, data: KeyData, now: number): KeyState {
    return {
      keyId,
      version: (state?.version ?? 0) + 1,
      updatedAt: now,
      expiresAt: now + this.#ttlMs,
      data: data as Record<string, unknown>,
    };
  }

  async #read(keyId: string): Promise<{ state: KeyState | undefined; readAt: number }> {
    const state = (await this.#store.getKeyStates([keyId])).get(keyId);
    const entry = { state, readAt: this.#now() };
    this.#cache.set(keyId, entry);
    return entry;
  }
}

/** The open circuit a key's stored state holds, if any. */
function circuitOf(state: KeyState | undefined): CircuitState | undefined {
  return (state?.data as KeyData | undefined)?.circuit;
}

function withoutCircuit(data: KeyData): KeyData {
  const { circuit: _circuit, ...rest } = data;
  return rest;
}

export type { Grant, KeyData, OpenCircuit, SendReport };
export { circuitOf, KeyGate, stopsKey };
