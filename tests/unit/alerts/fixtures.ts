/** Reads the alert fixtures of `tests/fixtures/` for the unit tests of `shared/alerts/`. */
import { readFileSync } from 'node:fs';
import type { IntakeLimits } from '../../../shared/alerts/readCallback';
import { DEFAULT_MAX_ALERTS, DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_JSON_DEPTH } from '../../../shared/constants';

/** The raw bytes of a fixture, e.g. `fixtureBytes('arms/sample.json')`. */
function fixtureBytes(path: string): Buffer {
  return readFileSync(new URL(`../../fixtures/${path}`, import.meta.url));
}

/** A JSON fixture, parsed (a fresh copy each call, so tests may mutate it). */
function fixtureJson<T = Record<string, unknown>>(path: string): T {
  return JSON.parse(fixtureBytes(path).toString('utf8')) as T;
}

/** The default intake limits (`shared/constants.ts`). */
const DEFAULT_LIMITS: IntakeLimits = {
  maxBodyBytes: DEFAULT_MAX_BODY_BYTES,
  maxAlerts: DEFAULT_MAX_ALERTS,
  maxJsonDepth: DEFAULT_MAX_JSON_DEPTH,
};

export { DEFAULT_LIMITS, fixtureBytes, fixtureJson };
