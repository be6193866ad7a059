/**
 * The last check before an event is stored or sent: it must pass the bridge's own Events v2 schema
 * (`eventSchema.ts`). The builders guarantee it, so a failure is a bug in the bridge, never bad client input; it is
 * raised loudly (with the alert identity) instead of letting PagerDuty answer 400 and the page vanish.
 */
import { BridgeError, ErrorCode } from '../errors';
import { validatePagerDutyEvent } from '../validation/generated/validators';
import { describeSchemaErrors } from './schemaErrors';
import type { PagerDutyEventBody } from './types';

/**
 * Returns the schema violations of `event` (empty when valid). `event` may include `routing_key` (send time) or not
 * (stored body).
 */
function eventProblems(event: unknown): string[] {
  return validatePagerDutyEvent(event) ? [] : describeSchemaErrors(validatePagerDutyEvent.errors);
}

/**
 * Throws when `event` fails the bridge's Events v2 schema.
 *
 * @param context - the alert identity (or group key) to name in the error, so the failing alert can be found
 * @throws BridgeError (500, `internal_error`) naming each failing field; `details.problems` lists them.
 *
 * @example
 * const { event } = buildEvent(alert, group, options);
 * assertValidEvent(event, alert.identity);
 */
function assertValidEvent(event: unknown, context?: string): asserts event is PagerDutyEventBody {
  const problems = eventProblems(event);
  if (problems.length === 0) return;
  const subject = context === undefined ? 'a PagerDuty event' : `the PagerDuty event of ${context}`;
  throw new BridgeError(`bug: ${subject} fails the Events v2 schema: ${problems.join('; ')}`, 500, ErrorCode.INTERNAL, {
    details: { problems, context },
  });
}

export { assertValidEvent, eventProblems };
