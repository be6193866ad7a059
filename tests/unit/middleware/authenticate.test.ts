import { describe, expect, it } from 'vitest';
import { Secret } from '../../../shared/config/Secret';
import { parseHttpEvent, toHttpRequest } from '../../../shared/fc/httpEvent';
import { isAuthorized, presentedTokens } from '../../../shared/middleware/authenticate';
import { httpEvent } from '../../support/fcEvents';

const accepted = [new Secret('current-token-123'), new Secret('previous-token-456')];

function request(headers: Record<string, string> = {}, query: Record<string, string> = {}) {
  return toHttpRequest(parseHttpEvent(httpEvent({ headers, query })));
}

describe('Function: presentedTokens', () => {
  it('collects the header, the bearer token and the query token', () => {
    // Act
    const tokens = presentedTokens(request({ 'X-Webhook-Token': ' a ', Authorization: 'Bearer b' }, { token: 'c' }));

    // Assess
    expect(tokens).toEqual(['a', 'b', 'c']);
  });

  it.each(['Basic dXNlcjpwYXNz', 'Bearer', 'Bearer a b', 'token abc'])('ignores the authorization %j', (value) => {
    expect(presentedTokens(request({ Authorization: value }))).toEqual([]);
  });
});

describe('Function: isAuthorized', () => {
  it.each([
    [['current-token-123'], true],
    [['previous-token-456'], true],
    [['wrong', 'previous-token-456'], true],
    [['current-token-12'], false],
    [['current-token-1234'], false],
    [['CURRENT-TOKEN-123'], false],
    [[], false],
  ])('presented %j → %s', (presented, expected) => {
    expect(isAuthorized(presented, accepted)).toBe(expected);
  });
});
