/**
 * (3) End to end through the local runtime (`dist/local-runtime/index.mjs`, a child process: HTTP → FC event → bundled
 * handler in its worker) with the fake PagerDuty at 0 ms and 50 ms: latency per callback (p50/p99, measured by this
 * client), PagerDuty requests per callback and, on the fake Tablestore, store round trips per callback. Callbacks
 * are posted one after another (the runtime serves one invocation at a time, as FC does per instance).
 */
import { startTimedPagerDuty } from './pd';
import { type BenchStore, createStore } from './store';
import { armsCallback, median, percentile, postCallback, ROUTING_KEY, round, startLocalRuntime } from './support';

interface EndToEndOptions {
  latencies: number[];
  sizes: number[];
  /** Measured callbacks per size (after 3 unmeasured ones). */
  reps: (size: number) => number;
  storeKind: BenchStore['kind'];
  storeNote: string;
  buildDir: string;
}

async function measureEndToEnd(options: EndToEndOptions) {
  const pd = await startTimedPagerDuty();
  const store = await createStore(options.storeKind, options.buildDir, options.storeNote);
  const runtime = await startLocalRuntime({
    ...store.env,
    PAGERDUTY_ROUTING_KEY: ROUTING_KEY,
    PAGERDUTY_EVENTS_URL: pd.url,
    // Latency, not pacing, is measured here: pacing off so every alert may be sent inside the invocation.
    PAGERDUTY_RATE_PER_MINUTE: '100000',
    // The timer function stays idle during the measurement (it would compete for the two cores).
    LOCAL_TIMER_SECONDS: '3600',
  });
  const rows = [];
  try {
    for (const latencyMs of options.latencies) {
      pd.setLatency(latencyMs);
      for (const size of options.sizes) {
        const reps = options.reps(size);
        const latencies: number[] = [];
        const pdRequests: number[] = [];
        const roundTrips: number[] = [];
        const statuses: Record<string, number> = {};
        for (let rep = -3; rep < reps; rep++) {
          const body = armsCallback(size);
          const pdBefore = pd.events.length;
          const storeBefore = store.roundTrips();
          const response = await postCallback(runtime.url, body);
          if (response.status >= 300) {
            throw new Error(`end-to-end callback answered ${response.status}: ${JSON.stringify(response.json)}`);
          }
          if (rep < 0) continue;
          statuses[response.status] = (statuses[response.status] ?? 0) + 1;
          latencies.push(response.ms);
          pdRequests.push(pd.events.length - pdBefore);
          const storeAfter = store.roundTrips();
          if (storeBefore !== undefined && storeAfter !== undefined) roundTrips.push(storeAfter - storeBefore);
        }
        rows.push({
          pagerdutyLatencyMs: latencyMs,
          alertsPerCallback: size,
          callbacks: reps,
          p50Ms: round(percentile(latencies, 50), 1),
          p99Ms: round(percentile(latencies, 99), 1),
          pagerdutyRequestsPerCallback: round(median(pdRequests), 1),
          storeRoundTripsPerCallback: roundTrips.length > 0 ? round(median(roundTrips), 1) : null,
          statuses,
        });
      }
    }
  } finally {
    await runtime.stop();
    await store.close();
    await pd.close();
  }
  return {
    method:
      'POST of ARMS callbacks (new alerts each time) to the local runtime, one at a time, 3 unmeasured first; ' +
      'latency measured by the client; pacing off (PAGERDUTY_RATE_PER_MINUTE=100000)',
    store: store.kind,
    storeNote: store.note,
    rows,
  };
}

export { measureEndToEnd };
