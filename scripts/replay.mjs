#!/usr/bin/env node
// npm run replay -- <log file> [url]
//
// When the store and PagerDuty were both down, the webhook answered 503 and logged each callback it could not keep in
// one ERROR line carrying `replay: {contentType, bodyBase64}` (ARMS does not retry, so that line is the last record).
// This feeds those callbacks back through the webhook once things work again. Dedupe makes replaying twice harmless.
//
// Reads the log from the file (or stdin), posts each callback to the URL (default http://127.0.0.1:$PORT/, or
// REPLAY_URL), with the first of WEBHOOK_TOKENS as X-Webhook-Token when set.
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';

const [file, urlArg] = process.argv.slice(2);
const url = urlArg ?? process.env.REPLAY_URL ?? `http://127.0.0.1:${process.env.PORT || 9000}/`;
const token = (process.env.WEBHOOK_TOKENS ?? '').split(',')[0]?.trim();

const input = file ? createReadStream(file) : process.stdin;
let found = 0;
let failed = 0;
let unreplayable = 0;
for await (const line of createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })) {
  const start = line.indexOf('{');
  if (start < 0 || !line.includes('"replay"')) continue;
  let entry;
  try {
    entry = JSON.parse(line.slice(start));
  } catch {
    continue;
  }
  const replay = entry?.replay;
  if (typeof replay?.bodyBase64 !== 'string') {
    // Too large to log whole: the line names its alerts instead; they must be re-sent from ARMS.
    if (Array.isArray(replay?.alerts)) {
      unreplayable++;
      console.error(
        `${entry.time ?? ''} not replayable (${replay.truncated ?? 'body not logged'}) ${replay.alerts.length} alerts`,
      );
    }
    continue;
  }
  found++;
  const headers = { 'content-type': replay.contentType ?? 'application/json' };
  if (token) headers['x-webhook-token'] = token;
  try {
    const response = await fetch(url, { method: 'POST', headers, body: Buffer.from(replay.bodyBase64, 'base64') });
    const text = await response.text();
    console.log(`${entry.time ?? ''} ${response.status} ${text.slice(0, 200)}`);
    if (response.status >= 300) failed++;
  } catch (error) {
    failed++;
    console.error(`${entry.time ?? ''} failed: ${error.message}`);
  }
}
console.log(`replayed ${found} callback(s), ${failed} not accepted, ${unreplayable} too large to have been logged`);
process.exitCode = failed > 0 || unreplayable > 0 ? 1 : 0;
