/**
 * Renders one run: the console table of targets, and `BENCHMARKS.md` (method, machine, every figure with its target).
 */
import { explainMiss } from './limits';
import type { Json } from './support';
import type { Target } from './targets';

const verdict = (pass: boolean | null) => (pass === null ? 'n/a' : pass ? 'PASS' : 'FAIL');

function renderTable(targets: readonly Target[]): string {
  const rows = targets.map((target) => [target.figure, target.value, target.target, verdict(target.pass)]);
  const header = ['figure', 'measured', 'target', 'met'];
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]?.length ?? 0)));
  const line = (cells: string[]) => cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ');
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n');
}

/** A Markdown table; cells have their pipes escaped. */
function table(header: string[], rows: readonly (readonly unknown[])[]): string {
  const cell = (value: unknown) => String(value ?? '—').replace(/\|/g, '\\|');
  return [
    `| ${header.join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...rows.map((row) => `| ${row.map(cell).join(' | ')} |`),
  ].join('\n');
}

const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

function coldStart(section: Json): string {
  return [
    '## 1. Cold start',
    '',
    `Method: ${section.method}.`,
    '',
    table(
      [
        'process',
        'runs',
        'median wall to exit (ms)',
        '× bare node (exit)',
        'bundle loaded at (ms)',
        'answered at (ms)',
        'answer × bare node',
      ],
      section.rows.map((row: Json) => [
        row.name === 'bare' ? '`node -e 0`' : row.name,
        row.runs,
        row.medianMs,
        row.ratioToBare,
        row.medianLoadedMs,
        row.medianAnsweredMs,
        row.answeredRatioToBare,
      ]),
    ),
    '',
    ...Object.entries(section.failures ?? {}).map(([name, why]) => `\n${name}: not measured, ${why}\n`),
    table(
      ['script of a code package', 'size', 'gzipped'],
      Object.entries(section.packageScripts ?? section.bundles).map(([name, size]: [string, Json]) => [
        name.includes('/') ? name : `dist/${name}/app.js`,
        kib(size.bytes),
        kib(size.gzipBytes),
      ]),
    ),
    ...coldStartProfiles(section.profiles ?? {}),
  ].join('\n');
}

/** The top self-time entries of one profiled cold start per webhook variant. */
function coldStartProfiles(profiles: Record<string, Json>): string[] {
  return Object.entries(profiles).flatMap(([name, profile]) => [
    '',
    profile.error
      ? `\`--cpu-prof\` of one cold start, ${name}: ${profile.error}`
      : `\`--cpu-prof\` of one cold start, ${name} (${profile.totalMs} ms sampled; top self time):`,
    ...(profile.error ? [] : ['', profileTable(profile.top)]),
  ]);
}

function warmCpu(section: Json): string {
  return [
    '## 2. Warm CPU per alert',
    '',
    'Method: the real handler chain (`buildHandler` of `functions/alert-webhook`: FC event adapter, configuration, ' +
      'authentication, body decoding and validation, normalization, routing, event building, dedupe claim) on an ' +
      'in-process MemoryStore, in **dry-run** (events built, stored and logged, never sent: no HTTP in the figure), ' +
      'after warm-up, in its own `node --expose-gc` process (GC before each sample). Floor: `JSON.parse` of the ' +
      'callback body plus `JSON.stringify` of each outgoing event with its routing key, timed in the same process, ' +
      'sample by sample after the bridge. µs/alert = median over samples of wall time / alerts (CPU time alongside); ' +
      "ratio = median over samples of the bridge's time over the floor's in the same sample (drift cancels). " +
      "Beside the floor, what FC's event format adds to any handler: its Buffer event decoded to text and parsed, " +
      'before the body inside it can be parsed (timed after the floor, same samples).',
    '',
    table(
      [
        'alerts per callback',
        'samples × callbacks',
        'bridge µs/alert',
        'bridge CPU µs/alert',
        'floor µs/alert',
        'ratio',
        'FC event decode + parse µs/alert (not in the floor)',
      ],
      section.rows.map((row: Json) => [
        row.alertsPerCallback,
        `${row.samples} × ${row.callbacksPerSample}`,
        row.bridgeUsPerAlert,
        row.bridgeCpuUsPerAlert,
        row.floorUsPerAlert,
        `${row.ratio}×`,
        row.fcEnvelopeUsPerAlert,
      ]),
    ),
    '',
    'Store calls per callback, send mode (fake PagerDuty at 0 ms, untimed), counted at the `DeliveryStore` port ' +
      '(outermost calls: a batch method counts once whatever it does inside):',
    '',
    table(
      ['alerts per callback', 'answer', 'store calls', 'by method', 'PagerDuty requests'],
      section.storeCalls.map((row: Json) => [
        row.alertsPerCallback,
        row.status,
        row.storeCalls,
        Object.entries(row.byMethod)
          .map(([name, count]) => `${name} ${count}`)
          .join(', '),
        row.pagerdutyRequests,
      ]),
    ),
    ...warmProfile(section.profile),
  ].join('\n');
}

