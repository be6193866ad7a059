/**
 * "Was this alert paged, and if not, why?" for one stored delivery: a pure function of the record, the clock and (when
 * the store keeps one) its route's circuit. `npm run trace` prints it. The table is the spec; each row is tested.
 *
 * | Status | Condition | `reason` | Says |
 * |---|---|---|---|
 * | `DELIVERED` | | `delivered` | sent, when, after how many attempts; repeats of the occurrence are duplicates (answered, not sent again) |
 * | `DRY_RUN` | | `dry-run` | stored and logged, never sent, and never sent later |
 * | `SUPERSEDED` | | `superseded` | the ordering rule that stopped it (`lastError`), and whether an attempt may have landed |
 * | `DEAD` | `auth` (incl. no routing key) | `dead` | PagerDuty refused the key, or the route has none; fix, then `npm run redrive` |
 * | `DEAD` | `client` | `dead` | PagerDuty rejected the event, in its own words; fix, then `npm run redrive` |
 * | `DEAD` | anything else | `dead` | gave up after its attempts (`MAX_ATTEMPTS` / `MAX_DELIVERY_AGE_SECONDS`) |
 * | `PENDING`, `RETRY` | the route's circuit is open | `circuit-open` | paused on the route's key until when, and why |
 * | `PENDING` | a resolve, never attempted, not due, no failure | `waiting-for-trigger` | held while its trigger is being sent |
 * | `PENDING`, `RETRY` | not due yet | `retrying` | the next attempt, and the last failure |
 * | `PENDING`, `RETRY` | due | `due` | the next delivery-health run sends it |
 * | `SENDING` | lease running | `sending` | being sent now |
 * | `SENDING` | lease over | `lease-expired` | the sender stopped mid-send; the relay takes it over |
 */
import { DeliveryStatus, EventAction } from '../../shared/constants';
import { DeliveryFailureReason } from '../../shared/errors';
import type { DeliveryRecord } from '../../shared/store/DeliveryRecord';
import type { CircuitState } from './circuitState';
import { reasonOf } from './redriveDead';

type ExplanationReason =
  | 'delivered'
  | 'dry-run'
  | 'superseded'
  | 'dead'
  | 'circuit-open'
  | 'waiting-for-trigger'
  | 'retrying'
  | 'due'
  | 'sending'
  | 'lease-expired';

/** PagerDuty's last answer to this delivery, as `lastError` recorded it. */
interface PagerDutyAnswer {
  /** HTTP status; absent when PagerDuty did not answer (network error, timeout). */
  status?: number;
  /** PagerDuty's own words (its `message` and `errors[]`) when it gave some, else the bridge's description. */
  message: string;
}

interface DeliveryExplanation {
  reason: ExplanationReason;
  /** True when PagerDuty accepted it (the page happened). */
  sent: boolean;
  /** One sentence for the operator. */
  why: string;
  pagerDuty?: PagerDutyAnswer;
  /** Epoch ms of the next attempt, for deliveries still waiting. */
  nextAttemptAt?: number;
}

const ISO = (ms: number) => new Date(ms).toISOString();
const HOW_TO_REDRIVE = 'fix the cause, then npm run redrive re-queues it';

/**
 * The PagerDuty part of a `lastError` (`<reason>: <message>`, `sendRecord.ts`; messages from `classifyResponse.ts`),
 * or undefined when the error is not PagerDuty's (an ordering reason, no routing key).
 *
 * @example
 * pagerDutyAnswerOf("client: PagerDuty rejected the event (400 Bad Request), not retried: Event object is invalid");
 * // { status: 400, message: 'Event object is invalid' }
 */
