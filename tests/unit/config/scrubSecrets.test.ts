import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { configuredSecrets } from '../../../shared/config/configuredSecrets';
import { Secret } from '../../../shared/config/Secret';
import { scrubSecrets, secretForms } from '../../../shared/config/scrubSecrets';

const INLINE_KEY = 'INL1NEK3Y0000000000000000000000A';
const ENV_KEY = 'ENVK3Y00000000000000000000000000';
const SHORT_KEY = 'SH0RTK3Y0001';

describe('Function: scrubSecrets', () => {
  it.each([
    ['the raw value', `key=${INLINE_KEY}`, 'key=<secret>'],
    ['every occurrence', `${INLINE_KEY}/${INLINE_KEY}`, '<secret>/<secret>'],
    ['the value as JSON escapes it', JSON.stringify({ k: 'a"b\\c-secret' }), '{"k":"<secret>"}'],
  ])('replaces %s', (_case, text, expected) => {
    // Act
    const scrubbed = scrubSecrets(text, [new Secret(INLINE_KEY), 'a"b\\c-secret']);

    // Assess
    expect(scrubbed).toBe(expected);
  });

  it('replaces a secret containing another whole, and leaves values under 6 characters alone', () => {
    // Act
    const scrubbed = scrubSecrets('token-123456 and token-1234 and abc', ['token-1234', 'token-123456', 'abc']);

    // Assess
    expect(scrubbed).toBe('<secret> and <secret> and abc');
    expect(secretForms(['abc'])).toEqual([]);
  });
});

describe('Function: configuredSecrets', () => {
  const dir = mkdtempSync(join(tmpdir(), 'configured-secrets-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const values = (env: Record<string, string>, codeDir?: string) =>
    configuredSecrets(env, { codeDir }).map((secret) => secret.reveal());

  it('takes every secret setting, each token of WEBHOOK_TOKENS, and nothing else', () => {
    // Act
    const found = values({
      PAGERDUTY_ROUTING_KEY: ENV_KEY,
      WEBHOOK_TOKENS: 'token-one-0001, token-two-0002',
      HEARTBEAT_URL: 'https://hc-ping.com/uuid-0001',
      PAGERDUTY_EVENTS_URL: 'https://events.pagerduty.com/v2/enqueue',
    });

    // Assess
    expect(found.sort()).toEqual([ENV_KEY, 'token-one-0001', 'token-two-0002', 'https://hc-ping.com/uuid-0001'].sort());
  });

  it.each([
    ['valid rules', JSON.stringify([{ name: 'db', routingKey: INLINE_KEY }])],
    ['a key of the wrong length', JSON.stringify([{ name: 'db', routingKey: SHORT_KEY }])],
    ['a misspelt field', JSON.stringify([{ name: 'db', routing_key: INLINE_KEY }])],
    ['rules that are not JSON', `[{"name": "db", "routingKey": "${INLINE_KEY}",]`],
  ])('takes the inline keys of %s', (_case, rules) => {
    // Act
    const found = values({ PAGERDUTY_ROUTES: rules });

    // Assess
    expect(found.some((value) => value === INLINE_KEY || value === SHORT_KEY)).toBe(true);
  });

  it('takes the variable a routingKeyEnv names, and a key pasted into routingKeyEnv itself', () => {
    // Act
    const found = values({
      PAGERDUTY_ROUTES: JSON.stringify([
        { name: 'db', routingKeyEnv: 'PD_KEY_DB' },
        { name: 'web', routingKeyEnv: INLINE_KEY },
      ]),
      PD_KEY_DB: ENV_KEY,
    });

    // Assess
    expect(found).toContain(ENV_KEY);
    expect(found).toContain(INLINE_KEY);
    expect(found).not.toContain('PD_KEY_DB');
  });

  it('reads the rules of PAGERDUTY_ROUTES_FILE relative to the code directory', () => {
    // Prepare
    writeFileSync(join(dir, 'routes.json'), JSON.stringify([{ name: 'db', routingKey: INLINE_KEY }]));

    // Act
    const found = values({ PAGERDUTY_ROUTES_FILE: 'routes.json' }, dir);
    const missing = values({ PAGERDUTY_ROUTES_FILE: 'nope.json' }, dir);

    // Assess
    expect(found).toEqual([INLINE_KEY]);
    expect(missing).toEqual([]);
  });
});
