/**
 * The targets of issue 8, checked against one run's figures. `pass` is null when the figure could not be measured
 * (section not run or failed, or a prerequisite missing); `note` then says why.
 */
import type { Json } from './support';

interface Target {
  id: string;
  figure: string;
  value: string;
  target: string;
  pass: boolean | null;
  note?: string;
}

function notMeasured(id: string, figure: string, target: string, note: string): Target {
  return { id, figure, value: 'n/a', target, pass: null, note };
}

function coldStart(section: Json | undefined): Target[] {
  const figure = 'webhook cold start / bare node';
  if (!section) return [notMeasured('cold-start', figure, '≤ 2×', 'section not run')];
  const tablestore = section.rows.find((row: Json) => row.name === 'alert-webhook (Tablestore)');
  const row = tablestore ?? section.rows.find((candidate: Json) => candidate.name === 'alert-webhook');
  const bare = section.rows.find((candidate: Json) => candidate.name === 'bare');
  return [
    {
      id: 'cold-start',
      figure: `${figure}${tablestore ? ' (Tablestore store)' : ' (STORE=memory)'}`,
      value:
        `${row.ratioToBare}× (${row.medianMs} ms to exit; answered at ${row.medianAnsweredMs} ms = ` +
        `${(row.medianAnsweredMs / bare.medianMs).toFixed(2)}× bare node)`,
      target: '≤ 2×',
      pass: row.ratioToBare <= 2,
      ...(tablestore
        ? {}
        : {
            note:
              section.failures?.['alert-webhook (Tablestore)'] !== undefined
                ? `on STORE=memory: the Tablestore variant failed (${section.failures['alert-webhook (Tablestore)'].slice(0, 160)})`
                : 'on STORE=memory: the Tablestore store is not usable in this build',
          }),
    },
  ];
}

function warmCpu(section: Json | undefined): Target[] {
  if (!section) return [notMeasured('warm-cpu', 'warm CPU per alert / floor', '≤ 3×', 'section not run')];
  const targets: Target[] = section.rows.map((row: Json) => ({
    id: `warm-cpu-${row.alertsPerCallback}`,
    figure: `warm CPU per alert / floor, ${row.alertsPerCallback}-alert callback`,
    value: `${row.ratio}× (${row.bridgeUsPerAlert} µs vs ${row.floorUsPerAlert} µs)`,
    target: '≤ 3×',
    pass: row.ratio <= 3,
  }));
  const calls = section.storeCalls.map((row: Json) => row.storeCalls);
  targets.push({
    id: 'store-calls-constant',
    figure: 'store calls per callback (in-process port batches) constant in N',
    value: section.storeCalls.map((row: Json) => `${row.alertsPerCallback}→${row.storeCalls}`).join(', '),
    target: 'same for every N',
    pass: calls.every((count: number) => count === calls[0]),
  });
  return targets;
}

function endToEnd(section: Json | undefined): Target[] {
  if (!section) return [notMeasured('e2e', 'end-to-end', '—', 'section not run')];
  const targets: Target[] = [];
  const rows: Json[] = section.rows;
  const latencies = [...new Set(rows.map((row) => row.pagerdutyLatencyMs))];
  for (const latency of latencies) {
    const ofLatency = rows.filter((row) => row.pagerdutyLatencyMs === latency);
    const largest = ofLatency.reduce((a, b) => (b.alertsPerCallback > a.alertsPerCallback ? b : a));
    const limit = 4 * latency + 100;
    targets.push({
      id: `e2e-latency-${latency}`,
      figure: `${largest.alertsPerCallback}-alert callback p50, PD at ${latency} ms`,
      value: `${largest.p50Ms} ms (p99 ${largest.p99Ms} ms)`,
      target: `≤ ${limit} ms`,
      pass: largest.p50Ms <= limit,
    });
    const trips = ofLatency.map((row) => row.storeRoundTripsPerCallback);
    targets.push(
      trips.some((value) => value === null)
        ? notMeasured(
            `e2e-store-trips-${latency}`,
            `store round trips per callback constant in N, PD at ${latency} ms`,
            'same for every N',
            'file store: round trips are counted by the fake Tablestore only',
          )
        : {
            id: `e2e-store-trips-${latency}`,
            figure: `store round trips per callback constant in N, PD at ${latency} ms`,
            value: ofLatency.map((row) => `${row.alertsPerCallback}→${row.storeRoundTripsPerCallback}`).join(', '),
            target: 'same for every N',
            pass: trips.every((value) => value === trips[0]),
          },
    );
  }
  return targets;
}

