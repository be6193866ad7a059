/**
 * The house's layering, read from the source's own import lines (issue 14): `shared/` never imports `functions/`; the
 * tablestore SDK is loaded by its one seam; raw sockets are opened by the network adapters only; the pure domain rules
 * import no platform adapter, no SDK and no I/O module. A move that breaks a rule fails here with the file and the import.
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
/** Pure rules: a table of inputs to a verdict, nothing else (each has a table test). */
const PURE_RULES = [
  'shared/alerts/',
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
  /^(node:)?(fs|http|https|net|tls|child_process|worker_threads)$|^tablestore$|^@alicloud\/|^shared\/fc\/|^shared\/store\/(?!(DeliveryRecord|OccurrenceMarker|KeyState)$)/;
/^(node:)?(fs|http|https|net|tls|child_process|worker_threads)$|^tablestore$|^@alicloud\/|^shared\/(fc|store)\//;

describe('Layering of shared/ and functions/', () => {
  it('reads the import lines it checks', () => {
    expect(files.length).toBeGreaterThan(50);
    expect(edges.some(({ file, to }) => file === 'shared/store/tablestore/sdk.ts' && to === 'tablestore')).toBe(true);
  });

  it('never imports functions/ from shared/', () => {
    const upward = edges.filter(({ file, to }) => file.startsWith('shared/') && to.startsWith('functions/'));
    expect(upward).toEqual([]);
  });

  it('keeps shared/fc/ the platform adapter only: it imports none of the app', () => {
    const app = /^shared\/(instance|instanceSummary|health|delivery|store|middleware|alerts|pagerduty)(\/|$)/;
    const upward = edges.filter(({ file, to }) => file.startsWith('shared/fc/') && app.test(to));
    expect(upward).toEqual([]);
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
    expect(pure.length).toBeGreaterThan(0);
    expect(pure.filter(({ to }) => IMPURE.test(to))).toEqual([]);
  });
});
