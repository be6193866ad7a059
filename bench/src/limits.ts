/**
 * What limits a target that was not met, stated from the run's own figures and the constants of the code that sets
 * the limit (read from `shared/constants.ts`, so the text follows the code). Causes that were not measured are not
 * claimed: where a figure only bounds the cause, the sentence says so.
 */
import { SETTINGS } from '../../shared/config/settings';
import {
  PACING_COALESCE_MS,
  PACING_WINDOW_MS,
  SENDS_IN_FLIGHT,
  WEBHOOK_ANSWER_RESERVE_MS,
} from '../../shared/constants';
import { type Json, round } from './support';
import type { Target } from './targets';

/** The default of a setting, as `shared/config/settings.ts` declares it. */
function defaultOf(env: string): unknown {
  return SETTINGS.find((setting) => setting.env === env)?.default;
}

/** Which parts of the code a share of the warm chain's own profile belongs to, by where its entries are. */
const WARM_PROFILE_PARTS: readonly [string, RegExp][] = [
  ['garbage collection', /^\(garbage collector\)/],
  ['the log lines (the dry-run events stringified, the line scrubbed)', /shared\/logger\.ts|scrubSecrets\.ts/],
  // ICU's converter and the Buffer slices are native frames without a script: named by function.
  ["FC's event (Buffer to text, parse)", /shared\/fc\/|node:buffer|^(transcode|ucs2Slice|latin1Slice|isAscii)\b/],
  ['delivery keys and SHA-256', /deliveryKey\.ts|sha256|oneShotDigest|crypto\/hash/],
  ['intake (parse, validation, normalization)', /shared\/alerts\/|shared\/validation\//],
  ['event building', /shared\/pagerduty\//],
];

/** The warm profile's top entries summed by part of the code (shares of the sampled time), largest first. */
function profileShares(profile: Json | undefined): string {
  if (!profile?.top?.length) return '';
  const shares = WARM_PROFILE_PARTS.map(([part, pattern]) => {
    const share = profile.top
      .filter((entry: Json) => pattern.test(entry.entry))
      .reduce((sum: number, entry: Json) => sum + entry.share, 0);
    return [part, share] as const;
  })
    .filter(([, share]) => share > 0)
    .sort((a, b) => b[1] - a[1]);
  if (shares.length === 0) return '';
  return (
    ` In the chain's own profile (${profile.callbacks} ${profile.alertsPerCallback}-alert callbacks, its top ` +
    `${profile.top.length} entries): ` +
    shares.map(([part, share]) => `${part} ${(share * 100).toFixed(1)}%`).join(', ') +
    '.'
  );
}

type Explain = (sections: Record<string, Json>, target: Target) => string | undefined;

const kib = (bytes: number) => `${Math.round(bytes / 1024)} KiB`;

/**
 * How busy the two processes of a measurement were, each against one core: the relay runs on one worker thread of
 * the bridge's process, and both fakes share this process's one event loop, so a share near 100% of one core means
 * that thread bounds the figure.
 */
function cpuShare(cpu: Json): string {
  if (cpu?.bridge === null || cpu?.bridge === undefined) return 'CPU time was not measured.';
  const bridge = cpu.bridge / cpu.wall;
  const fakes = cpu.fakesAndHarness / cpu.wall;
  const busiest = bridge >= fakes ? "the bridge's process" : 'the fakes';
  return (
    `Up to the last send the bridge's process used ${cpu.bridge} ms of CPU (${Math.round(bridge * 100)}% of one ` +
    `core; the relay runs on one thread of it) and this process, the fake PagerDuty and the fake Tablestore, ` +
    `${cpu.fakesAndHarness} ms (${Math.round(fakes * 100)}%, one event loop), in ${cpu.wall} ms` +
    (Math.max(bridge, fakes) >= 0.85
      ? `: ${busiest} ${bridge >= fakes ? 'was' : 'were'} CPU-bound, so the drain is bound by CPU on this machine rather than by PagerDuty.`
      : ': neither was saturated, so the rest of the time is spent waiting (store requests and sends in sequence, ' +
        'and the other load of this shared machine), not attributed further here.')
  );
}

/** The storm section a storm target belongs to (`storm-…` or `storm-scaled-…`). */
function stormOf(sections: Record<string, Json>, target: Target): Json {
  return target.id.startsWith('storm-scaled-') ? sections.stormScaled : sections.storm;
}

/**
 * Each later window of a storm: when its first event went out against the previous window's first and last, and
 * which delivery-health run sent it (or how long no run was active before it). `restamped`: every window came one
 * PACING_WINDOW_MS after the previous window's last send (the bridge's entry for that window was stamped then);
 * `gap`: some window waited for a run to start after its budget was back.
 */
function windowSteps(storm: Json): { text: string; restamped: boolean; gap: boolean; spreads: string[] } {
  const firsts: number[] = storm.windowFirstSeconds ?? [];
  const lasts: number[] = storm.milestonesSeconds ?? [];
  const timeline: Json[] = storm.healthRunTimeline ?? [];
  const windowSeconds = PACING_WINDOW_MS / 1000;
  let gap = false;
  let restamped = firsts.length > 1;
  const spreads: string[] = [];
  const parts = firsts.slice(1).map((firstAt, index) => {
    const previousFirst = firsts[index] as number;
    const previousLast = lasts[index] as number;
    const afterLast = firstAt - previousLast;
    if (Math.abs(afterLast - windowSeconds) > 0.6) restamped = false;
    spreads.push(`${(previousLast - previousFirst).toFixed(1)} s`);
    const label =
      `window ${index + 2} first went out at ${firstAt} s, ${(firstAt - previousFirst).toFixed(1)} s after the ` +
      `previous window's first send and ${afterLast.toFixed(1)} s after its last`;
    const run = timeline.find((item) => item.startSeconds <= firstAt + 0.2 && firstAt <= item.endSeconds + 0.2);
    if (!run) return `${label} (no finished delivery-health run in the log covers it)`;
    if (run.startSeconds > previousLast + windowSeconds + 0.5) {
      gap = true;
      const before = timeline.filter((item) => item.endSeconds < run.startSeconds);
      const idleFrom = before.length > 0 ? Math.max(...before.map((item) => item.endSeconds)) : undefined;
      return (
        `${label}, by a ${run.kind} run that started at ${run.startSeconds} s; no relay run was active ` +
        `${idleFrom === undefined ? 'before it' : `from ${idleFrom} s`}`
      );
    }
    return `${label}, by a ${run.kind} run that started at ${run.startSeconds} s and waited for the budget`;
  });
  return { text: parts.join('; '), restamped: restamped && !gap, gap, spreads };
}

/**
 * Why a storm drained later than PagerDuty's limiter allows. The measured time splits exactly into the time the first
 * window's events took to go out, plus, for each later window, how much more than one window passed between the last
 * event of the previous window and the last of this one (PagerDuty's limiter allows exactly one window).
 */
const stormPace: Explain = (sections, target) => {
  const storm = stormOf(sections, target);
  const marks: number[] = storm.milestonesSeconds;
  const steps = marks.slice(1).map((at, index) => at - (marks[index] as number) - storm.windowSeconds);
  const windows = windowSteps(storm);
  return (
    `Of the ${storm.drainSeconds} s (ideal ${storm.idealDrainSeconds} s), ${marks[0]} s went to the first ` +
    `${Math.min(storm.limit, storm.alerts)} events, sent while the ${storm.callbacks} callbacks were being posted one ` +
    `after another (${storm.postingSeconds} s in all; answers ${JSON.stringify(storm.callbackAnswers)}, 202 = the ` +
    'rest queued for the relay)' +
    (steps.length > 0
      ? `; each later window's last event came ${steps.map((step) => `${step.toFixed(1)} s`).join(' and ')} more ` +
        `than one window after the previous window's last. PagerDuty frees a window's room one window after each ` +
        `event; ${windows.text || 'no run timeline was recorded'}.` +
        (windows.restamped
          ? ` So the bridge's budget came back PACING_WINDOW_MS = ${PACING_WINDOW_MS / 1000} s after the previous ` +
            "window's last send, not its first: a window's blocks, taken less than PACING_COALESCE_MS = " +
            `${PACING_COALESCE_MS / 1000} s apart, share one window entry that each block restamps with its own time ` +
            "(`shared/delivery/pacing.ts` `take` compares a new block with the entry's latest stamp), so each step " +
            `is late by the time the previous window took to go out (${windows.spreads.join(', ')}) plus the ` +
            `${(PACING_WINDOW_MS / 1000 - storm.windowSeconds).toFixed(1)} s margin.`
          : '')
      : '.') +
    ` delivery-health ran ${storm.healthRuns.timerRuns} times by the timer and ${storm.healthRuns.invokedRuns} ` +
    'by invocation (kicks and chained runs).' +
    (windows.gap
      ? " A relay run waits for a key's budget only inside its own time budget, and chains the next run only when " +
        'that run could act within its budget (docs/delivery.md, "Continuous drain"); a budget that reopens later ' +
        "is left to the timer (s.yaml's cron, every minute), so the wait depends on where the minute falls."
      : '') +
    (storm.drained ? '' : ` Not drained within the cap: ${storm.waitingAtEnd} still waiting.`)
  );
};

const EXPLAIN: Record<string, Explain> = {
  'cold-start': ({ coldStart }, target) => {
    const names: Record<string, string> = {
      'cold-start': 'alert-webhook (Tablestore)',
      'cold-start-file': 'alert-webhook (file)',
      'cold-start-memory': 'alert-webhook',
    };
    const name = names[target.id] ?? 'alert-webhook';
    const row = coldStart.rows.find((candidate: Json) => candidate.name === name);
    const bare = coldStart.rows.find((candidate: Json) => candidate.name === 'bare');
    const memory = coldStart.rows.find((candidate: Json) => candidate.name === 'alert-webhook');
    if (!row || !bare) return undefined;
    const size = coldStart.bundles['alert-webhook'];
    const first = round(row.medianAnsweredMs - row.medianLoadedMs, 1);
    const profile = coldStart.profiles?.[name];
    const parts = [
      `Init alone (node's boot, then the ${kib(size.bytes)} bundle run from its V8 code cache, trained on a first ` +
        'invocation: configuration, store, the keep-alive sockets opened' +
        (name.includes('Tablestore') ? ', the Tablestore SDK loaded' : '') +
        `) ends ${row.medianLoadedMs} ms after the process starts, ` +
        `${round(row.medianLoadedMs / bare.medianMs, 2)}× bare node's whole run (${bare.medianMs} ms); the first ` +
        `invocation then takes ${first} ms.`,
    ];
    const memoryFirst = memory ? round(memory.medianAnsweredMs - memory.medianLoadedMs, 1) : undefined;
    if (name.includes('Tablestore') && memory && memoryFirst !== undefined) {
      const trips = row.medianStoreRoundTrips;
      const perTrip = trips ? round((first - memoryFirst) / trips, 1) : undefined;
      // What a cold start on this store could answer at: init, the memory store's invocation, then the trips.
      const budget = 2 * bare.medianMs - row.medianLoadedMs - memoryFirst;
      parts.push(
        `On STORE=memory the same invocation takes ${memoryFirst} ms: the difference is the webhook's store calls, ` +
          (trips
            ? `${trips} store requests on its path (a new 1-alert trigger makes 6, 5 of them one after another: ` +
              `docs/delivery.md, "The webhook's store round trips"), ${perTrip} ms per request here`
            : 'made one after another on its path (counted per callback in sections 2 and 3)') +
          ": a loopback round trip to the fake (in the bench's own process) plus each first run of Node's HTTP client " +
          "and the SDK's request path (signing, protobuf, the PlainBuffer CRC8 computed byte by byte, interpreted " +
          'until V8 tiers it up), which no code cache removes.' +
          (!perTrip || perTrip <= 0
            ? ''
            : budget > 0
              ? ` The floor at this cost: init and the memory store's invocation leave ${round(budget, 1)} ms under ` +
                `2× bare node, room for ${Math.floor(budget / perTrip)} such requests; the path's 5 sequential round ` +
                'trips are the floor of its orderings (each one a guarantee needs), so below 2× needs a cheaper first ' +
                'request (the SDK and the network), not fewer.'
              : ` The floor at this cost: init and the memory store's invocation alone end at ` +
                `${round(row.medianLoadedMs + memoryFirst, 1)} ms, past 2× bare node (${round(2 * bare.medianMs, 1)} ` +
                'ms), before any round trip.'),
      );
    } else if (name.includes('file') && memoryFirst !== undefined) {
      parts.push(
        `On STORE=memory the same invocation takes ${memoryFirst} ms: the difference is the file store's rows, each ` +
          'written atomically (a temporary file, then a rename; no fsync) under a lock file, and its first lock ' +
          'loading node:worker_threads (its holder names the thread); there is nothing for init to prepare but the ' +
          'directories, which cost a few mkdir calls.',
      );
    }
    if (profile?.top) {
      parts.push(
        'Top self time of one profiled cold start: ' +
          profile.top
            .slice(0, 4)
            .map((entry: Json) => `${entry.entry} ${entry.selfMs} ms`)
            .join('; ') +
          ` (of ${profile.totalMs} ms sampled).`,
      );
    }
    return parts.join(' ');
  },
  'warm-cpu': ({ warmCpu }, target) => {
    const rows: Json[] = warmCpu.rows;
    const row = rows.find((candidate) => target.id === `warm-cpu-${candidate.alertsPerCallback}`) ?? rows[0];
    const small = rows[0];
    const large = rows[rows.length - 1];
    const envelope =
      row.fcEnvelopeUsPerAlert === undefined
        ? ''
        : ` FC's event format alone adds ${row.fcEnvelopeUsPerAlert} µs/alert here (its Buffer event decoded and ` +
          `parsed before the body in it is), which the floor leaves out: with it the floor is ` +
          `${round(row.floorUsPerAlert + row.fcEnvelopeUsPerAlert, 2)} µs and the ratio ` +
          `${round(row.bridgeUsPerAlert / (row.floorUsPerAlert + row.fcEnvelopeUsPerAlert), 2)}×.`;
    // What a callback costs whatever its size: the 1-alert chain less the per-alert cost of the largest callback.
    const fixed =
      small.alertsPerCallback === 1 && large.alertsPerCallback > 1
        ? ` (about ${round(small.bridgeUsPerAlert - large.bridgeUsPerAlert, 1)} µs per callback here: the ` +
          `${small.alertsPerCallback}-alert chain less the per-alert cost of the ${large.alertsPerCallback}-alert one)`
        : '';
    return (
      `Per alert the chain costs ${small.bridgeUsPerAlert} µs in a ${small.alertsPerCallback}-alert callback and ` +
      `${large.bridgeUsPerAlert} µs in a ${large.alertsPerCallback}-alert one, against a floor of ` +
      `${large.floorUsPerAlert} µs. The fixed cost per callback${fixed} dominates small callbacks: FC's event ` +
      'decoded and parsed (below), two log lines (the dry-run one stringifies the event and is scrubbed for secrets), ' +
      'four store primitives in dry-run (a read, the claim, the marker write, the counters: none left to drop ' +
      'without changing what the send path stores), six middlewares (four before-hooks and one after, each awaited ' +
      "by Middy), the configuration check and the response. With its one alert's intake and event building, those " +
      `parts make the ${small.ratio}× of a ${small.alertsPerCallback}-alert callback here; each is work a callback ` +
      'needs (the middlewares authenticate, count refusals and bound the answer). Samples are taken ' +
      'after a scavenge, not a full collection: a full one deoptimizes the chain (V8 drops code whose weakly held ' +
      "objects it frees) and doubled the 1-alert figure, a cost FC's instances do not pay every 200 callbacks. " +
      'Per alert the chain does much more than parse and stringify (validation, normalization, SHA-256 ' +
      'delivery keys, event building, ordering, the claim), and in dry-run it prints every event it would send: one ' +
      'JSON.stringify of each (the stringify the floor counts once), and the whole line is scrubbed: a callback can ' +
      'quote a configured key (an ARMS contact field or annotation holding the integration key).' +
      envelope +
      profileShares(warmCpu.profile)
    );
  },
  'e2e-latency': ({ endToEnd }, target) => {
    const latency = Number(target.id.split('-').pop());
    const row = endToEnd.rows
      .filter((candidate: Json) => candidate.pagerdutyLatencyMs === latency)
      .reduce((a: Json, b: Json) => (b.alertsPerCallback > a.alertsPerCallback ? b : a));
    const rounds = Math.ceil(row.alertsPerCallback / SENDS_IN_FLIGHT);
    const one = endToEnd.rows.find(
      (candidate: Json) => candidate.pagerdutyLatencyMs === latency && candidate.alertsPerCallback === 1,
    );
    const perExtra = one ? (row.p50Ms - one.p50Ms) / (row.alertsPerCallback - 1) : undefined;
    return (
      `The webhook answers after its sends, with up to SENDS_IN_FLIGHT = ${SENDS_IN_FLIGHT} in flight: ` +
      `${row.alertsPerCallback} alerts are at least ${rounds} rounds of PagerDuty round trips` +
      (latency > 0 ? ` (≥ ${rounds * latency} ms at ${latency} ms)` : '') +
      (one
        ? `; a 1-alert callback takes ${one.p50Ms} ms, and each further alert adds about ${perExtra?.toFixed(1)} ms ` +
          `here (${Math.round(row.p50Ms - one.p50Ms - Math.max(0, rounds - 1) * latency)} ms of the difference ` +
          'beyond the extra round trips: claim, event building, send and outcome writes per alert).'
        : '.') +
      ' How that per-alert time divides between CPU and store round trips is not separated in this run ' +
      `(${row.storeRoundTripsPerCallback ?? 'n/a'} store round trips per callback); a \`--cpu-prof\` of the webhook ` +
      'under this load would.'
    );
  },
  'storm-time': stormPace,
  'storm-rate': stormPace,
  'storm-requests': (sections, target) => {
    const storm = stormOf(sections, target);
    return (
      `${storm.rateLimited} requests were answered 429 and ${storm.otherFailures} failed otherwise, on top of ` +
      `${storm.accepted} accepted; the busiest ${storm.windowSeconds} s held ${storm.busiestWindowRequests} requests ` +
      `against PagerDuty's ${storm.limit}` +
      (storm.busiestWindowRequests > storm.limit
        ? ': the senders together went over the shared budget in that window.'
        : ': no window went over the limit, so the 429s came from the two windows disagreeing about when an event ' +
          'left it (the fake counts arrivals; the bridge counts blocks taken).')
    );
  },
  'storm-lost': (sections, target) => {
    const storm = stormOf(sections, target);
    return (
      `${storm.dead} deliveries ended DEAD and ${storm.lost - storm.dead} are neither accepted nor waiting ` +
      `(rows at the end: ${JSON.stringify(storm.storeStatusesAtEnd)}).`
    );
  },
  'storm-duplicates': (sections, target) => {
    const storm = stormOf(sections, target);
    return (
      `${storm.duplicatesTotal} events were accepted more than once for the same delivery (at most ` +
      `${storm.duplicatesMaxPerKey + 1} times one): PagerDuty dedupes triggers by dedup_key, but each is an extra ` +
      'request and means an outcome was not recorded before the delivery was sent again.'
    );
  },
  'outage-recovery': ({ outage }, target) => {
    const row = outage.rows.find((candidate: Json) => `outage-recovery-${candidate.queued}` === target.id);
    if (!row) return undefined;
    const base = defaultOf('RETRY_BASE_SECONDS');
    const max = defaultOf('RETRY_MAX_SECONDS');
    if (row.recoverySeconds === null) {
      return (
        `${row.waitingAtEnd} alerts were still waiting at the cap (rows: ${JSON.stringify(row.storeStatusesAtEnd)}); ` +
        `the first request after the recovery came ${row.firstRequestAfterRecoverySeconds ?? 'never'} s after it.`
      );
    }
    return (
      `The first request after the recovery came ${row.firstRequestAfterRecoverySeconds} s after it (the open ` +
      `circuit probes at RETRY_BASE_SECONDS = ${base} s doubling to RETRY_MAX_SECONDS = ${max} s, so that part is at ` +
      `most ${max} s), and the remaining ${(row.recoverySeconds - row.firstRequestAfterRecoverySeconds).toFixed(1)} s ` +
      `went to the ${row.queued} queued alerts after the probe succeeded (${row.requestsAfterRecovery} requests; ` +
      `delivery-health ran ${row.healthRuns.timerRuns} times by the timer and ${row.healthRuns.invokedRuns} times ` +
      'by invocation, kicks and chained runs, in the whole run).'
    );
  },
  'outage-requests': ({ outage }) =>
    outage.rows
      .map(
        (row: Json) =>
          `With ${row.queued} queued (callbacks of ${Math.ceil(row.queued / row.callbacks)}), the first burst was ` +
          `${row.largestBurst} requests (the first callback's sends, up to SENDS_IN_FLIGHT = ${SENDS_IN_FLIGHT} in ` +
          `flight before the first 500 came back and opened the circuit), then ${row.outageBursts - 1} bursts of ` +
          `${row.requestsDuringOutage - row.largestBurst} requests in all (at ${row.bursts
            .slice(1)
            .map((burst: Json) => `${burst.atSeconds} s${burst.requests > 1 ? ` ×${burst.requests}` : ''}`)
            .join(', ')}).`,
      )
      .join(' '),
  'outage-lost': ({ outage }) =>
    outage.rows
      .map(
        (row: Json) =>
          `${row.queued} queued: ${row.lost} lost (DEAD ${row.dead}), ${row.duplicatesTotal} accepted twice, rows at ` +
          `the end ${JSON.stringify(row.storeStatusesAtEnd)}.`,
      )
      .join(' '),
  'relay-drain': ({ relayDrain }, target) => {
    const row = relayDrain.rows.find((candidate: Json) => `relay-drain-${candidate.pagerdutyLatencyMs}` === target.id);
    if (!row) return undefined;
    if (!row.drained) {
      return `${row.distinctAccepted} of ${row.rows} accepted at the cap (rows: ${JSON.stringify(row.storeStatusesAtEnd)}).`;
    }
    const windowRate =
      row.pagerdutyLatencyMs > 0 ? Math.round((SENDS_IN_FLIGHT * 1000) / row.pagerdutyLatencyMs) : undefined;
    return (
      `Of the ${row.drainSeconds} s, ${row.firstSendSeconds} s passed before the first send (the invocation and ` +
      "the run's first store reads) and the sends took " +
      `${row.sendSeconds} s for ${row.rows} rows (${Math.round(row.rows / Math.max(row.sendSeconds, 0.001))}/s` +
      (windowRate
        ? `; ${SENDS_IN_FLIGHT} in flight at ${row.pagerdutyLatencyMs} ms alone would allow ${windowRate}/s`
        : '') +
      `), in ${row.healthRuns.invokedRuns + row.healthRuns.timerRuns} delivery-health run(s) with ` +
      `${row.storeRoundTrips ?? 'uncounted'} store round trips. ` +
      cpuShare(row.cpuMs) +
      ' The time before the first send covers the run starting and its reads before the first lease.'
    );
  },
  'relay-trips': ({ relayDrain }, target) => {
    const row = relayDrain.rows.find((candidate: Json) => `relay-trips-${candidate.pagerdutyLatencyMs}` === target.id);
    if (!row?.storeRequests) return undefined;
    const slices = Math.ceil(row.distinctAccepted / SENDS_IN_FLIGHT);
    return (
      `${row.storeRoundTrips} store requests for ${row.distinctAccepted} delivered alerts in ` +
      `${row.healthRuns.invokedRuns + row.healthRuns.timerRuns} run(s), the health report's reads included: ` +
      (row.storeRequests as Json[])
        .map(
          (item) =>
            `${item.request} ×${item.requests}${item.rowsPerRequest === null || !item.request.startsWith('Batch') ? '' : ` (${item.rowsPerRequest} rows each)`}`,
        )
        .join(', ') +
      `. That is ${(row.storeRoundTrips / slices).toFixed(1)} requests per ${SENDS_IN_FLIGHT} sends ` +
      `(${slices} slices of SENDS_IN_FLIGHT): ≤ 0.1 per alert needs at most ${(0.1 * SENDS_IN_FLIGHT).toFixed(1)} ` +
      'per slice, or larger slices. The store documents a transition as three ordered writes (the new due-index ' +
      "entry, the main row, the old entry's delete: `shared/store/TablestoreStore.ts`), batched per slice here."
    );
  },
  'relay-lost': ({ relayDrain }) =>
    relayDrain.rows
      .map(
        (row: Json) =>
          `PD at ${row.pagerdutyLatencyMs} ms: ${row.lost} lost, ${row.duplicatesTotal} accepted twice, rows at the ` +
          `end ${JSON.stringify(row.storeStatusesAtEnd)}.`,
      )
      .join(' '),
  memory: ({ memory }) =>
    `After require the process holds ${memory.afterRequireMb} MB (bare node ${memory.bareNodeMb} MB); the 1,000-alert ` +
    `callback takes it to ${memory.peakRssMb} MB with V8's default heap sizing on this large machine, and to ` +
    `${memory.cappedPeakRssMb} MB with the old space capped at ${memory.cappedOldSpaceMb} MB (answer ` +
    `${JSON.stringify(memory.lastCappedAnswer)}). The capped figure is the one that predicts a 128 MB instance. How ` +
    'the peak divides between the callback body, its parsed alerts, the built events, the records and any requests ' +
    'in flight is not measured here (a heap snapshot at the peak would tell).',
  alertmanager: ({ alertmanager, relayDrain }, target) => {
    const latency = Number(target.id.split('-').pop());
    const row = alertmanager.rows.find((candidate: Json) => candidate.pagerdutyLatencyMs === latency);
    if (!row) return undefined;
    const { bridge } = row;
    const answer = bridge.callbackAnswer ?? {};
    const deadline = Number(defaultOf('WEBHOOK_DEADLINE_MS'));
    const timeout = Number(defaultOf('PAGERDUTY_TIMEOUT_MS'));
    const sendWindow = deadline - timeout - WEBHOOK_ANSWER_RESERVE_MS;
    const drain = relayDrain?.rows.find((candidate: Json) => candidate.pagerdutyLatencyMs === latency);
    return (
      `The bridge answered the callback in ${bridge.callbackMs} ms with ${bridge.callbackStatus}, having sent ` +
      `${answer.delivered ?? '?'} of ${answer.received ?? '?'} alerts itself (${answer.queued ?? '?'} queued)` +
      `${bridge.callbackMs > 5000 ? ", after ARMS's 5 s timeout (ARMS would have given up on this callback)" : ''}. ` +
      `Its first request reached PagerDuty ${bridge.firstRequestSeconds ?? '?'} s after the POST` +
      (bridge.acceptedBeforeAnswer !== undefined ? `, ${bridge.acceptedBeforeAnswer} accepted before the answer` : '') +
      '. The webhook claims the callback in chunks and sends a chunk once it is claimed (every alert is stored ' +
      'before it is sent), with at most one slice of outcomes and one window of sends unrecorded, and starts a send ' +
      `only while the send's whole timeout and the answer reserve still fit in its deadline: WEBHOOK_DEADLINE_MS ${deadline} − ` +
      `PAGERDUTY_TIMEOUT_MS ${timeout} − WEBHOOK_ANSWER_RESERVE_MS ${WEBHOOK_ANSWER_RESERVE_MS} = ${sendWindow} ms ` +
      'after the invocation starts' +
      (answer.delivered === 0 && bridge.callbackMs > sendWindow
        ? `; none was sent inline, consistent with storing ${answer.received} alerts taking longer than that (the ` +
          `answer came at ${bridge.callbackMs} ms; the time to store is not measured separately)`
        : '') +
      `. The relay it kicked then needed ${bridge.lastTriggerSeconds !== null ? (bridge.lastTriggerSeconds - bridge.callbackMs / 1000).toFixed(1) : '?'} s ` +
      `from the answer to the last trigger (delivery-health runs: ${bridge.healthRuns?.invokedRuns ?? '?'} invoked, ` +
      `${bridge.healthRuns?.timerRuns ?? '?'} by the timer)` +
      (drain?.drained ? `; section 7 drains ${drain.rows} due rows at this latency in ${drain.drainSeconds} s` : '') +
      '. Alertmanager answers the POST before it notifies and persists no alert first.' +
      (bridge.drained
        ? ''
        : ` Within the ${alertmanager.method.match(/cap (\d+) s/)?.[1] ?? ''} s cap the bridge had not drained: ${bridge.lost} triggers not yet accepted.`) +
      ` Bridge: ${bridge.pagerdutyRequests} PD requests, ${bridge.duplicates} duplicate accepted events, ` +
      `peak RSS ${bridge.peakRssMb} MB for the whole local runtime (host and both function workers).`
    );
  },
  'store-calls-constant': ({ warmCpu }) => {
    const rows: Json[] = warmCpu.storeCalls;
    const small = rows[0];
    const large = rows[rows.length - 1];
    if (!small || !large) return undefined;
    const grown = Object.entries(large.byMethod as Record<string, number>)
      .filter(([name, count]) => count > (small.byMethod[name] ?? 0))
      .map(([name, count]) => `${name} ${small.byMethod[name] ?? 0} → ${count}`);
    return (
      `From ${small.alertsPerCallback} to ${large.alertsPerCallback} alerts per callback the port calls go ` +
      `${small.storeCalls} → ${large.storeCalls}; the methods that grow: ${grown.join(', ') || 'none'} (answers ` +
      `${rows.map((row) => row.status).join(', ')}; PagerDuty requests ${rows.map((row) => row.pagerdutyRequests).join(', ')}). ` +
      (grown.some((item) => item.startsWith('replaceMany'))
        ? `Senders record outcomes (replaceMany) in slices of SENDS_IN_FLIGHT = ${SENDS_IN_FLIGHT} as the answers ` +
          'come, so the outcome writes follow the slices sent, by design (docs/delivery.md, "Crash cost"); the ' +
          'other growing calls are not attributed here.'
        : 'Not attributed further in this run.')
    );
  },
  'e2e-store-trips': ({ endToEnd }, target) => {
    const latency = Number(target.id.split('-').pop());
    const rows: Json[] = endToEnd.rows.filter((row: Json) => row.pagerdutyLatencyMs === latency);
    return (
      rows
        .map(
          (row) =>
            `${row.alertsPerCallback} alerts (${Math.ceil(row.alertsPerCallback / SENDS_IN_FLIGHT)} slice(s) of ` +
            `${SENDS_IN_FLIGHT}): ${row.storeRoundTripsPerCallback}`,
        )
        .join('; ') +
      '. The webhook records outcomes in slices of SENDS_IN_FLIGHT as the answers come (so a crash re-sends at most ' +
      'the slices in flight: docs/delivery.md, "Crash cost"), so its round trips grow with the number of slices, ' +
      'not with each alert.'
    );
  },
};

/** The miss in one line, and the cause (the same cause is shared by several targets of one section). */
function explainMiss(target: Target, sections: Record<string, Json>): { head: string; why?: string } {
  // The scaled storm's targets share the storm's explanations (stormOf picks the section).
  const id = target.id.replace(/^storm-scaled-/, 'storm-');
  const key = Object.keys(EXPLAIN)
    .sort((a, b) => b.length - a.length)
    .find((prefix) => id === prefix || id.startsWith(`${prefix}-`));
  let why: string | undefined;
  try {
    why = key ? EXPLAIN[key]?.(sections, target) : undefined;
  } catch {
    why = undefined;
  }
  return { head: `**${target.figure}**: ${target.value}, target ${target.target}.`, why };
}

export { explainMiss };
