/**
 * A value that must never print: routing keys, webhook tokens, cloud credentials, heartbeat URLs (they embed a token).
 *
 * `toString()`, `toJSON()` and `util.inspect` all render `'<secret>'`, so a `Secret` that reaches a log line, an error
 * message, a response or a stored row by accident shows nothing. Read the value only where it leaves the process
 * (an HTTP header, a request body, an SDK constructor) with `reveal()`.
 *
 * @example
 * const key = new Secret(process.env.PAGERDUTY_ROUTING_KEY ?? '');
 * console.log(`routing with ${key}`); // routing with <secret>
 * fetch(url, { body: JSON.stringify({ routing_key: key.reveal() }) });
 */
const REDACTED = '<secret>';

class Secret {
  readonly #value: string;

  public constructor(value: string) {
    this.#value = value;
  }

  /** The real value. Call it only at the point where the secret leaves the process. */
  public reveal(): string {
    return this.#value;
  }

  /**
   * The value with all but its last 4 characters hidden, for the start-up banner only, so an operator can tell which
   * key is configured (PagerDuty's own UI shows integration keys the same way). Values under 12 characters show nothing.
   */
  public masked(): string {
    return this.#value.length < 12 ? REDACTED : `****${this.#value.slice(-4)}`;
  }

  public toString(): string {
    return REDACTED;
  }

  public toJSON(): string {
    return REDACTED;
  }

  public [Symbol.for('nodejs.util.inspect.custom')](): string {
    return REDACTED;
  }
}

export { REDACTED, Secret };
