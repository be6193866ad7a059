/**
 * Alertmanager-style label matchers (`team="db"`, `env!=staging`, `severity=~"critical|error"`, `job!~"test.*"`),
 * the syntax ARMS and Alertmanager users already write in notification policies and `amtool`.
 *
 * As in Alertmanager: regexes are fully anchored (`^(?:…)$`); a missing label matches as the empty string, so
 * `env=""` matches alerts without `env`; values may be double-quoted, with `\"`, `\\` and `\n` escapes.
 * Unlike Alertmanager (Go RE2), regexes are JavaScript's, compiled with the `u` flag (code points, like RE2).
 */

/** The four operators. */
const MatchType = {
  EQUAL: '=',
  NOT_EQUAL: '!=',
  REGEX: '=~',
  NOT_REGEX: '!~',
} as const;
type MatchType = (typeof MatchType)[keyof typeof MatchType];

/** One parsed matcher. */
interface Matcher {
  name: string;
  type: MatchType;
  value: string;
  /** Anchored regex for `=~` / `!~`. */
  regex?: RegExp;
  /** The matcher as written, for messages. */
  text: string;
}

// name: a Prometheus label name, or any double-quoted string (UTF-8 label names); operator; rest is the value.
const MATCHER_PATTERN = /^\s*([A-Za-z_][A-Za-z0-9_]*|"(?:[^"\\]|\\.)*")\s*(=~|!~|!=|=)\s*(.*?)\s*$/s;

function unquote(quoted: string): string {
  return quoted.slice(1, -1).replace(/\\(.)/gs, (_, char: string) => (char === 'n' ? '\n' : char));
}

/**
 * Parses one matcher.
 *
 * @returns the matcher, or the reason it is not one (for a configuration problem line)
 *
 * @example
 * parseMatcher('severity=~"critical|error"'); // { matcher: { name: 'severity', type: '=~', value: 'critical|error', … } }
 * parseMatcher('team==db'); // { problem: 'matcher "team==db" is not a valid matcher: …' }
 */
function parseMatcher(
  text: string,
): { matcher: Matcher; problem?: undefined } | { matcher?: undefined; problem: string } {
  const invalid = (why: string) => ({ problem: `matcher ${JSON.stringify(text)} is not a valid matcher: ${why}` });
  const parts = MATCHER_PATTERN.exec(text);
  if (!parts) return invalid('expected name=value, name!=value, name=~regex or name!~regex');
  const [, rawName = '', type = '=', rawValue = ''] = parts;
  const name = rawName.startsWith('"') ? unquote(rawName) : rawName;
  let value: string;
  if (rawValue.startsWith('"')) {
    if (!/^"(?:[^"\\]|\\.)*"$/s.test(rawValue)) return invalid('the quoted value is not closed');
    value = unquote(rawValue);
  } else {
    // `team==db`, `team=!db`, `team=~~x`: almost always a typo, never what the author meant.
    if (/^[=!~]/.test(rawValue)) return invalid(`unexpected ${JSON.stringify(rawValue[0])} after the operator`);
    if (rawValue.includes('"')) return invalid('an unquoted value cannot contain "');
    value = rawValue;
  }
  const matcher: Matcher = { name, type: type as MatchType, value, text };
  if (matcher.type === MatchType.REGEX || matcher.type === MatchType.NOT_REGEX) {
    try {
      // Compiled alone first: `a)|(b` would otherwise escape the anchoring group and compile unanchored.
      new RegExp(value, 'u');
      matcher.regex = new RegExp(`^(?:${value})$`, 'u');
    } catch (error) {
      return invalid(`the regex does not compile: ${(error as Error).message}`);
    }
  }
  return { matcher };
}

/** Whether `labels` satisfy `matcher` (a missing label counts as the empty string, as in Alertmanager). */
function matches(matcher: Matcher, labels: Readonly<Record<string, string>>): boolean {
  const value = Object.hasOwn(labels, matcher.name) ? (labels[matcher.name] ?? '') : '';
  switch (matcher.type) {
    case MatchType.EQUAL:
      return value === matcher.value;
    case MatchType.NOT_EQUAL:
      return value !== matcher.value;
    case MatchType.REGEX:
      return matcher.regex?.test(value) ?? false;
    case MatchType.NOT_REGEX:
      return !(matcher.regex?.test(value) ?? false);
  }
}

export type { Matcher };
export { MatchType, matches, parseMatcher };
