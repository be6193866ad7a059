/**
 * The V8 code cache of each function (`scripts/codeCache/`): the cache the build made is taken by the loader FC
 * requires (no rejection line) and holds what a first invocation runs, not only the module scope; a cache V8 refuses
 * (other V8 flags, another app.js) is said once and costs the function nothing but the compile: it still answers. The
 * test run builds first (`npm test`).
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { invokeBundle } from '../../support/bundle';
import { closedAfterAll } from '../../support/closedAfterAll';
import { startFakePagerDuty } from '../../support/fakePagerDuty';
import { httpEvent, timerEvent } from '../../support/fcEvents';
import { startTablestoreOverFake } from '../../support/tablestoreOverFake';

const root = join(__dirname, '..', '..', '..');
const sample = readFileSync(join(root, 'tests/fixtures/arms/sample.json'), 'utf8');
const REJECTED = /V8 code cache rejected/;
const TOKEN = 'code-cache-test-token';

/**
 * Bytes of bytecode V8 compiles during the first invocation of the webhook in `dir` (a fresh process, deployed
 * settings, an empty Tablestore and PagerDuty on loopback): what the code cache did not already hold, plus Node's own
 * modules the call loads.
 */
async function bytecodeCompiledByFirstCall(dir: string, keep: ReturnType<typeof closedAfterAll>): Promise<number> {
  const tablestore = keep(await startTablestoreOverFake());
  const pagerduty = keep(await startFakePagerDuty());
  const env = {
    ...tablestore.env,
    PAGERDUTY_ROUTING_KEY: 'codecachetestroutingkey000000032',
    PAGERDUTY_EVENTS_URL: pagerduty.url,
    WEBHOOK_TOKENS: TOKEN,
    LOG_LEVEL: 'ERROR',
  };
  const script = `
    const { getHeapCodeStatistics } = require('node:v8');
    const bundle = require(${JSON.stringify(join(dir, 'index.js'))});
    const before = getHeapCodeStatistics().bytecode_and_metadata_size;
    const context = { requestId: 'code-cache-test', credentials: {}, function: { name: 'alert-webhook' } };
    bundle.handler(Buffer.from(process.env.EVENT_B64, 'base64'), context).then((result) => {
      const grown = getHeapCodeStatistics().bytecode_and_metadata_size - before;
      process.stdout.write(JSON.stringify({ statusCode: result.statusCode, grown }) + '\\n');
    });`;
  const event = httpEvent({ body: sample, headers: { Authorization: `Bearer ${TOKEN}` } });
  const { stdout } = await promisify(execFile)(process.execPath, ['-e', script], {
    env: { PATH: process.env.PATH ?? '', ...env, EVENT_B64: event.toString('base64') },
    timeout: 15_000,
  });
  const answer = JSON.parse(stdout.trim().split('\n').at(-1) as string) as { statusCode: number; grown: number };
  expect(answer.statusCode).toBe(200);
  return answer.grown;
}

describe('V8 code cache', () => {
  const keep = closedAfterAll();
  const copies: string[] = [];
  afterAll(() => {
    for (const dir of copies) rmSync(dir, { recursive: true, force: true });
  });

  it.each([
    ['alert-webhook', () => httpEvent({ body: sample })],
    ['delivery-health', () => timerEvent()],
  ])('%s takes the cache the build made', async (fn, event) => {
    // Act
    const { result, lines } = await invokeBundle(fn, event(), { STORE: 'memory' });

    // Assess
    expect(result).not.toBeNull();
    expect(lines.filter((line) => REJECTED.test(line))).toEqual([]);
  });

  it('holds what the first invocation runs: that call compiles less than half of what it compiles without a cache', async () => {
    // Prepare: a copy of the function without its cache
    const uncached = mkdtempSync(join(tmpdir(), 'code-cache-'));
    copies.push(uncached);
    cpSync(join(root, 'dist', 'alert-webhook'), uncached, { recursive: true });
    rmSync(join(uncached, 'app.cache'));

    // Act: each on its own empty store, so both take the path of a new alert
    const cached = await bytecodeCompiledByFirstCall(join(root, 'dist', 'alert-webhook'), keep);
    const compiled = await bytecodeCompiledByFirstCall(uncached, keep);

    // Assess
    expect(cached).toBeLessThan(compiled / 2);
  });

  it('says once that V8 refused the cache under other V8 flags, and answers as without it', async () => {
    // Act: --max-old-space-size changes V8's flag hash, as a differently launched runtime would
    const { result, lines } = await invokeBundle(
      'alert-webhook',
      httpEvent({ body: sample }),
      { STORE: 'memory' },
      {
        nodeArgs: ['--max-old-space-size=96'],
      },
    );

    // Assess
    expect(result.statusCode).toBe(200);
    const said = lines.filter((line) => REJECTED.test(line));
    expect(said).toHaveLength(1);
    expect(JSON.parse(said[0] as string)).toMatchObject({ level: 'INFO', node: process.version });
  });

  it('refuses a cache that belongs to another app.js', async () => {
    // Prepare: a copy of the function whose bundle differs by one comment from the one the cache was made for
    const dir = mkdtempSync(join(tmpdir(), 'code-cache-'));
    copies.push(dir);
    cpSync(join(root, 'dist', 'alert-webhook'), dir, { recursive: true });
    writeFileSync(join(dir, 'app.js'), `${readFileSync(join(dir, 'app.js'), 'utf8')}\n// changed\n`);
    const { execFileSync } = await import('node:child_process');

    // Act
    const stdout = execFileSync(
      process.execPath,
      ['-e', `require(${JSON.stringify(join(dir, 'index.js'))}); process.stdout.write('loaded\\n');`],
      { env: { PATH: process.env.PATH ?? '', STORE: 'memory', LOG_LEVEL: 'ERROR' }, encoding: 'utf8' },
    );

    // Assess
    const lines = stdout.trim().split('\n');
    expect(lines.filter((line) => REJECTED.test(line))).toHaveLength(1);
    expect(lines.at(-1)).toBe('loaded');
  });
});
