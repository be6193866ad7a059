/**
 * Runs a built function bundle as FC would: a fresh `node` process requires `dist/<function>/index.js` (a strict,
 * CommonJS bundle) and invokes `handler` once with a Buffer event. The test run builds first (`npm test`).
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const root = join(__dirname, '..', '..');
const run = promisify(execFile);

/** The handler's result, everything the process printed, and that output split in lines. */
async function invokeBundle(fn: string, event: Buffer, env: Record<string, string>) {
  const script = `
    const bundle = require(${JSON.stringify(join(root, 'dist', fn, 'index.js'))});
    const context = { requestId: 'bundle-test', credentials: {}, function: { name: ${JSON.stringify(fn)} } };
    bundle.handler(Buffer.from(process.env.EVENT_B64, 'base64'), context).then(
      (result) => process.stdout.write('RESULT ' + JSON.stringify(result) + '\\n'),
      (error) => { process.stdout.write('THREW ' + error.message + '\\n'); process.exitCode = 1; },
    );`;
  const { stdout } = await run(process.execPath, ['-e', script], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', EVENT_B64: event.toString('base64'), ...env },
    timeout: 15_000,
  });
  const lines = stdout.trim().split('\n');
  const resultLine = lines.find((line) => line.startsWith('RESULT ')) ?? 'RESULT null';
  return { result: JSON.parse(resultLine.slice('RESULT '.length)), stdout, lines };
}

export { invokeBundle };
