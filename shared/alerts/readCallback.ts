/**
 * The webhook's one entry into the alert core: request body bytes → either "this is the ARMS console test" or a
 * normalized `AlertGroup` (valid alerts plus per-alert rejections). Everything a client can send either comes out as
 * one of those or as a `PayloadInvalidError` (4xx) naming what is wrong; nothing else is thrown for client input.
 *
 * Order of checks (none can be defeated by the ones after it):
 *
 * | # | Check | Answer |
 * |---|---|---|
 * | 1 | body bytes over `maxBodyBytes` (before any decoding) | 413 `payload_too_large` |
 * | 2 | charset unknown to the runtime | 415 `unsupported_charset` |
 * |   | bytes not valid in the charset (text: a lone surrogate) | 400 `invalid_encoding` (byte offset) |
 * | 3 | `JSON.parse`, then an iterative depth walk of the value (`MAX_CONTAINERS_PARSED_FIRST`: when to scan first) | see 6 |
 * | 4 | the parse failed: body empty or whitespace only; else the syntax scan says where | 400 `empty_body`; see 6 |
 * | 5 | a JSON object with an `alerts` array is a callback, whatever text it contains | continue at 7 |
 * | 6 | otherwise: nested deeper than `maxJsonDepth` | 413 `json_too_deep` |
 * |   | console test (CONTRACT §5.5; never when rendered alert fields are present) | `console-test` (2xx, nothing forwarded) |
 * |   | not JSON | 400 `malformed_json` (line, column, position) |
 * |   | JSON but not a callback | 422 `invalid_callback` (`body must be a JSON object`, `alerts is required`, …) |
 * | 7 | envelope fields of the wrong type (`truncatedAlerts must be an integer`, …) | 422 `invalid_callback` |
 * | 8 | more alerts than `maxAlerts` | 413 `too_many_alerts` |
 * | 9 | each alert against the alert schema | invalid ones → `rejected[{index, reason}]` |
 * | 10 | no valid alert left | 422 `no_valid_alerts` (details: the rejected list) |
 */
import { ErrorCode, PayloadInvalidError } from '../errors';
import { validateAlert, validateCallbackEnvelope } from '../validation/generated/validators';
import { checkJsonSyntax } from './checkJsonSyntax';
import { decodeBody, decodeText } from './decodeBody';
import { describeValidationErrors } from './describeValidationErrors';
import { detectTestButton, hasPresetTemplateKeys } from './detectTestButton';
import { type NormalizeOptions, normalizeCallback } from './normalize';
import type { RawAlert, RawCallbackEnvelope } from './schema';
import type { AlertGroup, RejectedAlert } from './types';

/** Intake limits (configured; defaults `DEFAULT_MAX_BODY_BYTES`, `DEFAULT_MAX_ALERTS`, `DEFAULT_MAX_JSON_DEPTH`). */
interface IntakeLimits {
  /** Largest body accepted, in bytes as received (after the FC adapter's base64 decoding). */
  maxBodyBytes: number;
  /** Most alerts in one callback. */
  maxAlerts: number;
  /** Deepest JSON nesting accepted; each object or array is one level (an Alertmanager body is 4). */
  maxJsonDepth: number;
}

/** What the body turned out to be. */
type CallbackReading =
  /** The ARMS console's Test button: answer 2xx, forward nothing. `detail` says why it was recognised. */
  | { kind: 'console-test'; detail: string }
  /** A real callback: `group.alerts` are the valid alerts, `group.rejected` the per-alert problems. */
  | { kind: 'callback'; group: AlertGroup };

/**
 * A body with more `{` / `[` than this is scanned (syntax and depth) before `JSON.parse`, as every body was: parsed
 * first, 8 MB of `[` would build millions of nested arrays (~230 MB of heap) before the depth check could refuse it.
 * Under it, the parse costs at most a few MB more than the body; a 5,000-alert callback has ~20,000 containers.
 */
const MAX_CONTAINERS_PARSED_FIRST = 250_000;

/** Rejections quoted in the `no_valid_alerts` message (all of them are in `details`). */
const MAX_QUOTED_REJECTIONS = 3;

const formatBytes = (bytes: number): string => bytes.toLocaleString('en-US');

