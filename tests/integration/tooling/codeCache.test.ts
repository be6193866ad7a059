/**
 * The V8 code cache of each function (`scripts/codeCache/`): the cache the build made is taken by the loader FC
 * requires (no rejection line), and a cache V8 refuses (other V8 flags, another app.js) is said once and costs the
 * function nothing but the compile: it still answers. The test run builds first (`npm test`).
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { invokeBundle } from '../../support/bundle';
import { httpEvent, timerEvent } from '../../support/fcEvents';

const root = join(__dirname, '..', '..', '..');
const sample = readFileSync(join(root, 'tests/fixtures/arms/sample.json'), 'utf8');
const REJECTED = /V8 code cache rejected/;

describe('V8 code cache', () => {
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