function storm(section: Json | undefined): Target[] {
  if (!section) return [notMeasured('storm', 'storm drain', '—', 'section not run')];
  const drained = section.drained ? '' : ` (not drained within the cap: ${section.waitingAtEnd} still waiting)`;
  return [
    {
      id: 'storm-rate',
      figure: 'storm: achieved delivery rate / allowed rate',
      value: `${(section.achievedRatio * 100).toFixed(1)}% (${section.achievedPerSecond}/s of ${section.allowedPerSecond}/s)${drained}`,
      target: '≥ 90%',
      pass: section.drained && section.achievedRatio >= 0.9,
    },
    {
      id: 'storm-requests',
      figure: 'storm: PagerDuty requests per accepted event',
      value: `${section.requestsPerAcceptedEvent} (${section.pagerdutyRequests} requests, ${section.rateLimited} × 429)`,
      target: '≤ 1.05',
      pass: section.requestsPerAcceptedEvent !== null && section.requestsPerAcceptedEvent <= 1.05,
    },
    {
      id: 'storm-lost',
      figure: 'storm: alerts lost (neither accepted nor waiting; DEAD included)',
      value: `${section.lost} (DEAD ${section.dead})`,
      target: '0',
      pass: section.lost === 0,
    },
    {
      id: 'storm-duplicates',
      figure: 'storm: duplicates per delivery key (max)',
      value: `${section.duplicatesMaxPerKey} (${section.duplicatesTotal} in total)`,
      target: '0',
      pass: section.duplicatesMaxPerKey === 0,
    },
  ];
}

function memory(section: Json | undefined): Target[] {
  if (!section) return [notMeasured('memory', 'peak RSS, 1,000-alert callback', '≤ 128 MB', 'section not run')];
  return [
    {
      id: 'memory',
      figure: `peak RSS of the webhook, ${section.alerts}-alert callback`,
      value: `${section.peakRssMb} MB (${section.cappedPeakRssMb} MB with old space ≤ ${section.cappedOldSpaceMb} MB)`,
      target: '≤ 128 MB',
      pass: section.peakRssMb <= 128,
    },
  ];
}

function alertmanager(section: Json | undefined): Target[] {
  const figure = 'time to last trigger accepted: bridge vs Alertmanager';
  if (!section) return [notMeasured('alertmanager', figure, 'bridge ≤ Alertmanager', 'section not run')];
  if (!section.available) return [notMeasured('alertmanager', figure, 'bridge ≤ Alertmanager', section.reason)];
  return section.rows.map((row: Json) => {
    const bridge = row.bridge.lastTriggerSeconds;
    const am = row.alertmanager.lastTriggerSeconds;
    const comparable = bridge !== null && am !== null && row.bridge.lost === 0;
    return {
      id: `alertmanager-${row.pagerdutyLatencyMs}`,
      figure: `${figure}, PD at ${row.pagerdutyLatencyMs} ms`,
      value: `${bridge ?? 'n/a'} s vs ${am ?? 'n/a'} s${comparable && am > 0 ? ` (${(bridge / am).toFixed(1)}×)` : ''}`,
      target: 'bridge ≤ Alertmanager',
      pass: comparable ? bridge <= am : false,
    };
  });
}

function evaluateTargets(sections: Record<string, Json>): Target[] {
  return [
    ...coldStart(sections.coldStart),
    ...warmCpu(sections.warmCpu),
    ...endToEnd(sections.endToEnd),
    ...storm(sections.storm),
    ...memory(sections.memory),
    ...alertmanager(sections.alertmanager),
  ];
}

export type { Target };
export { evaluateTargets };
