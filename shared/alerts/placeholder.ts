/**
 * Renders the unrendered Go/ARMS template placeholders ARMS leaves in annotation text
 * (`命名空间: {{$labels.namespace}} … 当前值{{ printf "%.2f" $value }}%`, the documented sample,
 * `reference/arms-and-fc.md` §1.2) from the alert's own labels and value, so the page reads like the rule intended.
 *
 * Only the few action forms rule templates use are understood; an action that cannot be rendered (a missing label, an
 * unknown value, another function, a control structure) is removed, as issue 3 asks: a page reading
 * `Pod: {{$labels.pod_name}}` is noise to the person woken by it, and the raw annotation stays in `custom_details`.
 * Text longer than any real action between braces is not an action and is kept. Never throws: a rendering problem
 * leaves the text unchanged.
 */

/** Longest action (between `{{` and `}}`) considered: real placeholders are short; this bounds the work per action. */
const MAX_ACTION_LENGTH = 256;

/** Annotations that carry the alert's current value, in order of preference (Prometheus `value`, then ARMS's). */
const VALUE_ANNOTATIONS = ['value', '_aliyun_arms_alert_now_value', '_aliyun_arms_alert_value'] as const;

/** What placeholders are rendered from. */
interface PlaceholderContext {
  labels: Readonly<Record<string, string>>;
  /** The alert's value for `$value` / `.Value`, if known (see `alertValue`). */
  value?: string;
}

const LABELS_VAR = String.raw`(?:\$labels|\.Labels|\.labels)`;
const BACKQUOTE = '`';
/** A Go string literal: interpreted `"…"` (group 1) or raw `` `…` `` (group 2). */
const GO_STRING = String.raw`(?:"((?:[^"\\]|\\.)*)"|${BACKQUOTE}([^${BACKQUOTE}]*)${BACKQUOTE})`;
const LABEL_FIELD = new RegExp(String.raw`^${LABELS_VAR}\.([A-Za-z_][A-Za-z0-9_]*)$`);
const LABEL_INDEX = new RegExp(String.raw`^index\s+${LABELS_VAR}\s+${GO_STRING}$`);
const VALUE_REF = /^(?:\$value|\.Value|\.value)$/;
const PRINTF_CALL = new RegExp(String.raw`^printf\s+${GO_STRING}\s+(\S+)$`);
const PRINTF_PIPE = new RegExp(String.raw`^(\S+)\s*\|\s*printf\s+${GO_STRING}$`);
/** One printf verb: `%%`, or `%[.precision]verb`. */
const PRINTF_VERB = /%(?:%|(?:\.(\d{1,2}))?([a-zA-Z]))/g;

/**
 * The alert's current value from its annotations: `value`, else ARMS's `_aliyun_arms_alert_now_value`, else
 * `_aliyun_arms_alert_value`.
 */
function alertValue(annotations: Readonly<Record<string, string>> | undefined): string | undefined {
  if (annotations === undefined) return undefined;
  for (const name of VALUE_ANNOTATIONS) {
    const value = Object.hasOwn(annotations, name) ? annotations[name] : undefined;
    if (typeof value === 'string' && value.trim() !== '') return value;
  }
  return undefined;
}

