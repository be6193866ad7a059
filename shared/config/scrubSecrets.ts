/**
 * The one scrubber: every configured secret's real value removed from a text before it is printed (a log line, the
 * start-up banner, an operator tool's output, a configuration problem). `Secret` already renders as `<secret>`; this
 * catches the raw value where something else quoted it (a third-party error message, a JSON text of routing rules).
 */
import { REDACTED, type Secret } from './Secret';

/** Shorter values are left alone: scrubbing them would hide innocent text (a short token matches ordinary words). */
const MIN_SCRUBBED_LENGTH = 6;

/**
 * The texts to replace for these secrets: each value as is and as `JSON.stringify` escapes it inside a string, longest
 * first (so a secret containing another is replaced whole). Precompute it where the same secrets scrub many texts.
 *
 * @example
 * secretForms([new Secret('a"b-0123456')]); // ['a\\"b-0123456', 'a"b-0123456']
 */
function secretForms(secrets: readonly (Secret | string)[]): string[] {
  const forms = new Set<string>();
  for (const secret of secrets) {
    const value = typeof secret === 'string' ? secret : secret.reveal();
    if (value.length < MIN_SCRUBBED_LENGTH) continue;
    forms.add(value);
    forms.add(JSON.stringify(value).slice(1, -1));
  }
  return [...forms].sort((a, b) => b.length - a.length);
}

/** Replaces every form of every secret in `text` with `<secret>` (forms from {@link secretForms}). */
function scrubForms(text: string, forms: readonly string[]): string {
  let out = text;
  for (const form of forms) out = out.replaceAll(form, REDACTED);
  return out;
}

/**
 * `text` with every secret in it replaced by `<secret>`.
 *
 * @example
 * scrubSecrets('[{"name":"db","routingKey":"R0UT1NGKEY…"}]', config.secrets); // '[{"name":"db","routingKey":"<secret>"}]'
 */
function scrubSecrets(text: string, secrets: readonly (Secret | string)[]): string {
  return scrubForms(text, secretForms(secrets));
}

export { MIN_SCRUBBED_LENGTH, scrubForms, scrubSecrets, secretForms };
