import { describe, expect, it } from 'vitest';
import { describeValidationErrors } from '../../../shared/alerts/describeValidationErrors';
import { MAX_LABEL_VALUE_LENGTH, MAX_LABELS_PER_ALERT } from '../../../shared/constants';
import { validateAlert, validateCallbackEnvelope } from '../../../shared/validation/generated/validators';
import { fixtureJson } from './fixtures';

/** The reason the alert validator gives, or undefined when the alert is valid. */
function alertProblem(alert: unknown): string | undefined {
  return validateAlert(alert) ? undefined : describeValidationErrors(validateAlert.errors, 'alert', alert);
}

/** The reason the envelope validator gives, or undefined when the envelope is valid. */
function envelopeProblem(body: unknown): string | undefined {
  return validateCallbackEnvelope(body)
    ? undefined
    : describeValidationErrors(validateCallbackEnvelope.errors, 'body', body);
}

const valid = { status: 'firing', labels: { alertname: 'HighCPU' } };

describe('validateCallbackEnvelope', () => {
  it.each([
    ['the verbatim ARMS sample', 'arms/sample.json'],
    ['the ARMS resolved callback', 'arms/resolved.json'],
    ['the Alertmanager v4 webhook with truncatedAlerts', 'alertmanager/v4-truncated.json'],
    ['the Alertmanager v4 resolved webhook', 'alertmanager/v4-resolved.json'],
  ])('accepts %s', (_name, path) => {
    // Act & Assess
    expect(envelopeProblem(fixtureJson(path))).toBeUndefined();
  });

  it.each([
    ['only alerts (ARMS leaves out version, groupKey, truncatedAlerts)', { alerts: [] }],
    ['unknown keys', { alerts: [], notification_reason: 'x', extra: { deep: [1] } }],
    ['non-string common labels (informational only)', { alerts: [], commonLabels: { a: 1 } }],
  ])('accepts %s', (_name, body) => {
    // Act & Assess
    expect(envelopeProblem(body)).toBeUndefined();
  });

  it.each([
    ['no alerts', {}, 'alerts is required'],
    ['alerts not an array', { alerts: {} }, 'alerts must be an array (got an object)'],
    ['alerts null', { alerts: null }, 'alerts must be an array (got null)'],
    ['truncatedAlerts negative', { alerts: [], truncatedAlerts: -1 }, 'truncatedAlerts must be >= 0'],
    [
      'truncatedAlerts fractional',
      { alerts: [], truncatedAlerts: 1.5 },
      'truncatedAlerts must be an integer (got a number)',
    ],
    ['version a number', { alerts: [], version: 4 }, 'version must be a string (got a number)'],
    ['groupKey not a string', { alerts: [], groupKey: {} }, 'groupKey must be a string (got an object)'],
    ['externalURL not a string', { alerts: [], externalURL: ['x'] }, 'externalURL must be a string (got an array)'],
    ['commonLabels not an object', { alerts: [], commonLabels: 'x' }, 'commonLabels must be an object (got a string)'],
    [
      'several problems at once',
      { version: 4, groupKey: 1, status: 2, receiver: 3 },
      'alerts is required; status must be a string (got a number); receiver must be a string (got a number); and 2 more problems',
    ],
  ])('refuses %s', (_name, body, reason) => {
    // Act & Assess
    expect(envelopeProblem(body)).toBe(reason);
  });
});

