/**
 * URL checks, each string parsed once per callback, and the answers kept across callbacks. Normalization and both event
 * builders ask the same questions of the same strings (is the group's `externalURL` an http(s) URL, what is its host),
 * once per alert and again per event: with `new URL` each time, the ARMS console link of a 1,000-alert callback was
 * parsed 4,000 times. A sender's console link and rule links repeat in every callback, so a warm instance parses them
 * once (a 1-alert callback asked `new URL` about five strings).
 */

/** What the bridge reads of a URL. */
interface UrlParts {
  protocol: string;
  host: string;
}

/** Answers kept across callbacks, at most this many (then the cache starts over, as the placeholder templates' does). */
const MAX_SHARED_ANSWERS = 512;

/** Longer strings are parsed per callback only: a URL this long is rarely a repeat, and would keep a lot alive. */
const MAX_SHARED_LENGTH = 2048;

/** The instance's answers, by string (`null`: `new URL` throws). Frozen: every callback reads the same objects. */
const sharedAnswers = new Map<string, Readonly<UrlParts> | null>();

function answerOf(value: string): Readonly<UrlParts> | null {
  let parts = sharedAnswers.get(value);
  if (parts !== undefined) return parts;
  try {
    const url = new URL(value);
    parts = Object.freeze({ protocol: url.protocol, host: url.host });
  } catch {
    parts = null;
  }
  if (value.length <= MAX_SHARED_LENGTH) {
    if (sharedAnswers.size >= MAX_SHARED_ANSWERS) sharedAnswers.clear();
    sharedAnswers.set(value, parts);
  }
  return parts;
}

/** Answers from one `new URL` per distinct string. */
class UrlParser {
  readonly #parsed = new Map<string, UrlParts | null>();

  /** The protocol and host of `value`, or undefined when `new URL(value)` throws. */
  public parse(value: string): UrlParts | undefined {
    let parts = this.#parsed.get(value);
    if (parts === undefined) {
      parts = answerOf(value);
      this.#parsed.set(value, parts);
    }
    return parts ?? undefined;
  }

  /** The parts of `value` when it is a URL with one of `protocols` (`'https:'` …), else undefined. */
  public withProtocol(value: string | undefined, protocols: readonly string[]): UrlParts | undefined {
    if (!value) return undefined;
    const parts = this.parse(value);
    return parts !== undefined && protocols.includes(parts.protocol) ? parts : undefined;
  }
}

/** One parser per callback (its `AlertGroup`), shared by normalization and the builders, collected with it. */
const parsers = new WeakMap<object, UrlParser>();

/**
 * The parser of a callback: the one normalization used (`adoptUrlParser`), else a new one kept for the next question.
 *
 * @example urlParserOf(group).withProtocol(group.externalURL, ['http:', 'https:'])?.host
 */
function urlParserOf(callback: object): UrlParser {
  let parser = parsers.get(callback);
  if (parser === undefined) {
    parser = new UrlParser();
    parsers.set(callback, parser);
  }
  return parser;
}

/** Hands the parser normalization used to the callback it made, for the builders. */
function adoptUrlParser(callback: object, parser: UrlParser): void {
  parsers.set(callback, parser);
}

export { adoptUrlParser, UrlParser, type UrlParts, urlParserOf };