/** Rows of the warm profile shown (the run keeps more, summed by part of the code in the target's explanation). */
const WARM_PROFILE_ROWS = 10;

/** The top self-time entries of the warm chain's own profile (its callbacks only, untimed). */
function warmProfile(profile: Json | undefined): string[] {
  if (!profile) return [];
  return [
    '',
    `CPU profile of the chain alone (${profile.callbacks} more ${profile.alertsPerCallback}-alert callbacks, untimed, ` +
      `${profile.totalMs} ms sampled; top ${WARM_PROFILE_ROWS} by self time; "(garbage collector)" is the collection ` +
      'its own allocation causes):',
    '',
    profileTable(profile.top.slice(0, WARM_PROFILE_ROWS)),
  ];
}

function profileTable(top: Json[]): string {
  return table(
    ['self time (ms)', 'share', 'function and where'],
    top.map((entry: Json) => [entry.selfMs, `${(entry.share * 100).toFixed(1)}%`, `\`${entry.entry}\``]),
  );
}

function endToEnd(section: Json): string {
  return [
    '## 3. End to end through the local runtime',
    '',
    `Method: ${section.method}. Store: ${section.storeNote}. p99 of fewer than 100 callbacks is close to the maximum.`,
    '',
    table(
      [
        'PD latency',
        'alerts per callback',
        'callbacks',
        'p50 (ms)',
        'p99 (ms)',
        'PD requests / callback',
        'store round trips / callback',
      ],
      section.rows.map((row: Json) => [
        `${row.pagerdutyLatencyMs} ms`,
        row.alertsPerCallback,
        row.callbacks,
        row.p50Ms,
        row.p99Ms,
        row.pagerdutyRequestsPerCallback,
        row.storeRoundTripsPerCallback ?? 'n/a (file store)',
      ]),
    ),
  ].join('\n');
}

function storm(title: string) {
  return (section: Json): string =>
    [
      title,
      '',
      `Method: ${section.method}. Store: ${section.storeNote}.`,
      '',
      table(
        ['figure', 'value'],
        [
          ['callbacks answered', JSON.stringify(section.callbackAnswers)],
          [
            'slowest callback; all posted after',
            `${section.slowestCallbackMs} ms; ${section.postingSeconds} s (${section.acceptedWhilePosting} accepted by then)`,
          ],
          ['drained within the cap', section.drained ? 'yes' : 'no'],
          [
            'first POST → last accepted event',
            `${section.drainSeconds} s (ideal under the limiter: ${section.idealDrainSeconds} s)`,
          ],
          [
            `first POST → each ${section.limit}th and the last accepted`,
            section.milestonesSeconds.map((value: number) => `${value} s`).join(', '),
          ],
          [
            'achieved rate / allowed rate (ideal time / measured time)',
            section.achievedRatio === null ? 'n/a (one window)' : `${(section.achievedRatio * 100).toFixed(1)}%`,
          ],
          [`most requests in any ${section.windowSeconds} s (limit ${section.limit})`, section.busiestWindowRequests],
          ['PagerDuty requests', section.pagerdutyRequests],
          ['accepted (202) / distinct deliveries accepted', `${section.accepted} / ${section.distinctAccepted}`],
          ['answered 429', section.rateLimited],
          ['other failed requests', section.otherFailures],
          ['requests per accepted event', section.requestsPerAcceptedEvent],
          [
            'accepted twice (total / max per delivery key)',
            `${section.duplicatesTotal} / ${section.duplicatesMaxPerKey}`,
          ],
          ['store rows at the end by status', JSON.stringify(section.storeStatusesAtEnd)],
          ['still waiting at the end', section.waitingAtEnd],
          ['lost (neither accepted nor waiting)', `${section.lost} (of which DEAD: ${section.dead})`],
        ],
      ),
    ].join('\n');
}

