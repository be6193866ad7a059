/**
 * CPU profile summaries: the top self-time entries of a V8 profile, each named by function and source `file:line`
 * (through the bundle's source map, so a summary names `shared/…` files, not column 96470 of line 6). The cold-start
 * section profiles a whole child process (`--cpu-prof`); the warm section profiles only the callbacks it times
 * ({@link profileWhile}), so the harness's own work and its forced GCs stay out of the summary.
 */
import { readFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { SourceMap } from 'node:module';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ROOT, round } from './support';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

interface CpuProfile {
  nodes: Array<{ id: number; callFrame: CallFrame }>;
  samples: number[];
  timeDeltas: number[];
}

const INLINE_MAP = '//# sourceMappingURL=data:application/json;base64,';

/** A script's source map: the file beside it (`app.js.map`), else the one inlined at its end (the bench's bundles). */
function readSourceMap(path: string): SourceMap | null {
  try {
    return new SourceMap(JSON.parse(readFileSync(`${path}.map`, 'utf8')));
  } catch {
    // No map beside it: look inside.
  }
  try {
    const source = readFileSync(path, 'utf8');
    const at = source.lastIndexOf(INLINE_MAP);
    if (at < 0) return null;
    const json = Buffer.from(source.slice(at + INLINE_MAP.length).trim(), 'base64').toString('utf8');
    return new SourceMap(JSON.parse(json));
  } catch {
    return null;
  }
}

/** Where a frame is, as ` file:line` relative to the repository: the source the bundled code came from when mapped. */
function locator() {
  const maps = new Map<string, SourceMap | null>();
  const mapOf = (path: string) => {
    if (!maps.has(path)) maps.set(path, readSourceMap(path));
    return maps.get(path) ?? null;
  };
  return (frame: CallFrame): string => {
    if (!frame.url) return '';
    const path = frame.url.startsWith('file://') ? fileURLToPath(frame.url) : frame.url;
    // findEntry answers {} where nothing maps.
    const entry = (path.startsWith('/') ? mapOf(path)?.findEntry(frame.lineNumber, frame.columnNumber) : undefined) as
      | { originalSource?: string; originalLine: number }
      | undefined;
    if (entry?.originalSource) {
      const source = entry.originalSource.startsWith('file://')
        ? fileURLToPath(entry.originalSource)
        : resolve(dirname(path), entry.originalSource);
      return ` ${relative(ROOT, source)}:${entry.originalLine + 1}`;
    }
    return ` ${path.startsWith('/') ? relative(ROOT, path) : path}:${frame.lineNumber + 1}`;
  };
}

/**
 * Top self-time entries of a V8 CPU profile: function, where it is (file:line), ms and share of the samples.
 * `ignore`: frames left out of the entries and the total (the profiler's own work).
 */
function summarizeProfile(profile: CpuProfile, top: number, ignore?: (frame: CallFrame) => boolean) {
  const byId = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
  const where = locator();
  const selfUs = new Map<string, number>();
  let totalUs = 0;
  profile.samples.forEach((id, index) => {
    const frame = byId.get(id);
    if (frame && ignore?.(frame)) return;
    const us = profile.timeDeltas[index] ?? 0;
    totalUs += us;
    if (!frame) return;
    const key = `${frame.functionName || '(anonymous)'}${where(frame)}`;
    selfUs.set(key, (selfUs.get(key) ?? 0) + us);
  });
  return {
    totalMs: round(totalUs / 1000, 1),
    top: [...selfUs]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([entry, us]) => ({ entry, selfMs: round(us / 1000, 1), share: round(us / totalUs, 3) })),
  };
}

/** Runs `work` under this process's own CPU profiler (sampling every `intervalUs`) and returns its profile. */
async function profileWhile(work: () => Promise<void>, intervalUs = 100): Promise<CpuProfile> {
  const session = new Session();
  session.connect();
  const post = (method: string, params?: object) =>
    new Promise<unknown>((resolvePost, reject) =>
      session.post(method, params ?? {}, (error, result) => (error ? reject(error) : resolvePost(result))),
    );
  try {
    await post('Profiler.enable');
    await post('Profiler.setSamplingInterval', { interval: intervalUs });
    await post('Profiler.start');
    const failed = await work().then(
      () => undefined,
      (error: unknown) => ({ error }),
    );
    const { profile } = (await post('Profiler.stop')) as { profile: CpuProfile };
    if (failed) throw failed.error;
    return profile;
  } finally {
    session.disconnect();
  }
}

export type { CallFrame, CpuProfile };
export { profileWhile, summarizeProfile };
