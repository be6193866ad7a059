/**
 * Severity mapping, exactly CONTRACT §5.4. ARMS levels (`P1`…`P4`, `critical`/`error`/`warn`/`page`,
 * `reference/arms-and-fc.md` §1.4) and Prometheus conventions (`critical`, `warning`, …) land on PagerDuty's four
 * values; anything else is not guessed but falls through to the next source, so every event still carries a valid
 * severity (Alertmanager#1211: an invalid severity made PagerDuty refuse the page).
 */
import { Severity } from '../constants';

/** CONTRACT §5.4: lower-cased input value → PagerDuty severity. */
const SEVERITY_BY_VALUE: ReadonlyMap<string, Severity> = new Map<string, Severity>([
  ...['critical', 'crit', 'fatal', 'p1'].map((value) => [value, Severity.CRITICAL] as const),
  ...['error', 'err', 'major', 'high', 'p2'].map((value) => [value, Severity.ERROR] as const),
  ...['warning', 'warn', 'minor', 'medium', 'p3'].map((value) => [value, Severity.WARNING] as const),
  ...['info', 'informational', 'notice', 'low', 'page', 'p4', 'p5'].map((value) => [value, Severity.INFO] as const),
]);

/** Labels consulted, in order (CONTRACT §5.4 sources 1 and 2). */
const SEVERITY_LABELS = ['severity', '_aliyun_arms_alert_level'] as const;
type SeverityLabel = (typeof SEVERITY_LABELS)[number];

/** Used when neither the alert nor the route gives a known severity (CONTRACT §5.4). */
const FALLBACK_SEVERITY: Severity = Severity.ERROR;

/**
 * Maps one value through the table, case-insensitively (surrounding whitespace ignored).
 *
 * @returns the PagerDuty severity, or undefined for anything outside the table (including non-strings).
 * @example mapSeverity('P2') // 'error'
 */
function mapSeverity(value: unknown): Severity | undefined {
  if (typeof value !== 'string') return undefined;
  return SEVERITY_BY_VALUE.get(value.trim().toLowerCase());
}

/**
 * The severity an alert's own labels give: `labels.severity`, else `labels._aliyun_arms_alert_level`; a label with
 * a value outside the table falls through to the next.
 *
 * @returns the severity and the label it came from, or undefined so that the route's `defaultSeverity` applies.
 * @example severityFromLabels({ severity: 'warning', _aliyun_arms_alert_level: 'ERROR' }) // { severity: 'warning', source: 'severity' }
 */
function severityFromLabels(
  labels: Readonly<Record<string, string>>,
): { severity: Severity; source: SeverityLabel } | undefined {
  for (const source of SEVERITY_LABELS) {
    const severity = Object.hasOwn(labels, source) ? mapSeverity(labels[source]) : undefined;
    if (severity !== undefined) return { severity, source };
  }
  return undefined;
}

/**
 * The final severity of an event: the alert's own, else the route's `defaultSeverity` (mapped through the same table,
 * so `P1` works there too), else `error`.
 *
 * @example resolveSeverity(undefined, 'warning') // 'warning'
 */
function resolveSeverity(alertSeverity: Severity | undefined, routeDefault?: string): Severity {
  return alertSeverity ?? mapSeverity(routeDefault) ?? FALLBACK_SEVERITY;
}

export { FALLBACK_SEVERITY, mapSeverity, resolveSeverity, SEVERITY_LABELS, type SeverityLabel, severityFromLabels };
