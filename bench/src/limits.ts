/**
 * What limits a target that was not met, stated from the run's own figures and the constants of the code that sets
 * the limit (read from `shared/constants.ts`, so the text follows the code). Causes that were not measured are not
 * claimed: where a figure only bounds the cause, the sentence says so.
 */
import { SENDS_IN_FLIGHT as WEBHOOK_SEND_CONCURRENCY } from '../../shared/constants';
import type { Json } from './support';
import type { Target } from './targets';

type Explain = (sections: Record<string, Json>, target: Target) => string | undefined;

const kib = (bytes: number) => `${Math.round(bytes / 1024)} KiB`;

const EXPLAIN: Record<string, Explain> = {
  'cold-start': ({ coldStart }) => {
    const bare = coldStart.rows.find((row: Json) => row.name === 'bare');
    const webhook = coldStart.rows.find((row: Json) => row.name === 'alert-webhook');
    const ts = coldStart.rows.find((row: Json) => row.name === 'alert-webhook (Tablestore)');
    const size = coldStart.bundles['alert-webhook'];
    const parts = [
      `The webhook bundle is ${kib(size.bytes)} (${kib(size.gzipBytes)} gzipped). Inside the child, the bundle is ` +
        `loaded ${webhook.medianLoadedMs} ms after process start and the first answer is at ` +
        `${webhook.medianAnsweredMs} ms on STORE=memory` +
        (ts ? ` and ${ts.medianAnsweredMs} ms on Tablestore` : '') +
        `, while a bare node process exits after ${bare.medianMs} ms in all.`,
      'So the time goes to requiring the bundle, then to the first invocation (on the first send, Node loads its ' +
        'built-in fetch (undici); on Tablestore, the store also loads the tablestore SDK and its compiled protobuf ' +
        'at first use).',
      `The remaining ${Math.round(webhook.medianMs - webhook.medianAnsweredMs)} ms of the webhook's wall time pass ` +
        'between its answer and the exit the harness sees (process teardown, not attributed further here; on FC the ' +
        'instance does not exit, so "answered at" is the part a caller waits for).',
      'To measure before acting on it: a `--cpu-prof` of one cold start; the SDK protobuf trim named in issue 8.',
    ];
    return parts.join(' ');
  },
  'warm-cpu': ({ warmCpu }) => {
    const rows: Json[] = warmCpu.rows;
    const small = rows[0];
    const large = rows[rows.length - 1];
    return (
      `Per alert the chain costs ${small.bridgeUsPerAlert} µs in a ${small.alertsPerCallback}-alert callback and ` +
      `${large.bridgeUsPerAlert} µs in a ${large.alertsPerCallback}-alert one, against a floor of about ` +
      `${large.floorUsPerAlert} µs: the fixed cost per callback (middlewares, configuration check, FC event parse, ` +
      'response) dominates small callbacks, and per alert the chain does much more than parse and stringify ' +
      '(validation, normalization, SHA-256 identities and delivery keys, event building, a dry-run log line with the ' +
      'event, the claim). Not profiled in this run: the next step is a `--cpu-prof` of the warm child.'
    );
  },
  'e2e-latency': ({ endToEnd }, target) => {
    const latency = Number(target.id.split('-').pop());
    const row = endToEnd.rows
      .filter((candidate: Json) => candidate.pagerdutyLatencyMs === latency)
      .reduce((a: Json, b: Json) => (b.alertsPerCallback > a.alertsPerCallback ? b : a));
    const rounds = Math.ceil(row.alertsPerCallback / WEBHOOK_SEND_CONCURRENCY);
    const one = endToEnd.rows.find(
      (candidate: Json) => candidate.pagerdutyLatencyMs === latency && candidate.alertsPerCallback === 1,
    );
    return (
      `The webhook sends every alert before it answers, at most WEBHOOK_SEND_CONCURRENCY = ${WEBHOOK_SEND_CONCURRENCY} ` +
      `at a time: ${row.alertsPerCallback} alerts are ${rounds} rounds of PagerDuty round trips` +
      (latency > 0 ? ` (≥ ${rounds * latency} ms at ${latency} ms)` : '') +
      `, plus CPU per sent alert: about ${((row.p50Ms - (one?.p50Ms ?? 0)) / (row.alertsPerCallback - 1)).toFixed(1)} ` +
      `ms per extra alert here (a 1-alert callback takes ${one?.p50Ms} ms). A CPU profile of a 1,000-alert send ` +
      "(outside this run) put about half of the webhook's CPU in Node's fetch (undici). Answering 4× the latency needs " +
      'more sends in flight or answering once the alerts are stored and leaving the sends to the relay.'
    );
  },
  'storm-rate': ({ storm }) =>
    `Every alert was accepted (${storm.distinctAccepted}/${storm.alerts}), but the drain took ${storm.drainSeconds} s ` +
    `against ${storm.idealDrainSeconds} s at the allowed rate. The callbacks answered ${JSON.stringify(storm.callbackAnswers)} ` +
    `(202: some alerts queued for the relay; slowest callback ${storm.slowestCallbackMs} ms), and PagerDuty answered ` +
    `${storm.rateLimited} × 429. What remains after the webhook goes through the relay, which runs every second ` +
    '(LOCAL_TIMER_SECONDS=1) and sends one delivery at a time; how much of the gap is pacing, serial sends or ' +
    "store round trips is not separated by this run (the relay's report per run would tell: see the runtime log).",
  'storm-requests': ({ storm }) =>
    `${storm.rateLimited} requests answered 429 on top of ${storm.accepted} accepted: the sends were not paced to ` +
    'the per-key limit everywhere (inline webhook sends and relay together).',
  'storm-lost': ({ storm }) =>
    `${storm.dead} deliveries ended DEAD and ${storm.lost - storm.dead} are neither accepted nor waiting; with ` +
    'MAX_ATTEMPTS=20 a delivery refused 20 times by the rate limit dies.',
  'storm-duplicates': ({ storm }) =>
    `${storm.duplicatesTotal} events were accepted twice or more for the same delivery (at most ` +
    `${storm.duplicatesMaxPerKey + 1} times one): PagerDuty dedupes them by dedup_key, but each is an extra request.`,
  memory: ({ memory }) =>
    `After require the process holds ${memory.afterRequireMb} MB (bare node ${memory.bareNodeMb} MB); the 1,000-alert ` +
    `callback takes it to ${memory.peakRssMb} MB with V8's default heap sizing on this large machine, and to ` +
    `${memory.cappedPeakRssMb} MB with the old space capped at ${memory.cappedOldSpaceMb} MB (answer ` +
    `${JSON.stringify(memory.lastCappedAnswer)}). The capped figure is the one that predicts a 128 MB instance; the ` +
    'callback body (about 1.6 MB), its parsed alerts, the built events, the records and the in-flight requests are ' +
    'all alive at once.',
  alertmanager: ({ alertmanager }, target) => {
    const latency = Number(target.id.split('-').pop());
    const row = alertmanager.rows.find((candidate: Json) => candidate.pagerdutyLatencyMs === latency);
    if (!row) return undefined;
    const { bridge } = row;
    return (
      `The bridge answered the callback in ${bridge.callbackMs} ms with ${bridge.callbackStatus}` +
      `${bridge.callbackStatus === 202 ? ' (some alerts queued for the relay)' : ''}` +
      `${bridge.callbackMs > 5000 ? ", after ARMS's 5 s timeout (ARMS would have given up on this callback)" : ''}` +
      ': it stores every alert before ' +
      `answering and sends at most ${WEBHOOK_SEND_CONCURRENCY} at a time inside WEBHOOK_DEADLINE_MS, then the relay ` +
      'sends the rest one at a time, each run starting every second; Alertmanager answers the POST before it ' +
      'notifies, persists no alert first, and sends each group from its own goroutine.' +
      (bridge.drained
        ? ''
        : ` Within the ${alertmanager.method.match(/cap (\d+) s/)?.[1] ?? ''} s cap the bridge had not drained: ${bridge.lost} triggers not yet accepted.`) +
      ` Bridge: ${bridge.pagerdutyRequests} PD requests, ${bridge.duplicates} duplicate accepted events, ` +
      `peak RSS ${bridge.peakRssMb} MB for the whole local runtime (host and both function workers).`
    );
  },
};

/** The miss in one line, and the cause (the same cause is shared by several targets of one section). */
function explainMiss(target: Target, sections: Record<string, Json>): { head: string; why?: string } {
  const key = Object.keys(EXPLAIN)
    .sort((a, b) => b.length - a.length)
    .find((prefix) => target.id === prefix || target.id.startsWith(`${prefix}-`));
  let why: string | undefined;
  try {
    why = key ? EXPLAIN[key]?.(sections, target) : undefined;
  } catch {
    why = undefined;
  }
  return { head: `**${target.figure}**: ${target.value}, target ${target.target}.`, why };
}

export { explainMiss };