/** A Go string literal's content: raw (backquoted) as is; interpreted via JSON's escapes (the common subset). */
function goStringContent(interpreted: string | undefined, raw: string | undefined): string | undefined {
  if (raw !== undefined) return raw;
  if (interpreted === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(`"${interpreted}"`);
    return typeof parsed === 'string' ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** What an operand refers to: a label by name, the alert's value, or nothing the bridge knows. */
type OperandRef = { label: string } | 'value' | undefined;

/** `$labels.x`, `.Labels.x`, `index $labels "x"` → the label `x`; `$value`, `.Value` → the value; else undefined. */
function operandRef(operand: string): OperandRef {
  let name: string | undefined;
  const field = LABEL_FIELD.exec(operand);
  if (field !== null) name = field[1];
  const index = field === null ? LABEL_INDEX.exec(operand) : null;
  if (index !== null) name = goStringContent(index[1], index[2]);
  if (name !== undefined) return { label: name };
  return VALUE_REF.test(operand) ? 'value' : undefined;
}

/** The value an operand refers to, if known. */
function operandValue(ref: OperandRef, context: PlaceholderContext): string | undefined {
  if (ref === undefined) return undefined;
  if (ref === 'value') return context.value;
  return Object.hasOwn(context.labels, ref.label) ? context.labels[ref.label] : undefined;
}

/**
 * Go's `fmt.Sprintf` for one operand, for the verbs rule templates use: `%s`, `%v`, `%f`, `%.Nf`, `%g` (no precision),
 * `%%`. Anything else, or a number verb on a non-number, gives undefined (the placeholder is left as is).
 */
function sprintf(format: string, operand: string): string | undefined {
  let verbs = 0;
  let failed = false;
  const result = format.replace(PRINTF_VERB, (whole, precision: string | undefined, verb: string) => {
    if (whole === '%%') return '%';
    verbs += 1;
    const number = Number(operand);
    const numeric = operand.trim() !== '' && Number.isFinite(number);
    if ((verb === 's' || verb === 'v') && precision === undefined) return operand;
    if (verb === 'f' && numeric) return number.toFixed(precision === undefined ? 6 : Number(precision));
    // %g without precision is the shortest representation; JavaScript's matches Go's between 1e-4 and 1e21.
    if (
      verb === 'g' &&
      numeric &&
      precision === undefined &&
      (number === 0 || (Math.abs(number) >= 1e-4 && Math.abs(number) < 1e21))
    ) {
      return String(number);
    }
    failed = true;
    return whole;
  });
  return failed || verbs !== 1 ? undefined : result;
}

/** One action, read once (see `compile`): a `printf` of an operand, or an operand alone. */
type Action =
  | { printf: true; format: string | undefined; operand: OperandRef }
  | { printf: false; operand: OperandRef };

/** Reads one action (the text between `{{` and `}}`, trim markers removed). */
function compileAction(action: string): Action {
  const call = PRINTF_CALL.exec(action);
  if (call !== null)
    return { printf: true, format: goStringContent(call[1], call[2]), operand: operandRef(call[3] ?? '') };
  const pipe = PRINTF_PIPE.exec(action);
  if (pipe !== null)
    return { printf: true, format: goStringContent(pipe[2], pipe[3]), operand: operandRef(pipe[1] ?? '') };
  return { printf: false, operand: operandRef(action) };
}

/** Renders one action, or undefined when it cannot. */
function renderAction(action: Action, context: PlaceholderContext): string | undefined {
  const operand = operandValue(action.operand, context);
  if (!action.printf) return operand;
  return action.format === undefined || operand === undefined ? undefined : sprintf(action.format, operand);
}

/** A text read once: its literal pieces, each followed by an action (the last piece by none). */
interface Template {
  pieces: string[];
  actions: Action[];
}

/**
 * Reads `text` into its literal pieces and actions. What the pieces are depends on the text alone (where the actions
 * are, the trim markers, what is too long to be an action), so it is read once and rendered per alert.
 */
function compile(text: string): Template {
  const pieces: string[] = [];
  const actions: Action[] = [];
  let piece = '';
  let position = 0;
  for (;;) {
    const open = text.indexOf('{{', position);
    if (open < 0) break;
    const close = text.indexOf('}}', open + 2);
    // No closing braces further on: no later action can be complete either.
    if (close < 0) break;
    let inner = text.slice(open + 2, close);
    const trimBefore = /^-[ \t\r\n]/.test(inner);
    const trimAfter = /[ \t\r\n]-$/.test(inner);
    if (trimBefore) inner = inner.slice(1);
    if (trimAfter) inner = inner.slice(0, -1);
    if (inner.length > MAX_ACTION_LENGTH) {
      piece += text.slice(position, close + 2);
      position = close + 2;
      continue;
    }
    const before = text.slice(position, open);
    pieces.push(piece + (trimBefore ? before.replace(/[ \t\r\n]+$/, '') : before));
    actions.push(compileAction(inner.trim()));
    piece = '';
    position = close + 2;
    if (trimAfter) {
      while (position < text.length && ' \t\r\n'.includes(text.charAt(position))) position += 1;
    }
  }
  pieces.push(piece + text.slice(position));
  return { pieces, actions };
}

/** Templates read already, by text: the alerts of one rule share their annotation texts. */
const templates = new Map<string, Template>();
/** Texts kept at most, and the longest kept (a longer one is read each time): a few MB at worst. */
const MAX_TEMPLATES = 512;
const MAX_TEMPLATE_LENGTH = 4_096;

function templateOf(text: string): Template {
  let template = templates.get(text);
  if (template === undefined) {
    template = compile(text);
    if (text.length <= MAX_TEMPLATE_LENGTH) {
      if (templates.size >= MAX_TEMPLATES) templates.clear();
      templates.set(text, template);
    }
  }
  return template;
}

/**
 * Renders the placeholders of `text` from the alert's labels and value.
 *
 * Understood: `{{$labels.x}}`, `{{ $labels.x }}`, `{{ .Labels.x }}`, `{{ .labels.x }}`, `{{ index $labels "x" }}`,
 * `{{ $value }}`, `{{ .Value }}`, `{{ printf "%.2f" $value }}`, `{{ $value | printf "%.2f" }}` (and `printf` on a
 * label), with Go's trim markers `{{- … -}}` honoured. Any other action is removed.
 *
 * @example renderPlaceholders('Pod {{ $labels.pod }} at {{ printf "%.2f" $value }}%', { labels: { pod: 'web-1' }, value: '91.234' })
 *   // 'Pod web-1 at 91.23%'
 */
function renderPlaceholders(text: string, context: PlaceholderContext): string {
  if (!text.includes('{{')) return text;
  try {
    const { pieces, actions } = templateOf(text);
    let output = pieces[0] as string;
    // Unrenderable actions are removed (rendered as empty text).
    for (let i = 0; i < actions.length; i++)
      output += (renderAction(actions[i] as Action, context) ?? '') + pieces[i + 1];
    return output;
  } catch {
    return text;
  }
}

export { alertValue, type PlaceholderContext, renderPlaceholders };
