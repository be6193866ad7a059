import { describe, expect, it } from 'vitest';
import {
  BridgeError,
  ConfigError,
  ErrorCode,
  MethodNotAllowedError,
  PayloadInvalidError,
  StoreError,
  UnauthorizedError,
} from '../../../shared/errors';
import { errorResponse } from '../../../shared/fc/errorEdge';

describe('Function: errorResponse', () => {
  it.each([
    [
      new PayloadInvalidError('alerts must be an array', 422, ErrorCode.INVALID_CALLBACK),
      422,
      'invalid_callback',
      'alerts must be an array',
    ],
    [new UnauthorizedError(), 401, 'unauthorized', 'missing or invalid webhook token'],
    [
      new MethodNotAllowedError('GET'),
      405,
      'method_not_allowed',
      'method GET is not allowed: ARMS and Alertmanager POST their callbacks',
    ],
  ])('shows the message of a client error (%s)', (error, status, code, message) => {
    // Act
    const response = errorResponse(error);

    // Assess
    expect(response.statusCode).toBe(status);
    expect(JSON.parse(response.body)).toEqual({ error: { code, message } });
    expect(response.isBase64Encoded).toBe(false);
    expect(response.headers['content-type']).toContain('application/json');
  });

  it.each([
    [new Error('ECONNREFUSED 10.0.0.7:443 at Socket.connect (/code/index.js:1:2)'), 500, 'internal_error'],
    [new TypeError("Cannot read properties of undefined (reading 'labels')"), 500, 'internal_error'],
    [new StoreError('OTSServerBusy on instance prod-ots'), 503, 'delivery_unavailable'],
    [new ConfigError(['PAGERDUTY_ROUTING_KEY is secret-ish detail']), 503, 'config_invalid'],
    [new BridgeError('internal detail', 502, ErrorCode.DELIVERY_UNAVAILABLE), 502, 'delivery_unavailable'],
    ['a thrown string', 500, 'internal_error'],
  ])('never shows internal text in a server error (%s)', (error, status, code) => {
    // Act
    const response = errorResponse(error);
    const body = JSON.parse(response.body);

    // Assess
    expect(response.statusCode).toBe(status);
    expect(body.error.code).toBe(code);
    expect(response.body).not.toMatch(
      /ECONNREFUSED|Cannot read|OTSServerBusy|prod-ots|secret-ish|internal detail|thrown string|index\.js/,
    );
    expect(body.error.message.length).toBeGreaterThan(0);
  });

  it('adds Allow to a 405 and Retry-After to a 503', () => {
    expect(errorResponse(new MethodNotAllowedError('PUT')).headers.allow).toBe('POST');
    expect(errorResponse(new ConfigError(['x'])).headers['retry-after']).toBe('60');
  });

  it('includes the details of a client error', () => {
    // Prepare
    const rejected = [{ index: 0, reason: 'labels must be an object' }];

    // Act
    const body = JSON.parse(
      errorResponse(
        new PayloadInvalidError('no valid alert', 422, ErrorCode.NO_VALID_ALERTS, { details: { rejected } }),
      ).body,
    );

    // Assess
    expect(body.error.details).toEqual({ rejected });
  });
});