/** The body's size in bytes as received (text: its UTF-8 bytes, as FC received them) when over `max`, else undefined. */
function sizeOverLimit(body: Buffer | string, max: number): number | undefined {
  if (typeof body !== 'string') return body.length > max ? body.length : undefined;
  // A UTF-16 unit is at most 3 UTF-8 bytes: most bodies need no count.
  if (body.length * 3 <= max) return undefined;
  const bytes = Buffer.byteLength(body, 'utf8');
  return bytes > max ? bytes : undefined;
}

/** The JSON type of a value, for messages ("an array", "null"). */
function jsonTypeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/**
 * The number of `{` and `[` in `text` (strings included: an upper bound of its objects and arrays), counted up to
 * `max + 1`.
 */
function countOpeners(text: string, max: number): number {
  let count = 0;
  for (const opener of ['{', '[']) {
    for (let i = text.indexOf(opener); i >= 0 && count <= max; i = text.indexOf(opener, i + 1)) count += 1;
  }
  return count;
}

/**
 * Whether a parsed value nests objects and arrays more than `maxDepth` levels deep (each object or array is one level,
 * empty ones too, as `checkJsonSyntax` counts them). Iterative, and it stops at the first container too deep.
 */
function nestedDeeperThan(value: unknown, maxDepth: number): boolean {
  const containers: unknown[] = [value];
  const levels: number[] = [1];
  for (let index = 0; index < containers.length; index++) {
    const container = containers[index];
    if (typeof container !== 'object' || container === null) continue;
    const level = levels[index] as number;
    if (level > maxDepth) return true;
    if (Array.isArray(container)) {
      for (const item of container) {
        if (typeof item !== 'object' || item === null) continue;
        containers.push(item);
        levels.push(level + 1);
      }
      continue;
    }
    for (const key in container) {
      const item = (container as Record<string, unknown>)[key];
      if (typeof item !== 'object' || item === null) continue;
      containers.push(item);
      levels.push(level + 1);
    }
  }
  return false;
}

function isCallbackShaped(value: unknown): value is Record<string, unknown> & { alerts: unknown[] } {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Array.isArray((value as { alerts?: unknown }).alerts)
  );
}

/**
 * The 422 for JSON that is not a callback. When the body has the keys of ARMS's preset human-readable template, the
 * message says how to fix the webhook instead of only what is missing.
 */
function notACallback(value: unknown, text: string): PayloadInvalidError {
  let message: string;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    message = `body must be a JSON object with an alerts array, got ${jsonTypeOf(value)}`;
  } else {
    validateCallbackEnvelope(value);
    message = describeValidationErrors(validateCallbackEnvelope.errors, 'body', value);
  }
  if (hasPresetTemplateKeys(text)) {
    message += ": this is ARMS's human-readable webhook template; set the webhook body to $alertmanager_content";
  }
  return new PayloadInvalidError(message, 422, ErrorCode.INVALID_CALLBACK);
}

/** Steps 7–10: the envelope, the count limit, each alert, at least one valid. */
function readAlerts(
  envelope: Record<string, unknown> & { alerts: unknown[] },
  limits: IntakeLimits,
  options: NormalizeOptions,
): AlertGroup {
  if (!validateCallbackEnvelope(envelope)) {
    throw new PayloadInvalidError(
      describeValidationErrors(validateCallbackEnvelope.errors, 'body', envelope),
      422,
      ErrorCode.INVALID_CALLBACK,
      { details: validateCallbackEnvelope.errors },
    );
  }
  const { alerts } = envelope;
  if (alerts.length > limits.maxAlerts) {
    throw new PayloadInvalidError(
      `callback has ${alerts.length} alerts, more than the limit of ${limits.maxAlerts} per callback`,
      413,
      ErrorCode.TOO_MANY_ALERTS,
    );
  }
  const accepted: RawAlert[] = [];
  const rejected: RejectedAlert[] = [];
  alerts.forEach((alert, index) => {
    if (validateAlert(alert)) accepted.push(alert as RawAlert);
    else rejected.push({ index, reason: describeValidationErrors(validateAlert.errors, 'alert', alert) });
  });
  if (accepted.length === 0) {
    const quoted = rejected
      .slice(0, MAX_QUOTED_REJECTIONS)
      .map(({ index, reason }) => `alerts[${index}]: ${reason}`)
      .join('; ');
    const more = rejected.length > MAX_QUOTED_REJECTIONS ? `; and ${rejected.length - MAX_QUOTED_REJECTIONS} more` : '';
    let message = `none of the ${alerts.length} alerts is valid: ${quoted}${more}`;
    if (alerts.length === 0) message = 'alerts is empty: the callback has no alert to forward';
    if (alerts.length === 1) message = `the callback's only alert is invalid: ${quoted}`;
    throw new PayloadInvalidError(message, 422, ErrorCode.NO_VALID_ALERTS, { details: rejected });
  }
  return normalizeCallback(envelope as RawCallbackEnvelope, accepted, rejected, options);
}

