/**
 * The last check before an event is sent: it must pass the bridge's own Events v2 schema (`eventSchema.ts`). The
 * builders guarantee it, so a failure is a bug in the bridge or its configuration, never bad client input; the client
 * refuses such an event with the problems named instead of letting PagerDuty answer 400 and the page vanish.
 */
import { validatePagerDutyEvent } from '../validation/generated/validators';
import { describeSchemaErrors } from './schemaErrors';

/**
 * Returns the schema violations of `event` (empty when valid). `event` may include `routing_key` (send time) or not
 * (stored body).
 *
 * @example
 * eventProblems({ ...event, payload: { ...event.payload, severity: 'page' } });
 * // ['payload.severity must be one of critical, error, warning, info']
 */
function eventProblems(event: unknown): string[] {
  return validatePagerDutyEvent(event) ? [] : describeSchemaErrors(validatePagerDutyEvent.errors);
}

export { eventProblems };
