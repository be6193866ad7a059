/**
 * `npm run bench`: runs the sections, then writes `latest.json` and `BENCHMARKS.md` and prints the targets table.
 * Bundled on the fly by `bench/run.mjs` into `bench/results/build-<pid>.tmp/`; the warm-CPU section runs in a child process
 * from its own bundle (`warmChild.cjs`).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { compareWithAlertmanager } from './alertmanager';
import { measureColdStart } from './coldStart';
import { measureEndToEnd } from './endToEnd';
import { measureMemory } from './memory';
import { type BenchOptions, parseOptions, plan } from './options';
import { measureOutage } from './outage';
import { startTimedPagerDuty } from './pd';
import { measureRelayDrain } from './relayDrain';
import { renderMarkdown, renderTable } from './report';
import { type BenchStore, detectStore } from './store';
import { measureStorm } from './storm';
import {
  armsCallback,
  childEnv,
  type Json,
  postCallback,
  ROOT,
  ROUTING_KEY,
  resultOf,
  runNode,
  startLocalRuntime,
} from './support';
import { evaluateTargets } from './targets';
import type { measureWarmCpu } from './warmCpu';

function git(args: string[]): string {
  try {
    return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown';
  }
}

function machine() {
  const list = cpus();
  return {
    cpu: list[0]?.model ?? 'unknown',
    cores: list.length,
    memoryGb: Math.round(totalmem() / 2 ** 30),
    os: `${process.platform} ${release()}`,
    node: process.version,
  };
}

/** Starts the runtime on a candidate store and posts one alert: undefined when accepted, else why not. */
async function probeStore(store: BenchStore): Promise<string | undefined> {
  const pd = await startTimedPagerDuty();
  let runtime: Awaited<ReturnType<typeof startLocalRuntime>> | undefined;
  try {
    runtime = await startLocalRuntime({
      ...store.env,
      PAGERDUTY_ROUTING_KEY: ROUTING_KEY,
      PAGERDUTY_EVENTS_URL: pd.url,
      LOCAL_TIMER_SECONDS: '3600',
    });
    const response = await postCallback(runtime.url, armsCallback(1));
    if (response.status < 300) return undefined;
    const error = response.json?.error;
    return `the runtime answered ${response.status}${error ? ` ${error.code}` : ''} on STORE=tablestore`;
  } catch (error) {
    return (error as Error).message.split('\n')[0];
  } finally {
    await runtime?.stop();
    await pd.close();
  }
}

async function runWarmInChild(buildDir: string, options: Parameters<typeof measureWarmCpu>[0]) {
  const { code, stdout, stderr } = await runNode(
    ['--expose-gc', join(buildDir, 'warmChild.cjs'), JSON.stringify(options)],
    childEnv({ LOG_LEVEL: 'ERROR' }),
    300_000,
  );
  if (code !== 0) throw new Error(`warm CPU child exited ${code}:\n${stderr.slice(-2000)}`);
  return resultOf<Awaited<ReturnType<typeof measureWarmCpu>>>(stdout, 'warm CPU');
}

interface RunContext {
  buildDir: string;
  argv: readonly string[];
}

async function runBench(context: RunContext) {
  const options: BenchOptions = parseOptions(context.argv, process.env);
  const jsonPath = options.outDir ? join(options.outDir, 'latest.json') : join(ROOT, 'bench/results/latest.json');
  const mdPath = options.outDir ? join(options.outDir, 'BENCHMARKS.md') : join(ROOT, 'BENCHMARKS.md');
  if (options.render) {
    const saved = JSON.parse(readFileSync(jsonPath, 'utf8'));
    saved.targets = evaluateTargets(saved.sections);
    writeFileSync(jsonPath, `${JSON.stringify(saved, null, 2)}\n`);
    writeFileSync(mdPath, renderMarkdown(saved));
    console.log(renderTable(saved.targets));
    return saved;
  }
  const sizes = plan(options.quick);
  const started = Date.now();
  const log = (line: string) => console.log(`[bench] ${line}`);
  const wants = (section: BenchOptions['sections'][number]) => options.sections.includes(section);
  const sections: Record<string, Json> = {};
  const errors: Record<string, string> = {};

  const needsStore = ['cold', 'e2e', 'storm', 'storm-scaled', 'outage', 'relay', 'alertmanager'].some((name) =>
    wants(name as BenchOptions['sections'][number]),
  );
  let store = { kind: 'file' as BenchStore['kind'], note: 'not used' };
  if (needsStore) {
    log(`store: detecting (BENCH_STORE=${options.store})`);
    store = await detectStore(options.store, context.buildDir, probeStore);
    log(`store: ${store.note}`);
  }
  const storeArgs = { storeKind: store.kind, storeNote: store.note, buildDir: context.buildDir };

  const run = async (name: string, work: () => Promise<Json>) => {
    const at = Date.now();
    log(`${name}: running`);
    try {
      sections[name] = await work();
      log(`${name}: done in ${((Date.now() - at) / 1000).toFixed(1)} s`);
    } catch (error) {
      errors[name] = (error as Error).stack ?? String(error);
      log(`${name}: FAILED: ${(error as Error).message}`);
    }
  };
  if (wants('cold')) {
    mkdirSync(join(jsonPath, '..'), { recursive: true });
    await run('coldStart', () =>
      measureColdStart({ runs: sizes.coldRuns, ...storeArgs, resultsDir: join(jsonPath, '..') }),
    );
  }
  if (wants('warm')) await run('warmCpu', () => runWarmInChild(context.buildDir, sizes.warm));
  if (wants('e2e')) await run('endToEnd', () => measureEndToEnd({ ...sizes.e2e, ...storeArgs }));
  if (wants('storm')) await run('storm', () => measureStorm({ ...sizes.storm, ...storeArgs }));
  if (wants('storm-scaled')) await run('stormScaled', () => measureStorm({ ...sizes.stormScaled, ...storeArgs }));
  if (wants('outage')) await run('outage', () => measureOutage({ ...sizes.outage, ...storeArgs }));
  if (wants('relay')) await run('relayDrain', () => measureRelayDrain({ ...sizes.relay, ...storeArgs }));
  if (wants('memory')) await run('memory', () => measureMemory(sizes.memory));
  if (wants('alertmanager')) {
    await run('alertmanager', () => compareWithAlertmanager({ ...sizes.alertmanager, ...storeArgs }));
  }

  const result = {
    schema: 1,
    date: new Date(started).toISOString(),
    durationSeconds: Math.round((Date.now() - started) / 1000),
    quick: options.quick,
    sectionsRequested: options.sections,
    commit: git(['rev-parse', '--short', 'HEAD']),
    // The bench's own outputs (written during the run) do not make the measured tree dirty.
    workingTreeDirty: git(['status', '--porcelain', '--', '.', ':!bench/results', ':!BENCHMARKS.md']) !== '',
    machine: machine(),
    store,
    sections,
    errors,
    targets: evaluateTargets(sections),
  };
  mkdirSync(join(jsonPath, '..'), { recursive: true });
  writeFileSync(jsonPath, `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(mdPath, renderMarkdown(result));
  console.log(renderTable(result.targets));
  log(`wrote ${jsonPath} and ${mdPath} in ${result.durationSeconds} s`);
  if (Object.keys(errors).length > 0) process.exitCode = 1;
  return result;
}

export type { RunContext };
export { runBench };
