#!/usr/bin/env node
// npm run audit: `npm audit` of the production dependencies, failing on high or critical advisories.
//
//   exit 0  no high/critical advisory, OR the registry's advisory service cannot be reached (a warning says so:
//           on machines without it the check is skipped, not passed; run it where the registry is reachable)
//   exit 1  high or critical advisories found (listed)
//   exit 2  npm audit failed for another reason (no lockfile, unreadable output)
//
// Not part of `npm test`: the advisory service is outside the test's loopback-only world (issue 7, Dependencies).
import { spawnSync } from 'node:child_process';

const FAILING_SEVERITIES = ['high', 'critical'];
/** Error codes and texts that mean "the advisory service did not answer", not "the tree is vulnerable". */
const UNREACHABLE_CODES = new Set([
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'ECONNABORTED',
  'EPROTO',
  'CERT_HAS_EXPIRED',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
]);

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const run = spawnSync(npm, ['audit', '--omit=dev', '--audit-level=high', '--json'], {
  encoding: 'utf8',
  maxBuffer: 64 * 1024 * 1024,
  shell: process.platform === 'win32',
});

const warn = (line) => process.stderr.write(`${line}\n`);

if (run.error) {
  warn(`npm audit: could not run npm: ${run.error.message}`);
  process.exit(2);
}

let report;
try {
  report = JSON.parse(run.stdout);
} catch {
  report = undefined;
}

/** An `npm audit --json` error object: `{ error: { code, summary }, message?, statusCode? }` or a bare message. */
function unreachable(result, stderr) {
  const code = result?.error?.code;
  if (code && UNREACHABLE_CODES.has(code)) return `${code} ${result.error.summary ?? ''}`.trim();
  // The registry answered, but not as the audit endpoint (a mirror without it answers 404/405, a proxy 5xx).
  if (typeof result?.statusCode === 'number') return result.message ?? `HTTP ${result.statusCode}`;
  if (/audit endpoint returned an error|network|socket hang up|request to .* failed/i.test(stderr)) {
    return (
      stderr
        .trim()
        .split('\n')
        .find((line) => line.trim() !== '') ?? 'network error'
    );
  }
  return undefined;
}

const counts = report?.metadata?.vulnerabilities;
if (!counts) {
  const reason = unreachable(report, run.stderr ?? '');
  if (reason) {
    warn(`npm audit: the registry's advisory service is unreachable (${reason}); audit SKIPPED, not passed.`);
    warn('npm audit: run `npm run audit` where registry.npmjs.org is reachable before releasing.');
    process.exit(0);
  }
  warn(`npm audit: failed (exit ${run.status}); output:\n${(run.stdout ?? '').slice(0, 2000)}${run.stderr ?? ''}`);
  process.exit(2);
}

const failing = Object.values(report.vulnerabilities ?? {}).filter((entry) =>
  FAILING_SEVERITIES.includes(entry.severity),
);
const summary = ['critical', 'high', 'moderate', 'low', 'info']
  .map((severity) => `${counts[severity] ?? 0} ${severity}`)
  .join(', ');
console.log(`npm audit (production dependencies): ${summary}`);
if (failing.length === 0) process.exit(0);

for (const entry of failing) {
  const advisories = (entry.via ?? [])
    .map((via) => (typeof via === 'string' ? `via ${via}` : `${via.title ?? via.source} (${via.url ?? 'no url'})`))
    .join('; ');
  console.log(`  ${entry.severity.padEnd(8)} ${entry.name} ${entry.range ?? ''}: ${advisories}`);
  if (entry.fixAvailable) {
    const fix =
      entry.fixAvailable === true ? 'npm audit fix' : `${entry.fixAvailable.name}@${entry.fixAvailable.version}`;
    console.log(`           fix: ${fix}`);
  }
}
console.log(
  'Fix the versions (npm `overrides` in package.json for transitive ones, documented in docs/development.md).',
);
process.exit(1);
