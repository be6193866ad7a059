/**
 * Runs a built function bundle as FC would: a fresh `node` process requires `dist/<function>/index.js` (a strict,
 * CommonJS bundle) and invokes `handler` once with a Buffer event. The test run builds first (`npm test`).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const root = join(__dirname, '..', '..');
const run = promisify(execFile);

/** The handler's result, everything the process printed, and that output split in lines. */
async function invokeBundle(
  fn: string,
  event: Buffer,
  env: Record<string, string>,
  options: { nodeArgs?: string[]; timeoutMs?: number } = {},
) {
  // The event goes through a file: an environment string is capped at 128 KiB (a large callback is megabytes).
  const dir = mkdtempSync(join(tmpdir(), 'bundle-event-'));
  const eventFile = join(dir, 'event');
  writeFileSync(eventFile, event);
  const script = `
    const bundle = require(${JSON.stringify(join(root, 'dist', fn, 'index.js'))});
    const context = { requestId: 'bundle-test', credentials: {}, function: { name: ${JSON.stringify(fn)} } };
    const event = require('node:fs').readFileSync(process.env.EVENT_FILE);
    let peak = 0;
    const sample = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 2);
    bundle.handler(event, context).finally(() => {
      clearInterval(sample);
      process.stdout.write('PEAK_RSS ' + Math.max(peak, process.memoryUsage().rss) + '\\n');
    }).then(
      (result) => process.stdout.write('RESULT ' + JSON.stringify(result) + '\\n'),
      (error) => { process.stdout.write('THREW ' + error.message + '\\n'); process.exitCode = 1; },
    );`;
  try {
    const { stdout } = await run(process.execPath, [...(options.nodeArgs ?? []), '-e', script], {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', EVENT_FILE: eventFile, ...env },
      timeout: options.timeoutMs ?? 15_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    const lines = stdout.trim().split('\n');
    const resultLine = lines.find((line) => line.startsWith('RESULT ')) ?? 'RESULT null';
    const peakLine = lines.find((line) => line.startsWith('PEAK_RSS ')) ?? 'PEAK_RSS 0';
    return {
      result: JSON.parse(resultLine.slice('RESULT '.length)),
      stdout,
      lines,
      peakRssBytes: Number(peakLine.slice('PEAK_RSS '.length)),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export { invokeBundle };
