import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { alertValue, renderPlaceholders } from '../../../shared/alerts/placeholder';

const context = {
  labels: {
    namespace: 'arms-prom',
    pod_name: 'kube-state-metrics-ccb59dbff-jljg4',
    container: 'kube-state-metrics',
    'a.b': 'dotted',
  },
  value: '15.521240234375',
};

describe('renderPlaceholders', () => {
  it('renders the documented ARMS sample message', () => {
    // Prepare: annotations.message of the verbatim sample (reference/arms-and-fc.md §1.2)
    const message =
      '报警：命名空间: {{$labels.namespace}} / Pod: {{$labels.pod_name}} / 容器: {{$labels.container}} 内存使用率超过80%, 当前值{{ printf "%.2f" $value }}%';

    // Act
    const rendered = renderPlaceholders(message, context);

    // Assess
    expect(rendered).toBe(
      '报警：命名空间: arms-prom / Pod: kube-state-metrics-ccb59dbff-jljg4 / 容器: kube-state-metrics 内存使用率超过80%, 当前值15.52%',
    );
  });

  it.each([
    ['{{$labels.namespace}}', 'arms-prom'],
    ['{{ $labels.namespace }}', 'arms-prom'],
    ['{{ .Labels.namespace }}', 'arms-prom'],
    ['{{ .labels.namespace }}', 'arms-prom'],
    ['{{ index $labels "namespace" }}', 'arms-prom'],
    ['{{ index .Labels "a.b" }}', 'dotted'],
    ['{{ index $labels `a.b` }}', 'dotted'],
    ['{{$value}}', '15.521240234375'],
    ['{{ .Value }}', '15.521240234375'],
    ['{{ printf "%.2f" $value }}', '15.52'],
    ['{{ printf "%.0f" $value }}', '16'],
    ['{{ printf "%f" $value }}', '15.521240'],
    ['{{ printf "%.1f%%" $value }}', '15.5%'],
    ['{{ printf "%g" $value }}', '15.521240234375'],
    ['{{ printf "%s" $labels.namespace }}', 'arms-prom'],
    ['{{ printf "ns=%v" .Labels.namespace }}', 'ns=arms-prom'],
    ['{{ $value | printf "%.3f" }}', '15.521'],
    ['a {{- $labels.namespace -}} b', 'aarms-promb'],
    ['a\n  {{- $labels.namespace }}  b', 'aarms-prom  b'],
  ])('renders %j as %j', (text, expected) => {
    // Act & Assess
    expect(renderPlaceholders(text, context)).toBe(expected);
  });

  it.each([
    ['a missing label', 'team {{ $labels.team }}.', 'team .'],
    ['a missing index label', 'team {{ index $labels "team" }}.', 'team .'],
    ['a function it does not know', 'at {{ $value | humanize }}%', 'at %'],
    ['a control structure', '{{ if $labels.namespace }}x{{ end }}', 'x'],
    ['a printf with two verbs', '[{{ printf "%s %s" $value }}]', '[]'],
    ['a number verb on text', '[{{ printf "%.2f" $labels.namespace }}]', '[]'],
    ['an integer verb', '[{{ printf "%d" $value }}]', '[]'],
    ['a Go escape JSON does not know', '[{{ printf "\\x41%s" $value }}]', '[]'],
  ])('removes %s, which it cannot render', (_name, text, expected) => {
    // Act & Assess
    expect(renderPlaceholders(text, context)).toBe(expected);
  });

  it.each([
    ['an unclosed action', 'x {{ $labels.namespace'],
    ['an over-long action', `{{ ${' '.repeat(300)}$value }}`],
  ])('keeps %s, which is not an action, as it is', (_name, text) => {
    // Act & Assess
    expect(renderPlaceholders(text, context)).toBe(text);
  });

  it('renders what it can and removes the rest in one text', () => {
    // Act
    const rendered = renderPlaceholders(
      '{{ $labels.team }} / {{ $labels.namespace }} / {{ $value | humanize }}',
      context,
    );

    // Assess
    expect(rendered).toBe(' / arms-prom / ');
  });

  it('removes $value when the alert has no value', () => {
    // Act & Assess
    expect(renderPlaceholders('now {{ $value }}', { labels: {} })).toBe('now ');
  });

  it('never throws and never changes text without braces', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', maxLength: 200 }),
        fc.dictionary(fc.string(), fc.string()),
        (text, labels) => {
          // Act
          const rendered = renderPlaceholders(text, { labels, value: '1.5' });

          // Assess
          expect(typeof rendered).toBe('string');
          if (!text.includes('{{')) expect(rendered).toBe(text);
        },
      ),
    );
  });

  it('stays linear on many unclosed braces', () => {
    // Prepare: 128 KB of "{{" with a single "}}" at the start cannot be rendered
    const text = `}}${'{{ $labels.x '.repeat(10_000)}`;

    // Act & Assess: returns (a quadratic scan would not finish within the test timeout)
    expect(renderPlaceholders(text, context)).toBe(text);
  });
});

describe('renderPlaceholders: templates read once, rendered per alert', () => {
  // A model of the common forms: each segment is literal text or an action with what it renders to per context.
  type Context = { labels: Record<string, string>; value?: string };
  const contexts: Context[] = [
    { labels: { pod: 'web-1', namespace: 'prod' }, value: '91.234' },
    { labels: { pod: 'db-7' } },
  ];
  const action = fc.constantFrom(
    { text: '{{$labels.pod}}', render: (c: Context) => c.labels.pod ?? '' },
    { text: '{{ .Labels.namespace }}', render: (c: Context) => c.labels.namespace ?? '' },
    { text: '{{ index $labels "pod" }}', render: (c: Context) => c.labels.pod ?? '' },
    { text: '{{ $value }}', render: (c: Context) => c.value ?? '' },
    { text: '{{ printf "%.2f" $value }}', render: (c: Context) => (c.value ? Number(c.value).toFixed(2) : '') },
    { text: '{{ $value | printf "%.1f" }}', render: (c: Context) => (c.value ? Number(c.value).toFixed(1) : '') },
    { text: '{{ if .Labels.pod }}', render: () => '' },
  );
  const literal = fc.stringMatching(/^[a-z 中%}\n]{0,6}$/).map((text) => ({ text, render: () => text }));
  const segments = fc.array(fc.oneof(action, literal), { maxLength: 8 });

  it('renders every alert of a text from its own labels and value (property)', () => {
    fc.assert(
      fc.property(segments, (parts) => {
        // Prepare
        const text = parts.map((part) => part.text).join('');

        // Act & Assess: each context in turn, twice (the second time from the template read the first time)
        for (const context of [...contexts, ...contexts]) {
          expect(renderPlaceholders(text, context)).toBe(parts.map((part) => part.render(context)).join(''));
        }
      }),
      { numRuns: 1_000 },
    );
  });
});

describe('alertValue', () => {
  it.each([
    [{ value: '1', _aliyun_arms_alert_now_value: '2', _aliyun_arms_alert_value: '3' }, '1'],
    [{ _aliyun_arms_alert_now_value: '2', _aliyun_arms_alert_value: '3' }, '2'],
    [{ _aliyun_arms_alert_value: '3' }, '3'],
    [{ value: ' ', _aliyun_arms_alert_value: '3' }, '3'],
    [{}, undefined],
    [undefined, undefined],
  ])('takes the value of %j', (annotations, expected) => {
    // Act & Assess
    expect(alertValue(annotations)).toBe(expected);
  });
});