describe('validateAlert', () => {
  it('accepts every alert of the fixtures', () => {
    // Prepare
    const alerts = [
      ...fixtureJson<{ alerts: unknown[] }>('arms/sample.json').alerts,
      ...fixtureJson<{ alerts: unknown[] }>('arms/placeholders.json').alerts,
      ...fixtureJson<{ alerts: unknown[] }>('alertmanager/v4-truncated.json').alerts,
    ];

    // Act & Assess
    expect(alerts.map(alertProblem)).toEqual(alerts.map(() => undefined));
  });

  it.each([
    ['only status and labels', valid],
    ['an unparsable time (normalized to absent, not rejected)', { ...valid, startsAt: 'yesterday' }],
    ['unknown keys', { ...valid, silenceURL: 'x' }],
    ['an empty label value', { status: 'resolved', labels: { alertname: 'x', pod: '' } }],
    ['a label value of the maximum length', { ...valid, labels: { a: 'x'.repeat(MAX_LABEL_VALUE_LENGTH) } }],
    [
      'the maximum number of labels',
      { ...valid, labels: Object.fromEntries(Array.from({ length: MAX_LABELS_PER_ALERT }, (_, i) => [`l${i}`, 'v'])) },
    ],
  ])('accepts %s', (_name, alert) => {
    // Act & Assess
    expect(alertProblem(alert)).toBeUndefined();
  });

  it.each([
    ['not an object', 'firing', 'alert must be an object (got a string)'],
    ['null', null, 'alert must be an object (got null)'],
    ['no labels', { status: 'firing' }, 'labels is required'],
    ['empty labels', { status: 'firing', labels: {} }, 'labels must not be empty'],
    ['labels an array', { status: 'firing', labels: ['a'] }, 'labels must be an object (got an array)'],
    [
      'a non-string label value',
      { status: 'firing', labels: { severity: 3 } },
      'labels.severity must be a string (got a number)',
    ],
    [
      'a null label value',
      { status: 'firing', labels: { severity: null } },
      'labels.severity must be a string (got null)',
    ],
    [
      'a non-identifier label name',
      { status: 'firing', labels: { 'app.kubernetes.io/name': true } },
      'labels["app.kubernetes.io/name"] must be a string (got a boolean)',
    ],
    ['an empty label name', { status: 'firing', labels: { '': 'x' } }, 'labels has an empty name'],
    [
      'a label value over the limit',
      { status: 'firing', labels: { a: 'x'.repeat(MAX_LABEL_VALUE_LENGTH + 1) } },
      `labels.a must be at most ${MAX_LABEL_VALUE_LENGTH} characters`,
    ],
    [
      'a label name over the limit',
      { status: 'firing', labels: { ['n'.repeat(MAX_LABEL_VALUE_LENGTH + 1)]: 'x' } },
      `labels has a name longer than ${MAX_LABEL_VALUE_LENGTH} characters ("${'n'.repeat(64)}…")`,
    ],
    [
      'too many labels',
      {
        status: 'firing',
        labels: Object.fromEntries(Array.from({ length: MAX_LABELS_PER_ALERT + 1 }, (_, i) => [`l${i}`, 'v'])),
      },
      `labels must have at most ${MAX_LABELS_PER_ALERT} entries`,
    ],
    ['no status', { labels: { a: 'b' } }, 'status is required'],
    ['an unknown status', { ...valid, status: 'FIRING' }, 'status must be "firing" or "resolved" (got "FIRING")'],
    ['a non-string status', { ...valid, status: 1 }, 'status must be a string (got a number)'],
    [
      'a non-string annotation',
      { ...valid, annotations: { value: 15.5 } },
      'annotations.value must be a string (got a number)',
    ],
    ['annotations not an object', { ...valid, annotations: 'x' }, 'annotations must be an object (got a string)'],
    ['startsAt a number', { ...valid, startsAt: 1613978295578 }, 'startsAt must be a string (got a number)'],
    ['fingerprint a number', { ...valid, fingerprint: 123 }, 'fingerprint must be a string (got a number)'],
  ])('rejects %s', (_name, alert, reason) => {
    // Act & Assess
    expect(alertProblem(alert)).toBe(reason);
  });
});

describe('describeValidationErrors', () => {
  it('gives a generic reason when there are no errors', () => {
    // Act & Assess
    expect(describeValidationErrors(null, 'alert')).toBe('alert is invalid');
  });

  it('names an unknown keyword with its path and ajv message', () => {
    // Prepare
    const errors = [
      { instancePath: '/a/0', schemaPath: '#', keyword: 'pattern', params: {}, message: 'must match pattern' },
    ];

    // Act & Assess
    expect(describeValidationErrors(errors, 'body')).toBe('a[0] must match pattern');
  });
});