/**
 * Reads one webhook body.
 *
 * @param body - the request body: the text FC passed, or the bytes (base64-decoded by the FC adapter when
 *   `isBase64Encoded`).
 * @param contentType - the request's Content-Type header, if any (only its `charset` matters: ARMS sends JSON as
 *   `text/plain` by default, so the media type is not checked).
 * @param limits - the intake limits.
 * @param options - normalization options (identity label exclusions).
 * @throws PayloadInvalidError (400, 413, 415 or 422) for every body that is neither a callback nor the console test.
 * @example
 * const reading = readCallback(Buffer.from(json), 'text/plain; charset=UTF-8', limits);
 * if (reading.kind === 'console-test') return ok({ test: true, message: reading.detail });
 */
function readCallback(
  body: Buffer | string,
  contentType: string | undefined,
  limits: IntakeLimits,
  options: NormalizeOptions = {},
): CallbackReading {
  // 1. Size on the bytes as received, before decoding can multiply the work.
  const bytes = sizeOverLimit(body, limits.maxBodyBytes);
  if (bytes !== undefined) {
    throw new PayloadInvalidError(
      `body is ${formatBytes(bytes)} bytes, over the limit of ${formatBytes(limits.maxBodyBytes)} bytes`,
      413,
      ErrorCode.PAYLOAD_TOO_LARGE,
    );
  }
  // 2. Text.
  const { text } = typeof body === 'string' ? decodeText(body, contentType) : decodeBody(body, contentType);
  // 3. JSON.parse first: the common case is a valid callback, and the native parser is the fastest reader of it.
  const openers = countOpeners(text, MAX_CONTAINERS_PARSED_FIRST);
  let problem = openers > MAX_CONTAINERS_PARSED_FIRST ? checkJsonSyntax(text, limits.maxJsonDepth) : undefined;
  let value: unknown;
  let parsed = false;
  if (problem === undefined) {
    try {
      value = JSON.parse(text);
      parsed = openers <= limits.maxJsonDepth || !nestedDeeperThan(value, limits.maxJsonDepth);
    } catch {
      // Explained below.
    }
  }
  if (!parsed) {
    // 4. Refused: say why. Empty first, then the scan's line and column (or its depth verdict).
    if (text.trim() === '') {
      throw new PayloadInvalidError(
        'body is empty: expected an ARMS or Alertmanager callback (JSON)',
        400,
        ErrorCode.EMPTY_BODY,
      );
    }
    problem ??= checkJsonSyntax(text, limits.maxJsonDepth);
  }
  // 5. A callback is a callback even when an annotation mentions `$content` or holds `{{ … }}`.
  if (parsed && isCallbackShaped(value)) {
    return { kind: 'callback', group: readAlerts(value, limits, options) };
  }
  // 6. Not a callback. Too deep first: the scan stopped early, so nothing is known about the rest of the body, and a
  // real callback must not be taken for the test. Then the console test, then a clear refusal.
  if (problem?.kind === 'depth') {
    throw new PayloadInvalidError(
      `body is nested more than ${limits.maxJsonDepth} levels deep (at line ${problem.line}, column ${problem.column}); an ARMS or Alertmanager callback is 4 levels deep`,
      413,
      ErrorCode.JSON_TOO_DEEP,
      { details: { position: problem.position, line: problem.line, column: problem.column } },
    );
  }
  const consoleTest = detectTestButton(text);
  if (consoleTest !== undefined) return { kind: 'console-test', detail: consoleTest };
  if (!parsed) {
    const where =
      problem?.position === undefined
        ? ''
        : ` at line ${problem.line}, column ${problem.column} (position ${problem.position})`;
    const what = problem === undefined ? 'invalid JSON' : problem.message;
    throw new PayloadInvalidError(`body is not valid JSON${where}: ${what}`, 400, ErrorCode.MALFORMED_JSON, {
      details:
        problem?.position === undefined
          ? undefined
          : { position: problem.position, line: problem.line, column: problem.column },
    });
  }
  throw notACallback(value, text);
}

export { type CallbackReading, type IntakeLimits, readCallback };
