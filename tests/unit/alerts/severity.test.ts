import { describe, expect, it } from 'vitest';
import { mapSeverity, resolveSeverity, severityFromLabels } from '../../../shared/alerts/severity';

describe('mapSeverity', () => {
  // CONTRACT §5.4, every spelling, plus case variants.
  it.each([
    ...['critical', 'crit', 'fatal', 'p1', 'CRITICAL', 'Crit', 'P1'].map((value) => [value, 'critical'] as const),
    ...['error', 'err', 'major', 'high', 'p2', 'ERROR', 'Major', 'P2'].map((value) => [value, 'error'] as const),
    ...['warning', 'warn', 'minor', 'medium', 'p3', 'WARNING', 'Warn', 'P3'].map(
      (value) => [value, 'warning'] as const,
    ),
    ...['info', 'informational', 'notice', 'low', 'page', 'p4', 'p5', 'INFO', 'Page', 'P5'].map(
      (value) => [value, 'info'] as const,
    ),
    [' warning ', 'warning'] as const,
  ])('maps %j to %s', (value: string, expected: string) => {
    // Act & Assess
    expect(mapSeverity(value)).toBe(expected);
  });

  it.each([['none'], ['p6'], [''], ['默认'], ['critical!'], [undefined], [3], [null]])('does not map %j', (value) => {
    // Act & Assess
    expect(mapSeverity(value)).toBeUndefined();
  });
});

describe('severityFromLabels', () => {
  it.each([
    {
      name: 'labels.severity wins over the ARMS level (the documented sample)',
      labels: { severity: 'warning', _aliyun_arms_alert_level: 'ERROR' },
      expected: { severity: 'warning', source: 'severity' },
    },
    {
      name: 'the ARMS level when there is no severity label',
      labels: { _aliyun_arms_alert_level: 'P1' },
      expected: { severity: 'critical', source: '_aliyun_arms_alert_level' },
    },
    {
      name: 'an unknown severity falls through to the ARMS level',
      labels: { severity: 'none', _aliyun_arms_alert_level: 'P2' },
      expected: { severity: 'error', source: '_aliyun_arms_alert_level' },
    },
    {
      name: 'both unknown: undefined, so the route default applies',
      labels: { severity: 'none', _aliyun_arms_alert_level: '默认' },
      expected: undefined,
    },
    { name: 'no severity label at all', labels: { alertname: 'X' }, expected: undefined },
  ] as Array<{ name: string; labels: Record<string, string>; expected: object | undefined }>)(
    'takes $name',
    ({ labels, expected }) => {
      // Act
      const result = severityFromLabels(labels);

      // Assess
      expect(result).toEqual(expected);
    },
  );

  it('does not read inherited properties', () => {
    // Prepare: a label set whose prototype has a severity
    const labels = Object.create({ severity: 'critical' }) as Record<string, string>;

    // Act & Assess
    expect(severityFromLabels(labels)).toBeUndefined();
  });
});

describe('resolveSeverity', () => {
  it.each([
    { alert: 'warning', route: 'critical', expected: 'warning' },
    { alert: undefined, route: 'critical', expected: 'critical' },
    { alert: undefined, route: 'P3', expected: 'warning' },
    { alert: undefined, route: 'bogus', expected: 'error' },
    { alert: undefined, route: undefined, expected: 'error' },
  ] as const)('alert $alert, route $route → $expected', ({ alert, route, expected }) => {
    // Act & Assess
    expect(resolveSeverity(alert, route)).toBe(expected);
  });
});
