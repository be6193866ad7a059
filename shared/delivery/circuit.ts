/**
 * The circuit of one routing key, as pure functions over the key's stored state: backoff per key, not per delivery.
 * A 5xx, a timeout or a network error on any send to the key opens it; while it is open nothing is sent to the key
 * but one probe at a time (a real queued delivery), at a growing interval (`RETRY_BASE_SECONDS` doubling up to
 * `RETRY_MAX_SECONDS`: seconds, since this is paging); the first success closes it and the key's whole backlog is
 * due at once, at the key's pacing rate. PagerDuty requests during an outage grow with its length, not with the queue.
 *
 * ```
 *   closed ──failure──► open ──nextProbeAt──► probing ──2xx──► closed (backlog drains)
 *                        ▲                       │
 *                        └──────failure──────────┘  (interval doubles, capped)
 * ```
 */

/** The circuit part of a key's state (`KeyState.data.circuit`); absent when closed. */
interface CircuitState {
  openedAt: number;
  /** Failed probes since it opened (the interval doubles with each). */
  failedProbes: number;
  /** The next probe may start at this time. */
  nextProbeAt: number;
  /** A probe is in flight until this time (its sender's lease); another sender waits. */
  probeUntil: number;
  /** The failure that opened it or the last failed probe (one line, never a secret). */
  lastError: string;
  /** Route name of the key, for the health report. */
  route: string;
}

interface ProbeTiming {
  baseMs: number;
  maxMs: number;
}

function probeIntervalMs(failedProbes: number, timing: ProbeTiming): number {
  return Math.min(timing.maxMs, timing.baseMs * 2 ** Math.max(0, failedProbes));
}

/**
 * A send to the key failed in a way that is the key's, not the event's (5xx, timeout, network). Opens the circuit,
 * or, when the failure was the probe's, schedules the next probe later. Failures of sends already in flight when it
 * opened change nothing.
 */
function recordFailure(
  circuit: CircuitState | undefined,
  failure: { now: number; error: string; route: string; probe: boolean },
  timing: ProbeTiming,
): CircuitState {
  const { now, error, route } = failure;
  if (circuit === undefined) {
    return { openedAt: now, failedProbes: 0, nextProbeAt: now + timing.baseMs, probeUntil: 0, lastError: error, route };
  }
  if (!failure.probe) return circuit;
  const failedProbes = circuit.failedProbes + 1;
  return {
    ...circuit,
    failedProbes,
    nextProbeAt: now + probeIntervalMs(failedProbes, timing),
    probeUntil: 0,
    lastError: error,
  };
}

/** Whether a probe may start now: the interval has passed and no other probe is in flight. */
function mayProbe(circuit: CircuitState, now: number): boolean {
  return now >= circuit.nextProbeAt && circuit.probeUntil <= now;
}

/** Takes the probe for `leaseMs` (the sender's send timeout); others wait until it ends or it is reported. */
function takeProbe(circuit: CircuitState, now: number, leaseMs: number): CircuitState {
  return { ...circuit, probeUntil: now + leaseMs };
}

/** When the circuit next lets a sender try (a probe), epoch ms. */
function nextProbeAt(circuit: CircuitState): number {
  return Math.max(circuit.nextProbeAt, circuit.probeUntil);
}

export type { CircuitState, ProbeTiming };
export { mayProbe, nextProbeAt, probeIntervalMs, recordFailure, takeProbe };
