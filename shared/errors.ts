/**
 * The bridge's one error family. Every error a handler can raise is a `BridgeError` carrying the HTTP status and the
 * machine-readable `code` the error edge (`shared/fc/errorEdge.ts`) renders as `{"error":{"code","message"}}`.
 * Messages of errors below 500 are shown to the caller and must name what is wrong; messages of 5xx errors are logged
 * only, and the caller sees a fixed text (never internal detail).
 */

/** Every `error.code` the webhook can answer with. docs/delivery.md § "Responses of the webhook" lists them. */
const ErrorCode = {
  // 4xx: the caller can fix these
  MALFORMED_JSON: 'malformed_json',
  EMPTY_BODY: 'empty_body',
  INVALID_CALLBACK: 'invalid_callback',
  NO_VALID_ALERTS: 'no_valid_alerts',
  PAYLOAD_TOO_LARGE: 'payload_too_large',
  TOO_MANY_ALERTS: 'too_many_alerts',
  JSON_TOO_DEEP: 'json_too_deep',
  UNSUPPORTED_CHARSET: 'unsupported_charset',
  INVALID_ENCODING: 'invalid_encoding',
  UNAUTHORIZED: 'unauthorized',
  METHOD_NOT_ALLOWED: 'method_not_allowed',
  // 5xx: the operator must fix these, or they pass
  CONFIG_INVALID: 'config_invalid',
  CONFIG_NO_TOKENS: 'config_no_webhook_tokens',
  CONFIG_NO_ROUTING_KEY: 'config_no_routing_key',
  DELIVERY_UNAVAILABLE: 'delivery_unavailable',
  INTERNAL: 'internal_error',
} as const;
type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Base class: an HTTP status, a stable code, and whether the message may be shown to the caller. */
class BridgeError extends Error {
  public readonly statusCode: number;
  public readonly code: ErrorCode;
  /** Extra structured data for the log line (never secrets). Shown to the caller only below 500. */
  public readonly details?: unknown;

  public constructor(
    message: string,
    statusCode: number = 500,
    code: ErrorCode = ErrorCode.INTERNAL,
    options?: ErrorOptions & { details?: unknown },
  ) {
    super(message, options);
    this.name = 'BridgeError';
    this.statusCode = statusCode;
    this.code = code;
    this.details = options?.details;
  }

  /** Whether the caller may read `message` (Middy's `expose` rule: only client errors). */
  public get expose(): boolean {
    return this.statusCode < 500;
  }
}

/** The callback cannot be used as a whole: bad JSON, wrong shape, over a limit, or no valid alert in it. */
class PayloadInvalidError extends BridgeError {
  public constructor(
    message: string,
    statusCode: 400 | 413 | 415 | 422,
    code: ErrorCode,
    options?: ErrorOptions & { details?: unknown },
  ) {
    super(message, statusCode, code, options);
    this.name = 'PayloadInvalidError';
  }
}

/** No token, or none of the configured ones. The message never says which part failed. */
class UnauthorizedError extends BridgeError {
  public constructor(options?: ErrorOptions) {
    super('missing or invalid webhook token', 401, ErrorCode.UNAUTHORIZED, options);
    this.name = 'UnauthorizedError';
  }
}

/** A method other than POST on the webhook. */
class MethodNotAllowedError extends BridgeError {
  public constructor(method: string) {
    super(
      `method ${method} is not allowed: ARMS and Alertmanager POST their callbacks`,
      405,
      ErrorCode.METHOD_NOT_ALLOWED,
    );
    this.name = 'MethodNotAllowedError';
  }
}

/**
 * The configuration is invalid or incomplete. Deployed functions answer every request with 503 and this code
 * instead of failing at init (FC may answer an init failure with HTTP 200, and the alert would be lost).
 */
class ConfigError extends BridgeError {
  /** One line per problem, each naming the variable. */
  public readonly problems: readonly string[];

  public constructor(problems: readonly string[], code: ErrorCode = ErrorCode.CONFIG_INVALID, options?: ErrorOptions) {
    super(`invalid configuration: ${problems.join('; ')}`, 503, code, options);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** The delivery store failed (unreachable, timed out, or answered an error other than a condition failure). */
class StoreError extends BridgeError {
  /** Whether the write may have landed although it answered an error (resolved by the lease owner). */
  public readonly ambiguous: boolean;

  public constructor(message: string, options?: ErrorOptions & { ambiguous?: boolean }) {
    super(message, 503, ErrorCode.DELIVERY_UNAVAILABLE, options);
    this.name = 'StoreError';
    this.ambiguous = options?.ambiguous ?? false;
  }
}

/** Failure reasons of a PagerDuty delivery, shaped like Alertmanager's `reason` label. */
const DeliveryFailureReason = {
  AUTH: 'auth',
  RATE_LIMITED: 'rate-limited',
  CLIENT: 'client',
  SERVER: 'server',
  NETWORK: 'network',
  STORE: 'store',
} as const;
type DeliveryFailureReason = (typeof DeliveryFailureReason)[keyof typeof DeliveryFailureReason];

export {
  BridgeError,
  ConfigError,
  DeliveryFailureReason,
  ErrorCode,
  MethodNotAllowedError,
  PayloadInvalidError,
  StoreError,
  UnauthorizedError,
};
