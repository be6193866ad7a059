/**
 * Recognises the ARMS console's webhook **Test** button (CONTRACT §5.5). The console does not substitute template
 * variables (`reference/arms-and-fc.md` §1.5), so it sends either the literal variable (`$alertmanager_content`,
 * `$content`, possibly inside the user's wrapper text) or the preset human-readable template with its `{{ … }}`
 * placeholders unrendered. The preset template puts unescaped message text and quotes inside JSON strings
 * (`{{if eq "app" .commonLabels._aliyun_arms_involvedObject_kind }}`), so it is usually not valid JSON: the decision is
 * made on the raw text.
 */

/** ARMS template variables that only appear unrendered (a real notification replaces them). */
const TEMPLATE_VARIABLES = ['$alertmanager_content', '$content'] as const;

/**
 * Keys of ARMS's preset webhook template (English console and Chinese console), as JSON keys: `"Alert name":`.
 * Matched case-insensitively because the console's capitalisation has varied ("Notification Policy" / "policy").
 */
const PRESET_TEMPLATE_KEY =
  /"\s*(?:alert name|notification policy|alert triggered at|alert content|cluster name|application name|告警名称|通知策略|告警时间|告警内容|集群名称|应用名称)\s*"\s*:/i;

/** An unrendered Go/ARMS template action: `{{ .commonLabels.alertname }}`, `{{ for .alerts }}`. */
const TEMPLATE_ACTION = /\{\{[^{}]*\}\}/;

/**
 * Keys with a value that only a *rendered* alert has (`"startsAt": "2021-…"`). A body with them is a real callback
 * that failed to parse (truncated, say), even when an annotation in it mentions `$content`: it must get its 400,
 * not be taken for the test and dropped.
 */
const RENDERED_ALERT_FIELD = /"(?:startsAt|endsAt|fingerprint|generatorURL)"\s*:\s*"/;

/** Whether the text has the keys of ARMS's preset human-readable template (rendered or not). */
function hasPresetTemplateKeys(text: string): boolean {
  return PRESET_TEMPLATE_KEY.test(text);
}

/**
 * Judges a body that is *not* a valid callback (the caller checks that first, so a real alert that happens to
 * mention `$content` in an annotation is still forwarded). A body holding rendered alert fields is never the test.
 *
 * @returns a sentence saying why the body is the console test, or undefined when it is not one.
 * @example detectTestButton('$alertmanager_content') // 'body contains the unrendered ARMS variable …'
 */
function detectTestButton(text: string): string | undefined {
  if (RENDERED_ALERT_FIELD.test(text)) return undefined;
  const variable = TEMPLATE_VARIABLES.find((name) => text.includes(name));
  if (variable !== undefined) {
    return `body contains the unrendered ARMS variable ${variable}: this is the ARMS console's webhook test, which does not substitute it; nothing was forwarded`;
  }
  if (hasPresetTemplateKeys(text) && TEMPLATE_ACTION.test(text)) {
    return "body is ARMS's preset webhook template with unrendered {{ … }} placeholders: this is the ARMS console's webhook test; nothing was forwarded";
  }
  return undefined;
}

export { detectTestButton, hasPresetTemplateKeys };
