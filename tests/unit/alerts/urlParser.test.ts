import { describe, expect, it } from 'vitest';
import { UrlParser } from '../../../shared/alerts/urlParser';

describe('Class: UrlParser', () => {
  describe('Method: parse', () => {
    it.each([
      ['https://arms.console.aliyun.com/#/alert?id=1', { protocol: 'https:', host: 'arms.console.aliyun.com' }],
      ['http://10.0.0.1:9093/alerts', { protocol: 'http:', host: '10.0.0.1:9093' }],
      ['ftp://files.example.com/x', { protocol: 'ftp:', host: 'files.example.com' }],
      ['not a url', undefined],
      ['', undefined],
    ])('answers %j as new URL does', (value, expected) => {
      // Act: a first parser asks, then a second one (a later callback) asks again.
      const first = new UrlParser().parse(value);
      const again = new UrlParser().parse(value);

      // Assess
      expect(first).toEqual(expected);
      expect(again).toEqual(expected);
    });

    it('keeps the answers of different strings apart, however many callbacks asked before', () => {
      // Prepare: more distinct strings than the shared answers hold, so the cache starts over in between.
      const values = Array.from({ length: 1500 }, (_, index) => `https://host-${index}.example.com/path`);

      // Act
      const hosts = values.map((value) => new UrlParser().parse(value)?.host);

      // Assess
      expect(hosts).toEqual(values.map((_, index) => `host-${index}.example.com`));
    });
  });

  describe('Method: withProtocol', () => {
    it.each([
      ['https://a.example.com', ['https:'], 'a.example.com'],
      ['http://a.example.com', ['https:'], undefined],
      [undefined, ['https:'], undefined],
      ['javascript:alert(1)', ['http:', 'https:'], undefined],
    ] as const)('answers %j for %j', (value, protocols, host) => {
      expect(new UrlParser().withProtocol(value, protocols)?.host).toBe(host);
    });
  });
});