function pagerDutyAnswerOf(lastError: string | undefined): PagerDutyAnswer | undefined {
  if (lastError === undefined) return undefined;
  const reasons: readonly string[] = Object.values(DeliveryFailureReason);
  const colon = lastError.indexOf(': ');
  if (colon < 0 || !reasons.includes(lastError.slice(0, colon))) return undefined;
  const text = lastError.slice(colon + 2);
  const status = /^PagerDuty (?:answered |rejected the event \()(\d{3})/.exec(text)?.[1];
  // PagerDuty's own words follow the bridge's status line: `… answered 400 Bad Request: <words>`.
  const words = /^PagerDuty (?:answered \d{3}(?: [A-Za-z ]+)?|rejected the event \([^)]*\), not retried): (.+)$/s.exec(
    text,
  );
  const answer: PagerDutyAnswer = { message: words?.[1] ?? text };
  if (status !== undefined) answer.status = Number(status);
  return answer;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function dead(record: DeliveryRecord): string {
  const reason = reasonOf(record);
  if (record.lastError?.startsWith('no routing key')) return `dead: ${record.lastError}; ${HOW_TO_REDRIVE}`;
  if (reason === DeliveryFailureReason.AUTH) {
    return `dead: PagerDuty refused the routing key or the events URL (${record.lastError}); ${HOW_TO_REDRIVE}`;
  }
  if (reason === DeliveryFailureReason.CLIENT) {
    return `dead: PagerDuty rejected the event, not retried; ${HOW_TO_REDRIVE}`;
  }
  return `dead: gave up after ${plural(record.attempts, 'attempt')} (MAX_ATTEMPTS or MAX_DELIVERY_AGE_SECONDS); ${HOW_TO_REDRIVE}`;
}

/**
 * @param options.now the clock (epoch ms)
 * @param options.circuit the record's route's circuit, when the store keeps one (`circuitState.ts`)
 * @example
 * explainDelivery(record, { now: Date.now() }).why; // 'superseded: resolved before its trigger was delivered …'
 */
function explainDelivery(
  record: DeliveryRecord,
  options: { now: number; circuit?: CircuitState },
): DeliveryExplanation {
  const { now, circuit } = options;
  const pagerDuty = pagerDutyAnswerOf(record.lastError);
  const answer = (reason: ExplanationReason, why: string, extra: Partial<DeliveryExplanation> = {}) => {
    const explanation: DeliveryExplanation = { reason, sent: false, why, ...extra };
    if (pagerDuty !== undefined) explanation.pagerDuty = pagerDuty;
    return explanation;
  };
  switch (record.status) {
    case DeliveryStatus.DELIVERED:
      return answer(
        'delivered',
        `sent: PagerDuty accepted it${record.deliveredAt === undefined ? '' : ` at ${ISO(record.deliveredAt)}`} after ${plural(record.attempts, 'attempt')}; repeat notifications of this occurrence are duplicates (answered, not sent again)`,
        { sent: true },
      );
    case DeliveryStatus.DRY_RUN:
      return answer('dry-run', 'dry-run: stored and logged, never sent (and never sent later, even once a key is set)');
    case DeliveryStatus.SUPERSEDED: {
      const landed = record.attempts > 0 ? '; an earlier attempt may have reached PagerDuty' : '';
      return answer('superseded', `superseded: ${record.lastError ?? 'out of order'}; not sent${landed}`);
    }
    case DeliveryStatus.DEAD:
      return answer('dead', dead(record));
    case DeliveryStatus.SENDING: {
      const lease = record.leaseUntil ?? 0;
      return lease > now
        ? answer('sending', `being sent now (lease until ${ISO(lease)})`)
        : answer('lease-expired', 'its sender stopped mid-send: the next delivery-health run takes it over');
    }
    default: {
      const next = record.nextAttemptAt ?? now;
      if (circuit?.open === true) {
        const until = circuit.until === undefined ? '' : ` until ${ISO(circuit.until)}`;
        const why = circuit.reason === undefined ? '' : ` (${circuit.reason})`;
        return answer('circuit-open', `waiting: circuit open on route ${record.routeName}${until}${why}`, {
          nextAttemptAt: Math.max(next, circuit.until ?? next),
        });
      }
      if (next > now && record.action === EventAction.RESOLVE && record.attempts === 0 && !record.lastError) {
        return answer('waiting-for-trigger', `waiting: held until ${ISO(next)} while its trigger is being sent`, {
          nextAttemptAt: next,
        });
      }
      if (next > now) {
        const last = record.lastError === undefined ? '' : ` after ${plural(record.attempts, 'failed attempt')}`;
        return answer('retrying', `waiting: next attempt at ${ISO(next)}${last}`, { nextAttemptAt: next });
      }
      return answer('due', 'due now: the next delivery-health run (every minute) sends it', { nextAttemptAt: next });
    }
  }
}

export type { DeliveryExplanation, ExplanationReason, PagerDutyAnswer };
export { explainDelivery, pagerDutyAnswerOf };
