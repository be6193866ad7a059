import { describe, expect, it } from 'vitest';
import { detectTestButton, hasPresetTemplateKeys } from '../../../shared/alerts/detectTestButton';
import { fixtureBytes } from './fixtures';

describe('detectTestButton', () => {
  it.each([
    [
      'the literal $alertmanager_content',
      fixtureBytes('arms/console-test-literal.txt').toString(),
      '$alertmanager_content',
    ],
    ['$content inside valid JSON', fixtureBytes('arms/console-test-content.txt').toString(), '$content'],
    [
      '$alertmanager_content inside a wrapper',
      '{"routing_key":"x","payload":$alertmanager_content}',
      '$alertmanager_content',
    ],
    ['$content with whitespace around it', '\n  $content\n', '$content'],
  ])('recognises %s', (_name, text, variable) => {
    // Act
    const detail = detectTestButton(text);

    // Assess
    expect(detail).toBe(
      `body contains the unrendered ARMS variable ${variable}: this is the ARMS console's webhook test, which does not substitute it; nothing was forwarded`,
    );
  });

  it.each([
    ['the English preset template (not valid JSON)', fixtureBytes('arms/console-test-preset-template.txt').toString()],
    [
      'the Chinese preset template',
      '{\n "告警名称":"{{ .commonLabels.alertname }}",\n "通知策略":"{{ .dispatchRuleName }}",\n "告警内容":"{{ for .alerts }} {{ .annotations.message }} {{ end }}"\n}',
    ],
    ['other capitalisation', '{"alert NAME": "{{ .commonLabels.alertname }}"}'],
  ])('recognises %s', (_name, text) => {
    // Act
    const detail = detectTestButton(text);

    // Assess
    expect(detail).toBe(
      "body is ARMS's preset webhook template with unrendered {{ … }} placeholders: this is the ARMS console's webhook test; nothing was forwarded",
    );
  });

  it.each([
    ['a truncated real callback', '{"alerts":[{"labels":{"alertname":"x"'],
    [
      'the preset template rendered (a real notification, wrong setup)',
      '{"Alert name":"HighCPU","Notification Policy":"default"}',
    ],
    ['placeholders without the preset keys', '{"summary":"{{ $labels.pod }}"}'],
    ['the preset key as a value, not a key', '{"a":"Alert name", "b":"{{ x }}"}'],
    ['a dollar sign alone', '{"price":"$5"}'],
    [
      'a truncated real callback that mentions $content',
      '{"alerts":[{"status":"firing","startsAt":"2021-02-22T07:18:15.578Z","annotations":{"summary":"uses $content"',
    ],
    ['a truncated real callback with a fingerprint and placeholders', '{"Alert name":"{{ x }}","fingerprint": "abc"'],
    ['empty text', ''],
  ])('does not take %s for a test', (_name, text) => {
    // Act & Assess
    expect(detectTestButton(text)).toBeUndefined();
  });
});

describe('hasPresetTemplateKeys', () => {
  it.each([
    ['{"Alert name":"x"}', true],
    ['{ "Notification Policy" : "x"}', true],
    ['{"告警名称":"x"}', true],
    ['{"alertname":"x"}', false],
  ])('%j → %s', (text, expected) => {
    // Act & Assess
    expect(hasPresetTemplateKeys(text)).toBe(expected);
  });
});
