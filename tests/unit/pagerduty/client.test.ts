import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../shared/errors';
import { changeEventsUrl } from '../../../shared/pagerduty/client';

// Sending is tested over real HTTP in tests/integration/adapters/pagerdutyClient.test.ts.
describe('Function: changeEventsUrl', () => {
  it.each([
    { url: 'https://events.pagerduty.com/v2/enqueue', expected: 'https://events.pagerduty.com/v2/change/enqueue' },
    {
      url: 'https://events.eu.pagerduty.com/v2/enqueue',
      expected: 'https://events.eu.pagerduty.com/v2/change/enqueue',
    },
    { url: 'https://events.pagerduty.com/v2/enqueue/', expected: 'https://events.pagerduty.com/v2/change/enqueue' },
    { url: 'http://127.0.0.1:8080/pd/v2/enqueue?x=1', expected: 'http://127.0.0.1:8080/pd/v2/change/enqueue?x=1' },
    {
      url: 'https://events.pagerduty.com/v2/change/enqueue',
      expected: 'https://events.pagerduty.com/v2/change/enqueue',
    },
  ])('$url → $expected', ({ url, expected }) => {
    // Act / Assess
    expect(changeEventsUrl(url)).toBe(expected);
  });

  it.each([
    { url: 'events.pagerduty.com', problem: 'PAGERDUTY_EVENTS_URL "events.pagerduty.com" is not a URL' },
    {
      url: 'https://proxy.example.com/pagerduty',
      problem: 'PAGERDUTY_EVENTS_URL path /pagerduty does not end in /v2/enqueue',
    },
  ])('rejects $url', ({ url, problem }) => {
    // Act / Assess
    expect(() => changeEventsUrl(url)).toThrow(ConfigError);
    expect(() => changeEventsUrl(url)).toThrow(problem);
  });
});