function outage(section: Json): string {
  return [
    '## 6. Outage recovery',
    '',
    `Method: ${section.method}. Store: ${section.storeNote}. Bursts: requests less than 100 ms apart; "at" is seconds ` +
      'from the start of the outage.',
    '',
    table(
      [
        'queued',
        'callbacks answered',
        'recovery → last accepted (s)',
        'recovery → first request (s)',
        'requests during the outage',
        'bursts during the outage (at s: requests)',
        'requests after',
        'health runs (timer / invoked)',
        'lost',
        'accepted twice',
      ],
      section.rows.map((row: Json) => [
        row.queued,
        JSON.stringify(row.callbackAnswers),
        row.recoverySeconds ?? 'not drained',
        row.firstRequestAfterRecoverySeconds,
        row.requestsDuringOutage,
        row.bursts.map((burst: Json) => `${burst.atSeconds}: ${burst.requests}`).join(', '),
        row.requestsAfterRecovery,
        `${row.healthRuns.timerRuns} / ${row.healthRuns.invokedRuns}`,
        row.lost,
        row.duplicatesTotal,
      ]),
    ),
  ].join('\n');
}

function relayDrain(section: Json): string {
  return [
    '## 7. Relay drain',
    '',
    `Method: ${section.method}. Store: ${section.storeNote}. Round trips counted by ${section.roundTripsCountedBy}.`,
    '',
    table(
      [
        'PD latency',
        'rows',
        'invocation → last accepted (s)',
        'invocation → first send (s)',
        'first → last send (s)',
        'rate (/s)',
        'health runs',
        'CPU bridge / fakes (ms)',
        'store round trips',
        'per delivered alert',
        'by request (rows per batch)',
        'lost',
        'accepted twice',
      ],
      section.rows.map((row: Json) => [
        `${row.pagerdutyLatencyMs} ms`,
        row.rows,
        row.drainSeconds ?? 'not drained',
        row.firstSendSeconds,
        row.sendSeconds,
        row.ratePerSecond,
        row.healthRuns.invokedRuns + row.healthRuns.timerRuns,
        `${row.cpuMs.bridge ?? 'n/a'} / ${row.cpuMs.fakesAndHarness}`,
        row.storeRoundTrips ?? 'n/a',
        row.storeRoundTripsPerDelivered ?? 'n/a',
        row.storeRequests
          ? row.storeRequests
              .map(
                (item: Json) =>
                  `${item.request} ×${item.requests}${item.rowsPerRequest === null || !item.request.startsWith('Batch') ? '' : ` (${item.rowsPerRequest} rows)`}`,
              )
              .join(', ')
          : 'n/a',
        row.lost,
        row.duplicatesTotal,
      ]),
    ),
    '',
    `Seeding sent ${section.rows.map((row: Json) => row.sentWhileSeeding).join(' / ')} events (expected 0); rows ` +
      `at the start: ${section.rows.map((row: Json) => JSON.stringify(row.storeStatusesAtStart)).join(' / ')}.`,
  ].join('\n');
}

function memory(section: Json): string {
  return [
    '## 8. Memory',
    '',
    `Method: ${section.method}.`,
    '',
    table(
      ['figure', 'MB'],
      [
        [`peak RSS (VmHWM), ${section.alerts}-alert callback`, section.peakRssMb],
        [`the same with --max-old-space-size=${section.cappedOldSpaceMb}`, section.cappedPeakRssMb],
        ['after require, before the invocation (VmHWM)', section.afterRequireMb],
        ['bare `node -e` (VmHWM)', section.bareNodeMb],
        ['maxRSS as getrusage reports it (inherits the harness peak across fork/exec)', section.maxRssMb],
      ],
    ),
    '',
    `Last answers: default heap ${JSON.stringify(section.lastAnswer)}; capped ${JSON.stringify(section.lastCappedAnswer)}.`,
  ].join('\n');
}

