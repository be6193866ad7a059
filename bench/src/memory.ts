/**
 * (8) Peak RSS of the webhook bundle handling one 1,000-alert callback: a fresh process requires
 * `dist/alert-webhook/index.js` and invokes it once (fake PagerDuty at 0 ms in the harness process, STORE=memory), then
 * reports `/proc/self/status` VmHWM (and `process.resourceUsage().maxRSS`). A bare `node -e` gives the floor.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakePagerDuty } from '../../tests/support/fakePagerDuty';
import { httpEvent } from '../../tests/support/fcEvents';
import { armsCallback, childEnv, median, RESULT_PREFIX, ROOT, ROUTING_KEY, resultOf, round, runNode } from './support';

/** Old-space cap of the second variant: what leaves room for code, buffers and new space in 128 MB. */
const CAPPED_OLD_SPACE_MB = 96;

const PEAK = `
const fs = require('fs');
const hwm = () => { try { const m = /VmHWM:\\s+(\\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8')); return m ? Number(m[1]) : null; } catch { return null; } };
const report = (extra) => process.stdout.write(${JSON.stringify(RESULT_PREFIX)} + JSON.stringify({ maxRssKb: process.resourceUsage().maxRSS, vmHwmKb: hwm(), ...extra }) + '\\n');
`;

function childScript(bundle: string): string {
  return `${PEAK}
const event = fs.readFileSync(process.env.BENCH_EVENT_FILE);
const loadedFrom = hwm();
const bundle = require(${JSON.stringify(bundle)});
const loadedHwmKb = hwm();
const context = { requestId: 'bench-memory', credentials: {}, function: { name: 'alert-webhook' } };
bundle.handler(event, context).then((result) => {
  report({ statusCode: result.statusCode, body: JSON.parse(result.body), beforeRequireHwmKb: loadedFrom, loadedHwmKb });
  process.exit(0);
}, (error) => { report({ error: String(error) }); process.exit(1); });`;
}

interface MemoryResult {
  maxRssKb: number;
  vmHwmKb: number | null;
  loadedHwmKb?: number | null;
  statusCode?: number;
  body?: { delivered?: number; queued?: number };
}

/** One fresh process per run; `nodeArgs` lets a variant cap V8's heap as a 128 MB instance would need. */
async function runVariant(nodeArgs: string[], eventFile: string, pdUrl: string) {
  const env = childEnv({
    PAGERDUTY_ROUTING_KEY: ROUTING_KEY,
    PAGERDUTY_EVENTS_URL: pdUrl,
    // No pacing in this figure: every alert may be sent inside the invocation, the heaviest case.
    PAGERDUTY_RATE_PER_MINUTE: '100000',
    STORE: 'memory',
    LOG_LEVEL: 'WARN',
    BENCH_EVENT_FILE: eventFile,
  });
  const script = childScript(join(ROOT, 'dist/alert-webhook/index.js'));
  const { code, stdout } = await runNode([...nodeArgs, '-e', script], env);
  const result = resultOf<MemoryResult>(stdout, 'memory');
  if (code !== 0 || result.statusCode === undefined || result.statusCode >= 300) {
    throw new Error(`memory run (${nodeArgs.join(' ') || 'default heap'}) failed: ${JSON.stringify(result)}`);
  }
  return result;
}

/**
 * The peak is VmHWM (the high-water mark of this process's own address space). `maxRSS` is reported alongside but can
 * overstate: Linux carries it over from the forked copy of the parent across exec, so a child of a large harness
 * process inherits the harness's peak.
 */
async function measureMemory(options: { runs: number; alerts: number }) {
  const pd = await startFakePagerDuty();
  const dir = mkdtempSync(join(tmpdir(), 'bench-memory-'));
  const mb = (kb: number) => round(kb / 1024, 1);
  const peakOf = (result: MemoryResult) => result.vmHwmKb ?? result.maxRssKb;
  try {
    const eventFile = join(dir, 'event.json');
    const bare: number[] = [];
    const peaks: number[] = [];
    const capped: number[] = [];
    const maxRss: number[] = [];
    const loaded: number[] = [];
    let last: MemoryResult | undefined;
    let lastCapped: MemoryResult | undefined;
    for (let run = 0; run < options.runs; run++) {
      writeFileSync(eventFile, httpEvent({ body: armsCallback(options.alerts) }));
      const bareRun = await runNode(['-e', `${PEAK}report({});`], childEnv({}));
      bare.push(peakOf(resultOf<MemoryResult>(bareRun.stdout, 'bare node')));
      last = await runVariant([], eventFile, pd.url);
      peaks.push(peakOf(last));
      maxRss.push(last.maxRssKb);
      if (typeof last.loadedHwmKb === 'number') loaded.push(last.loadedHwmKb);
      writeFileSync(eventFile, httpEvent({ body: armsCallback(options.alerts) }));
      lastCapped = await runVariant([`--max-old-space-size=${CAPPED_OLD_SPACE_MB}`], eventFile, pd.url);
      capped.push(peakOf(lastCapped));
    }
    return {
      method:
        `fresh process: require dist/alert-webhook/index.js, invoke once with a ${options.alerts}-alert callback ` +
        '(sent to the fake PagerDuty at 0 ms, STORE=memory, pacing off); peak = VmHWM; median of runs; again with ' +
        `V8's old space capped at ${CAPPED_OLD_SPACE_MB} MB, as a 128 MB instance would need`,
      runs: options.runs,
      alerts: options.alerts,
      peakRssMb: mb(median(peaks)),
      maxRssMb: mb(median(maxRss)),
      cappedOldSpaceMb: CAPPED_OLD_SPACE_MB,
      cappedPeakRssMb: mb(median(capped)),
      afterRequireMb: loaded.length > 0 ? mb(median(loaded)) : null,
      bareNodeMb: mb(median(bare)),
      lastAnswer: { statusCode: last?.statusCode, delivered: last?.body?.delivered, queued: last?.body?.queued },
      lastCappedAnswer: {
        statusCode: lastCapped?.statusCode,
        delivered: lastCapped?.body?.delivered,
        queued: lastCapped?.body?.queued,
      },
      pagerdutyRequests: pd.events.length,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await pd.close();
  }
}

export { measureMemory };
