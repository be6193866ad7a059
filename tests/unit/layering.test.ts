/**
 * The house's layering, read from the source's own import lines (issue 14): no loop between folders (so no import runs
 * back up); `shared/` never imports `functions/`; the composition root (`shared/app.ts`) is wired by the functions and
 * the tools, never imported by the parts it composes; `shared/fc/` is the platform adapter only; each SDK is loaded by
 * its one seam; raw sockets are opened by the network adapters only; the pure domain rules import no platform adapter,
 * no SDK and no I/O module, and call no `fetch`. A move that breaks a rule fails here with the file and the import.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(__dirname, '../..');

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return /\.(ts|js)$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** The module specifiers a file imports (static imports, re-exports, require and dynamic import of a literal). */
function importsOf(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const found: string[] = [];
  for (const match of text.matchAll(/(?:\bfrom\s+|\bimport\s+|\brequire\(\s*|\bimport\(\s*)['"]([^'"]+)['"]/g)) {
    found.push(match[1] as string);
  }
  return found;
}

/** Whether a file calls the global `fetch` (an HTTP request without an import line). */
function callsFetch(file: string): boolean {
  return /\b(globalThis\.)?fetch\s*\(/.test(readFileSync(join(ROOT, file), 'utf8'));
}

/** Where an import lands, as a repository path (`shared/fc/types`), or the package name for a bare specifier. */
function target(file: string, specifier: string): string {
  if (!specifier.startsWith('.')) return specifier;
  return relative(ROOT, join(ROOT, file, '..', specifier));
}

const files = [...sources('shared'), ...sources('functions')];
const edges = files.flatMap((file) => importsOf(file).map((specifier) => ({ file, to: target(file, specifier) })));

const NODE_NET = /^(node:)?(http|https|net|tls|dgram|http2)$/;
/** The adapters that open sockets: the PagerDuty client, the Tablestore connection, the sockets opened at init. */
const NETWORK_ADAPTERS = new Set([
  'shared/pagerduty/httpPost.ts',
  'shared/store/tablestore/connection.ts',
  'shared/preconnect.ts',
]);
/**
 * The folder a file belongs to, for the folder graph: `shared/<folder>` or `functions/<folder>`; a file directly under
 * `shared/` is its own room (`shared/app.ts` → `shared/app`), and so is generated code (the compiled validators, which
 * the schemas' registry in `shared/validation/` is compiled into at build time, not imported by).
 */
function folderOf(path: string): string {
  const parts = path.replace(/\.(ts|js)$/, '').split('/');
  return parts.slice(0, parts[2] === 'generated' || parts[3] === 'generated' ? 3 : 2).join('/');
}

/** The folders of `shared/` and `functions/` and which others each imports (imports inside a folder are not edges). */
function folderGraph(list: readonly { file: string; to: string }[]): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const { file, to } of list) {
    if (!/^(shared|functions)\//.test(to)) continue;
    const [from, into] = [folderOf(file), folderOf(to)];
    if (from === into) continue;
    graph.set(from, (graph.get(from) ?? new Set()).add(into));
  }
  return graph;
}

/** Every loop of the folder graph, each as the folders around it (`a → b → a`); none in a layered house. */
function folderLoops(graph: Map<string, Set<string>>): string[] {
  const loops: string[] = [];
  const done = new Set<string>();
  const walk = (folder: string, path: string[]): void => {
    const at = path.indexOf(folder);
    if (at >= 0) {
      loops.push([...path.slice(at), folder].join(' → '));
      return;
    }
    if (done.has(folder)) return;
    for (const next of graph.get(folder) ?? []) walk(next, [...path, folder]);
    done.add(folder);
  };
  for (const folder of graph.keys()) walk(folder, []);
  return loops;
}

/** Pure rules: a table of inputs to a verdict, nothing else (each has a table test). */
const PURE_RULES = [
  'shared/alerts/',
  // The PagerDuty event builders and response rules: everything in the folder but its HTTP client.
  ...sources('shared/pagerduty').filter((file) => !/\/(client|httpPost)\.ts$/.test(file)),
  'shared/delivery/pacing.ts',
  'shared/delivery/circuit.ts',
  'shared/delivery/deliveryRules.ts',
  'shared/delivery/ordering.ts',
  'shared/delivery/transitions.ts',
  'shared/delivery/retryPolicy.ts',
  'shared/delivery/relayBlock.ts',
  'shared/health/verdict.ts',
  'shared/pagerduty/classifyResponse.ts',
];
/** What a pure rule must not import: I/O modules, SDKs, the platform adapter, the store (its data shapes aside). */
const IMPURE =
  /^(node:)?(fs|http|https|net|tls|http2|child_process|worker_threads)$|^(undici|tablestore|aws-lambda)$|^@(alicloud|middy)\/|^shared\/(fc|kick|middleware|app)(\/|$)|^shared\/pagerduty\/(client|httpPost)$|^shared\/store\/(?!(DeliveryRecord|OccurrenceMarker|KeyState)$)/;

describe('Layering of shared/ and functions/', () => {
  it('reads the import lines it checks', () => {
    expect(files.length).toBeGreaterThan(50);
    expect(edges.some(({ file, to }) => file === 'shared/store/tablestore/sdk.ts' && to === 'tablestore')).toBe(true);
  });

  it('has no loop between folders, so no import runs back up', () => {
    const graph = folderGraph(edges);
    expect(graph.size).toBeGreaterThan(5);
    expect(folderLoops(graph)).toEqual([]);
  });

  it('finds a loop between folders when there is one (the check above can fail)', () => {
    const looped = [...edges, { file: 'shared/store/DeliveryStore.ts', to: 'shared/app' }];
    expect(folderLoops(folderGraph(looped)).length).toBeGreaterThan(0);
  });

  it('never imports functions/ from shared/', () => {
    const upward = edges.filter(({ file, to }) => file.startsWith('shared/') && to.startsWith('functions/'));
    expect(upward).toEqual([]);
  });

  it('keeps shared/fc/ the platform adapter only: it imports none of the app', () => {
    const app = /^shared\/(app|bridgeSummary|health|delivery|store|middleware|kick|alerts|pagerduty|warmUp)(\/|$)/;
    const upward = edges.filter(({ file, to }) => file.startsWith('shared/fc/') && app.test(to));
    expect(upward).toEqual([]);
  });

  it('imports the composition root from the functions and tools only: what it composes takes options', () => {
    const root = edges.filter(({ file, to }) => file.startsWith('shared/') && to === 'shared/app');
    expect(root.map(({ file }) => file)).toEqual(['shared/bridgeSummary.ts']);
  });

  it('loads the FC SDK through the kick only', () => {
    const loaders = edges.filter(({ to }) => to.startsWith('@alicloud/')).map(({ file }) => file);
    expect([...new Set(loaders)]).toEqual(['shared/kick/kickFunction.ts']);
  });

  it('loads the tablestore SDK through its one seam only', () => {
    const loaders = edges.filter(({ to }) => to === 'tablestore').map(({ file }) => file);
    expect([...new Set(loaders)]).toEqual(['shared/store/tablestore/sdk.ts']);
  });

  it('opens sockets in the network adapters only', () => {
    const sockets = edges.filter(({ file, to }) => NODE_NET.test(to) && !NETWORK_ADAPTERS.has(file));
    expect(sockets).toEqual([]);
  });

  it('keeps the pure rules free of adapters, SDKs and I/O', () => {
    const pure = edges.filter(({ file }) => PURE_RULES.some((rule) => file.startsWith(rule)));
    expect(pure.some(({ file }) => file === 'shared/pagerduty/buildEvent.ts')).toBe(true);
    expect(pure.filter(({ to }) => IMPURE.test(to))).toEqual([]);
  });

  it('keeps the pure rules from calling fetch', () => {
    const pureFiles = files.filter((file) => PURE_RULES.some((rule) => file.startsWith(rule)));
    expect(pureFiles.length).toBeGreaterThan(20);
    expect(pureFiles.filter(callsFetch)).toEqual([]);
    expect(callsFetch('shared/health/heartbeat.ts')).toBe(true);
  });
});