function alertmanager(section: Json): string {
  if (!section.available) return `## 9. Against Alertmanager\n\nNot run: ${section.reason}.`;
  const rows: Json[] = [];
  for (const row of section.rows) {
    for (const [name, side] of [
      [`Alertmanager ${section.alertmanagerVersion}`, row.alertmanager],
      ['bridge (local runtime)', row.bridge],
    ] as const) {
      rows.push([
        `${row.pagerdutyLatencyMs} ms`,
        name,
        side.lastTriggerSeconds,
        side.pagerdutyRequests,
        side.lost,
        side.duplicates,
        side.peakRssMb,
      ]);
    }
  }
  return [
    '## 9. Against Alertmanager',
    '',
    `Method: ${section.method}.`,
    '',
    table(
      ['PD latency', 'system', 'last trigger accepted (s)', 'PD requests', 'lost', 'duplicates', 'peak RSS (MB)'],
      rows,
    ),
  ].join('\n');
}

function renderMarkdown(result: Json): string {
  const { sections, machine } = result;
  const parts = [
    '# Benchmarks',
    '',
    `Generated by \`npm run bench\` on ${result.date.slice(0, 10)} (${result.durationSeconds} s` +
      `${result.quick ? ', **quick mode: tiny sizes, not representative**' : ''}), commit \`${result.commit}\`` +
      `${result.workingTreeDirty ? ' with uncommitted changes in the working tree' : ''}. Machine: ${machine.cpu}, ` +
      `${machine.cores} cores, ${machine.memoryGb} GB, ${machine.os}, Node ${machine.node}. Raw figures: ` +
      '`bench/results/latest.json`.',
    '',
    'These are benchmarks, not tests: the machine is shared and noisy, so figures of short measurements are medians of ' +
      'repeated runs, every comparison is a ratio of two figures measured in the same run, interleaved where possible, ' +
      "and the storm, outage and relay-drain scenarios (minutes each, bound by PagerDuty's window or the outage) run " +
      'once per run. Everything talks to loopback fakes: `tests/support/fakePagerDuty.ts` (a real HTTP server, sliding ' +
      'per-key rate limit → 429, scripted 500s for the outage) and, when the Tablestore store works, ' +
      '`tests/support/fakeTablestore.ts` (which also counts store round trips).',
    '',
    '## Targets',
    '',
    table(
      ['figure', 'measured', 'target', 'met'],
      result.targets.map((target: Target) => [
        target.figure,
        target.value,
        target.target,
        `${verdict(target.pass)}${target.note ? ` (${target.note})` : ''}`,
      ]),
    ),
    '',
  ];
  const misses: string[] = [];
  let previous: string | undefined;
  for (const target of result.targets as Target[]) {
    if (target.pass !== false) continue;
    const { head, why } = explainMiss(target, sections);
    misses.push(why === undefined ? head : why === previous ? `${head} Same cause as above.` : `${head} ${why}`);
    previous = why;
  }
  if (misses.length > 0) {
    parts.push('### Targets not met, and what limits them', '', ...misses.map((text) => `- ${text}`), '');
  }
  const renderers: [string, (section: Json) => string][] = [
    ['coldStart', coldStart],
    ['warmCpu', warmCpu],
    ['endToEnd', endToEnd],
    ['storm', storm("## 4. Storm at PagerDuty's figures")],
    ['stormScaled', storm('## 5. Storm with the limit ×10')],
    ['outage', outage],
    ['relayDrain', relayDrain],
    ['memory', memory],
    ['alertmanager', alertmanager],
  ];
  for (const [name, render] of renderers) {
    if (sections[name]) parts.push(render(sections[name]), '');
  }
  const failed = Object.keys(result.errors);
  if (failed.length > 0) {
    parts.push(
      '## Sections that failed',
      '',
      ...failed.map((name) => `- ${name}: ${String(result.errors[name]).split('\n')[0]}`),
      '',
    );
  }
  parts.push(
    '## Running it',
    '',
    '```sh',
    'npm run bench                      # build, then every section (about 15 minutes on 2 cores)',
    'BENCH_QUICK=1 npm run bench        # tiny sizes: a smoke run of every section',
    'BENCH_ONLY=cold,memory npm run bench',
    'BENCH_ONLY=storm,storm-scaled,outage,relay npm run bench   # the delivery scenarios of issue 12',
    'BENCH_STORE=file npm run bench     # force the file store (default auto: the fake Tablestore when the adapter works)',
    'BENCH_OUT=/tmp/b npm run bench     # write latest.json and BENCHMARKS.md elsewhere',
    'node bench/run.mjs --render        # re-render BENCHMARKS.md from bench/results/latest.json',
    '```',
    '',
  );
  return parts.join('\n');
}

export { renderMarkdown, renderTable };
