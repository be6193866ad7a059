/**
 * Tablestore errors, normalised once (`reference/tablestore.md` §5, §6). The SDK reports a failed call with a numeric
 * `err.code` (the HTTP status) and the OTS code inside `err.message` (raw protobuf bytes); a failed batch row carries
 * a string `errorCode`. Only a condition failure is a domain outcome (a lost race, or the key exists); everything else
 * becomes a `StoreError`, `ambiguous` when a write may have landed although it answered an error.
 *
 * | OTS code / failure                                                  | retry | write may have landed |
 * |---------------------------------------------------------------------|-------|-----------------------|
 * | `OTSConditionCheckFail` (403)                                       | –     | no: the outcome       |
 * | `OTSServerBusy`, `OTSPartitionUnavailable`, `OTSRowOperationConflict`,
 * |   `OTSNotEnoughCapacityUnit`, `OTSCapacityUnitExhausted`, `OTSQuotaExhausted`, `OTSTableNotReady` | yes | no |
 * | `OTSTimeout`, `OTSInternalServerError`, `OTSServerUnavailable`, other 5xx | yes | yes              |
 * | `NetworkingError` (socket timeout, reset), our own deadline          | yes   | yes                   |
 * | other 4xx (`OTSParameterInvalid`, `OTSAuthFailed`, `OTSObjectNotExist`, …), client-side errors | no | no |
 *
 * The "rejected before applying" list is this adapter's reading of the codes' names (the service does not document
 * it, reference §5 **UNCONFIRMED**); when in doubt a code counts as "may have landed", the safe side, since every
 * write here is conditional and a retry resolves it.
 */
import { StoreError } from '../../errors';

const CONDITION_FAILED = 'OTSConditionCheckFail';
/** Our own per-call timer fired (the SDK's socket timeout is idle-only, reference §7). */
const DEADLINE_EXCEEDED = 'DeadlineExceeded';

/** Throttling and availability codes the service answers without applying the request. */
const REJECTED_BEFORE_APPLYING: ReadonlySet<string> = new Set([
  'OTSServerBusy',
  'OTSPartitionUnavailable',
  'OTSRowOperationConflict',
  'OTSNotEnoughCapacityUnit',
  'OTSCapacityUnitExhausted',
  'OTSQuotaExhausted',
  'OTSTableNotReady',
]);
/** Server-side failures after which the request may or may not have been applied. */
const MAY_HAVE_LANDED: ReadonlySet<string> = new Set([
  'OTSTimeout',
  'OTSInternalServerError',
  'OTSServerUnavailable',
  'NetworkingError',
  'TimeoutError',
  DEADLINE_EXCEEDED,
]);

/** One failed call or batch row, normalised. */
interface OtsFailure {
  /** The OTS code (`OTSServerBusy`), `NetworkingError`, `DeadlineExceeded`, or the HTTP status as text. */
  code: string;
  /** One printable line: the SDK's message without its protobuf framing bytes. */
  message: string;
  /** Worth retrying (the same conditional write or read). */
  retryable: boolean;
  /** For writes: the request may have been applied although it answered an error. */
  mayHaveLanded: boolean;
  requestId?: string;
  cause?: unknown;
}

/** The OTS error code of an SDK error (reference §5 (a)): numeric `err.code`, code string inside the message. */
function otsCode(error: unknown): string {
  const e = error as { code?: unknown; message?: unknown } | undefined;
  if (typeof e?.code === 'string' && e.code !== '') return e.code;
  const inMessage = /OTS[A-Za-z]+/.exec(String(e?.message ?? ''))?.[0];
  if (inMessage !== undefined) return inMessage;
  return e?.code === undefined ? 'Unknown' : String(e.code);
}

/** The message without the protobuf framing bytes the SDK leaves in it (control characters become spaces). */
function printable(message: unknown): string {
  const text = Array.from(String(message ?? ''), (char) => {
    const code = char.charCodeAt(0);
    return code < 0x20 || code === 0x7f ? ' ' : char;
  }).join('');
  return text.replace(/\s+/g, ' ').trim();
}

function failure(code: string, message: string, status: number | undefined, cause?: unknown): OtsFailure {
  const isCondition = code === CONDITION_FAILED;
  const serverSide = status !== undefined && status >= 500;
  const rejected = REJECTED_BEFORE_APPLYING.has(code);
  const mayHaveLanded = !isCondition && !rejected && (MAY_HAVE_LANDED.has(code) || serverSide);
  return { code, message, retryable: rejected || mayHaveLanded, mayHaveLanded, cause };
}

/** Normalises an error thrown by an SDK call (or by our timer). */
function fromCallError(error: unknown): OtsFailure {
  const e = error as { code?: unknown; message?: unknown; headers?: Record<string, string> } | undefined;
  const code = otsCode(error);
  const status = typeof e?.code === 'number' ? e.code : undefined;
  const normalised = failure(code, printable(e?.message), status, error);
  normalised.requestId = e?.headers?.['x-ots-requestid'];
  return normalised;
}

/** Normalises a failed batch row (`isOk: false`, string `errorCode`). */
function fromBatchRow(row: { errorCode: string | null; errorMessage: string | null }): OtsFailure {
  const code = row.errorCode ?? 'Unknown';
  return failure(code, printable(row.errorMessage), undefined);
}

/** The `StoreError` for a failure; `write` says whether the operation wrote (only writes are ever ambiguous). */
function toStoreError(operation: string, f: OtsFailure, write: boolean): StoreError {
  const request = f.requestId === undefined ? '' : ` (request ${f.requestId})`;
  const text = f.message === '' || f.message.includes(f.code) ? f.message : `${f.code}: ${f.message}`;
  return new StoreError(`tablestore ${operation} failed: ${text || f.code}${request}`, {
    cause: f.cause,
    ambiguous: write && f.mayHaveLanded,
  });
}

export type { OtsFailure };
export { DEADLINE_EXCEEDED, fromBatchRow, fromCallError, toStoreError };
