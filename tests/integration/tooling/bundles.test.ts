/**
 * The built bundles, as FC loads them: a plain `node` process requires `dist/<function>/index.js` and invokes
 * `handler` once with a Buffer event (the test run builds first: `npm test` runs `npm run build`).
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { invokeBundle } from '../../support/bundle';
import { httpEvent, timerEvent } from '../../support/fcEvents';

const root = join(__dirname, '..', '..', '..');
const sample = readFileSync(join(root, 'tests/fixtures/arms/sample.json'), 'utf8');
const _run = promisify(execFile);

describe('Bundles', () => {
  it.each(['alert-webhook', 'delivery-health'])('%s is CommonJS with a source map and a package.json', (fn) => {
    const dir = join(root, 'dist', fn);
    // index.js is the loader (scripts/codeCache/loader.cjs); app.js the bundle, app.cache its V8 code cache.
    expect(existsSync(join(dir, 'app.js.map'))).toBe(true);
    expect(existsSync(join(dir, 'app.cache'))).toBe(true);
    expect(JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))).toEqual({ type: 'commonjs' });
  });

  it('alert-webhook answers the ARMS sample in dry-run', async () => {
    // Act
    const { result, lines } = await invokeBundle('alert-webhook', httpEvent({ body: sample }), { STORE: 'memory' });

    // Assess
    expect(result.statusCode).toBe(200);
    expect(result.isBase64Encoded).toBe(false);
    expect(result.headers['content-type']).toContain('application/json');
    expect(JSON.parse(result.body)).toMatchObject({ status: 'dry-run', dryRun: 1 });
    expect(lines.some((line) => /dry-run: events? stored/.test(line))).toBe(true);
  });

  it('alert-webhook deployed with an invalid configuration answers 503, not a crash', async () => {
    // Act
    const { result } = await invokeBundle('alert-webhook', httpEvent({ body: sample }), {
      FC_FUNCTION_NAME: 'alert-webhook',
    });

    // Assess
    expect(result.statusCode).toBe(503);
    expect(JSON.parse(result.body).error.code).toBe('config_no_webhook_tokens');
  });

  it('delivery-health answers a timer event with its report', async () => {
    // Act
    const { result } = await invokeBundle('delivery-health', timerEvent(), { STORE: 'memory' });

    // Assess
    expect(result).toMatchObject({ ok: true, verdict: 'healthy', triggerName: 'timer', dryRun: true, outbox: {} });
  });
});
