/**
 * The bridge's one structured logger: one JSON object per line, which FC's log service indexes as is.
 *
 * Secrets cannot reach a line: `Secret` values render as `<secret>`, and every configured secret's real value is also
 * scrubbed from the whole finished line, its `data` included, so a key quoted back inside a third-party error message
 * is hidden too, and so is one a callback carries (an ARMS contact field or annotation holding the integration key, as
 * the retired DingTalk-field setup did): the bridge never decides that a text cannot hold one.
 */
import type { LogLevel } from './config/config';
import type { Secret } from './config/Secret';
import { scrubForms, secretForms } from './config/scrubSecrets';
import { ROTATED_CREDENTIAL_SETS_KEPT } from './constants';

const LEVEL_ORDER: Record<LogLevel, number> = { DEBUG: 10, INFO: 20, WARN: 30, ERROR: 40 };

type LogSink = (line: string) => void;

/** Fields the bridge built from a callback (its events, delivery keys): written after the line's other fields. */
type LogData = Record<string, unknown>;

interface LoggerOptions {
  /** Name of the function, on every line. */
  service: string;
  /** @default 'INFO' */
  level?: LogLevel;
  /** Where lines go. @default process.stdout */
  sink?: LogSink;
}

/** Renders an error as plain data: name, message, code and cause chain; the stack only for server-side errors. */
function serializeError(error: unknown, depth = 0): Record<string, unknown> {
  if (!(error instanceof Error)) return { message: String(error) };
  const data: Record<string, unknown> = { name: error.name, message: error.message };
  const { code, statusCode } = error as Error & { code?: unknown; statusCode?: unknown };
  if (code !== undefined) data.code = code;
  if (statusCode !== undefined) data.statusCode = statusCode;
  if (typeof statusCode !== 'number' || statusCode >= 500) data.stack = error.stack;
  if (error.cause !== undefined && depth < 3) data.cause = serializeError(error.cause, depth + 1);
  return data;
}

class Logger {
  readonly #service: string;
  readonly #sink: LogSink;
  #level: number;
  /** The configured secret values: scrubbed for the instance's life. */
  readonly #secrets = new Set<string>();
  /** The FC context's credential sets, newest last: the last `ROTATED_CREDENTIAL_SETS_KEPT` are scrubbed. */
  readonly #rotating: string[][] = [];
  /** The scrubbed forms of both (`#refreshForms`). */
  #forms: string[] = [];
  #keys: Record<string, unknown> = {};

  public constructor(options: LoggerOptions) {
    this.#service = options.service;
    this.#level = LEVEL_ORDER[options.level ?? 'INFO'];
    this.#sink = options.sink ?? ((line) => process.stdout.write(`${line}\n`));
  }

  public setLevel(level: LogLevel): void {
    this.#level = LEVEL_ORDER[level];
  }

  /** Registers values to scrub from every line (the configured secrets; short values would scrub innocent text). */
  public addSecrets(secrets: readonly Secret[]): void {
    const before = this.#secrets.size;
    for (const secret of secrets) this.#secrets.add(secret.reveal());
    if (this.#secrets.size > before) this.#refreshForms();
  }

  /**
   * Registers the invocation's credential set (FC's STS set, which rotates): scrubbed from every line with the
   * previous ones, up to `ROTATED_CREDENTIAL_SETS_KEPT` sets, so a long-lived instance's lines do not scan for every
   * set it was ever handed (nothing still uses a set that old).
   */
  public useRotatingSecrets(secrets: readonly Secret[]): void {
    const values = secrets.map((secret) => secret.reveal());
    const latest = this.#rotating.at(-1);
    if (latest !== undefined && latest.length === values.length && latest.every((value, i) => value === values[i])) {
      return;
    }
    this.#rotating.push(values);
    if (this.#rotating.length > ROTATED_CREDENTIAL_SETS_KEPT) this.#rotating.shift();
    this.#refreshForms();
  }

  /** The scrubbed forms, computed when the values change, not per line. */
  #refreshForms(): void {
    this.#forms = secretForms([...this.#secrets, ...this.#rotating.flat()]);
  }

  /** Keys added to every line until `resetKeys()` (per-invocation keys such as the request id). */
  public appendKeys(keys: Record<string, unknown>): void {
    Object.assign(this.#keys, keys);
  }

  public resetKeys(): void {
    this.#keys = {};
  }

  public debug(message: string, extra?: Record<string, unknown>, data?: LogData): void {
    this.#write('DEBUG', message, extra, data);
  }

  public info(message: string, extra?: Record<string, unknown>, data?: LogData): void {
    this.#write('INFO', message, extra, data);
  }

  public warn(message: string, extra?: Record<string, unknown>, data?: LogData): void {
    this.#write('WARN', message, extra, data);
  }

  public error(message: string, extra?: Record<string, unknown>, data?: LogData): void {
    this.#write('ERROR', message, extra, data);
  }

  #write(level: LogLevel, message: string, extra?: Record<string, unknown>, data?: LogData): void {
    if (LEVEL_ORDER[level] < this.#level) return;
    const time = new Date().toISOString();
    const entry: Record<string, unknown> = { level, time, service: this.#service, message };
    for (const key in this.#keys) entry[key] = this.#keys[key];
    for (const key in extra) {
      const value = extra[key];
      entry[key] = value instanceof Error ? serializeError(value) : value;
    }
    let line: string;
    try {
      for (const key in data) entry[key] = data[key];
      line = scrubForms(JSON.stringify(entry), this.#forms);
    } catch {
      const note = { level, time, service: this.#service, message, note: 'unserializable extra' };
      line = scrubForms(JSON.stringify(note), this.#forms);
    }
    this.#sink(line);
  }
}

export type { LogData, LoggerOptions, LogSink };
export { Logger, serializeError };
