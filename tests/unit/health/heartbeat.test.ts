import { describe, expect, it } from 'vitest';
import { Secret } from '../../../shared/config/Secret';
import { heartbeatTarget, pingHeartbeat } from '../../../shared/health/heartbeat';

// Pinging is tested over real HTTP in tests/integration/health/healthNotifiers.test.ts.
describe('Function: heartbeatTarget', () => {
  it.each([
    { url: 'https://hc-ping.com/uuid', healthy: true, expected: 'https://hc-ping.com/uuid' },
    { url: 'https://hc-ping.com/uuid', healthy: false, expected: 'https://hc-ping.com/uuid/fail' },
    { url: 'https://hc-ping.com/uuid/', healthy: false, expected: 'https://hc-ping.com/uuid/fail' },
    { url: 'https://hc-ping.com/uuid//', healthy: false, expected: 'https://hc-ping.com/uuid/fail' },
    {
      url: 'https://hc-ping.com/key/slug?create=1',
      healthy: false,
      expected: 'https://hc-ping.com/key/slug/fail?create=1',
    },
    { url: 'https://hc-ping.com/uuid?a=1&b=%2F', healthy: true, expected: 'https://hc-ping.com/uuid?a=1&b=%2F' },
    { url: 'https://hc-ping.com/uuid#frag', healthy: false, expected: 'https://hc-ping.com/uuid/fail#frag' },
    { url: 'https://hc.example.com', healthy: false, expected: 'https://hc.example.com/fail' },
    { url: 'http://127.0.0.1:8000/ping/uuid', healthy: false, expected: 'http://127.0.0.1:8000/ping/uuid/fail' },
  ])('$url, healthy $healthy → $expected', ({ url, healthy, expected }) => {
    // Act / Assess
    expect(heartbeatTarget(url, healthy).toString()).toBe(expected);
  });

  it.each(['hc-ping.com/uuid', 'mailto:ops@example.com', 'file:///etc/passwd', ''])(
    'refuses %j without naming it',
    (url) => {
      // Act / Assess
      expect(() => heartbeatTarget(url, true)).toThrow(/^HEARTBEAT_URL is not/);
      try {
        heartbeatTarget(url, true);
      } catch (error) {
        if (url !== '') expect((error as Error).message).not.toContain(url);
      }
    },
  );
});

describe('Function: pingHeartbeat', () => {
  it('answers an unusable URL without a request and without the URL', async () => {
    // Act
    const result = await pingHeartbeat({ url: new Secret('no-scheme/TOKEN123'), healthy: true, timeoutMs: 100 });

    // Assess
    expect(result).toEqual({ ok: false, error: 'HEARTBEAT_URL is not a URL' });
  });
});
