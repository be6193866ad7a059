/**
 * Claims on Tablestore: each delivery's main row and its due-index entry in one BatchWriteRow (both tables, one round
 * trip), then the rounds that settle what the write could not: an existing row read back (a duplicate, our own earlier
 * attempt that landed, or an expired row to take over as read), and the repair of claims whose entry did not land.
 *
 * ```
 *  claim  ─ BatchWriteRow { due entry PUT, main PUT expect-not-exist }   (1 round trip, both tables)
 *            main ok, entry failed → re-put the entry; still failing → delete the new main row (un-claim) and
 *            report the row failed: the caller fails open, and ARMS's next repeat claims afresh.
 * ```
 *
 * Ambiguous writes (timeouts, resets, 5xx) are retried: a claim that then fails its condition reads the row back, and
 * finding exactly the cells it wrote means its earlier attempt landed (the claim is ours). Records carry no owner
 * token, so the comparison is on the whole stored content, which includes the writer's timestamps.
 */
import type { Deadline } from '../../deadline';
import { StoreError } from '../../errors';
import type { DeliveryRecord } from '../DeliveryRecord';
import type { ClaimOutcome } from '../DeliveryStore';
import { dueTimeOf } from '../storeRules';
import { rowError, type WriteOutcome, type WriteRow } from './calls';
import type { DueIndex, RiderRows } from './dueIndex';
import {
  condition,
  type DueEntry,
  deleteEntry,
  deleteMainRow,
  dueEntryOf,
  equal,
  putEntry,
  sameCells,
  VERSION_COLUMN,
} from './rowCodec';
import type { DeliveryTables } from './tables';

/** Claim rounds per call: round 2+ only for keys whose row vanished or expired between the write and the read. */
const CLAIM_ROUNDS = 3;

/** One claim in flight: the record, the expired row it may take over, and where its rows sit in the batch. */
interface ClaimSlot {
  record: DeliveryRecord;
  takeover?: DeliveryRecord;
  entry?: DueEntry;
  entryIndex?: number;
  mainIndex: number;
}

interface ClaimsOptions {
  tables: DeliveryTables;
  dueIndex: DueIndex;
  /** A new budget for one operation. */
  budget: () => Deadline;
  now: () => number;
}

class Claims {
  readonly #tables: DeliveryTables;
  readonly #dueIndex: DueIndex;
  readonly #budget: () => Deadline;
  readonly #now: () => number;

  public constructor(options: ClaimsOptions) {
    this.#tables = options.tables;
    this.#dueIndex = options.dueIndex;
    this.#budget = options.budget;
    this.#now = options.now;
  }

  /**
   * Creates each record unless its key exists; one outcome per record, in order (see `DeliveryStore.claim`). `riders`:
   * independent rows written in the first round's batch (the occurrence markers), settled once it is answered.
   */
  public async claim(records: readonly DeliveryRecord[], riders?: RiderRows): Promise<ClaimOutcome[]> {
    const { calls, due } = this.#tables;
    const budget = this.#budget();
    const now = this.#now();
    // One row per key and call (a batch must not name a key twice); later copies are duplicates of the first.
    const unique = new Map<string, DeliveryRecord>();
    for (const record of records) if (!unique.has(record.deliveryKey)) unique.set(record.deliveryKey, record);

    const resolved = new Map<string, ClaimOutcome>();
    const unindexed: ClaimSlot[] = [];
    const tidyRows: WriteRow[] = [];
    /** Rows whose own write failed: reported per row, the rest of the call stands (the caller fails open on these). */
    const failed = new Map<string, StoreError>();
    let round: Array<{ record: DeliveryRecord; takeover?: DeliveryRecord }> = [...unique.values()].map((record) => ({
      record,
    }));

    let ridersSettled: Promise<void> | undefined;
    for (let attempt = 0; round.length > 0 && attempt < CLAIM_ROUNDS; attempt++) {
      const rows: WriteRow[] = [];
      const groups: number[][] = [];
      const slots: ClaimSlot[] = round.map(({ record, takeover }) => {
        const entry = dueEntryOf(record, now);
        const group: number[] = [];
        const slot: ClaimSlot = { record, takeover, entry, mainIndex: -1 };
        if (entry !== undefined) {
          slot.entryIndex = rows.push(putEntry(due, entry)) - 1;
          group.push(slot.entryIndex);
        }
        // A new key: expect-not-exist. An expired row: replace it only as read (version and expiry unchanged).
        const claim = takeover
          ? condition('EXPECT_EXIST', [equal(VERSION_COLUMN, takeover.version), equal('expiresAt', takeover.expiresAt)])
          : condition('EXPECT_NOT_EXIST');
        slot.mainIndex = rows.push(this.#tables.putRecord(record, claim)) - 1;
        group.push(slot.mainIndex);
        groups.push(group);
        return slot;
      });
      const riding = attempt === 0 && riders !== undefined ? riders : undefined;
      const claimRows = rows.length;
      for (const row of riding?.rows ?? []) groups.push([rows.push(row) - 1]);
      const outcomes = await calls.write(budget, rows, groups, {
        retryAmbiguous: (index) => (index < claimRows ? true : (riding?.retryAmbiguous ?? true)),
      });
      // The riders finish (their own retries and reads) beside the claim's, never in front of them: the claim's
      // read-back must not wait on, or lose its budget to, rows that are not the claim's.
      if (riding !== undefined) ridersSettled = riding.settle(outcomes.slice(claimRows));

      const toRead: ClaimSlot[] = [];
      const claimed = (slot: ClaimSlot) => {
        resolved.set(slot.record.deliveryKey, { claimed: true, record: slot.record });
        const entryOutcome = slot.entryIndex === undefined ? undefined : outcomes[slot.entryIndex];
        if (entryOutcome !== undefined && entryOutcome.status !== 'ok') unindexed.push(slot);
        else this.#dueIndex.remember(slot.record, slot.entry);
        // The expired row's own entry, if it had one elsewhere: stale now (deleted only if still that version's).
        const oldDue = slot.takeover && dueTimeOf(slot.takeover);
        if (slot.takeover && oldDue !== undefined && oldDue !== slot.entry?.dueAt) {
          const old = dueEntryOf(slot.takeover, 0) as DueEntry;
          tidyRows.push(deleteEntry(due, old, [equal(VERSION_COLUMN, old.version)]));
        }
      };
      for (const slot of slots) {
        const main = outcomes[slot.mainIndex] as WriteOutcome;
        if (main.status === 'ok') claimed(slot);
        else if (main.status === 'condition') toRead.push(slot);
        else failed.set(slot.record.deliveryKey, rowError('claim', main));
      }

      round = [];
      if (toRead.length === 0) continue;
      let existing: Map<string, DeliveryRecord>;
      try {
        existing = await this.#tables.readRecords(
          budget,
          toRead.map((slot) => slot.record.deliveryKey),
        );
      } catch (error) {
        // Existing rows that cannot be read: a duplicate or our own landed write, unknown which.
        const unknown = new StoreError('tablestore claim: the existing row could not be read', {
          ambiguous: true,
          cause: error,
        });
        for (const slot of toRead) failed.set(slot.record.deliveryKey, unknown);
        continue;
      }
      for (const slot of toRead) {
        const { record } = slot;
        const found = existing.get(record.deliveryKey);
        const main = outcomes[slot.mainIndex] as WriteOutcome;
        if (found === undefined) {
          round.push({ record }); // gone since (expired and purged): claim it again
        } else if (main.retried && sameCells(found, record)) {
          claimed(slot); // our earlier, ambiguous attempt landed: the claim is ours
        } else if (found.expiresAt <= now) {
          round.push({ record, takeover: found }); // past its window: take it over, as read
        } else {
          resolved.set(record.deliveryKey, { claimed: false, record, existing: found });
          // The entry this claim wrote points at a row that is not ours: delete it unless it is the row's live one.
          if (slot.entry !== undefined && dueTimeOf(found) !== slot.entry.dueAt) {
            tidyRows.push(deleteEntry(due, slot.entry));
          }
          // An unfinished row is indexed again (idempotent): a claim whose entry never landed is never invisible to
          // the relay for good, since ARMS repeats a firing alert.
          const live = dueEntryOf(found, now);
          if (live !== undefined) tidyRows.push(putEntry(due, live));
        }
      }
    }
    for (const { record } of round) {
      failed.set(
        record.deliveryKey,
        new StoreError('tablestore claim: the row kept changing under the claim', { ambiguous: true }),
      );
    }
    if (unindexed.length > 0) {
      for (const [key, error] of await this.#repair(budget, unindexed)) {
        resolved.delete(key);
        failed.set(key, error);
      }
    }
    await Promise.all([calls.tidy(budget, tidyRows), ridersSettled]);

    return records.map((record) => {
      const failure = failed.get(record.deliveryKey);
      if (failure !== undefined && !resolved.has(record.deliveryKey))
        return { claimed: false, record, failed: failure };
      const outcome = resolved.get(record.deliveryKey) as ClaimOutcome;
      if (outcome.record === record) return outcome;
      // A second copy of a key in one call: a duplicate of whatever the first copy left in the table.
      if (outcome.claimed) return { claimed: false, record, existing: outcome.record };
      return 'failed' in outcome ? { claimed: false, record, failed: outcome.failed } : { ...outcome, record };
    });
  }

  /**
   * Claimed rows whose due entry did not land: re-put the entries; where that fails too, delete the new main row
   * (un-claim) so no due row is left that the relay cannot see. Returns the rows that are not claimed after all, with
   * why (a row neither indexed nor undone stays visible to the next claim of its key, which indexes it again).
   */
  async #repair(budget: Deadline, slots: ClaimSlot[]): Promise<Map<string, StoreError>> {
    const { calls, main, due } = this.#tables;
    const retried = await calls.write(
      budget,
      slots.map((slot) => putEntry(due, slot.entry as DueEntry)),
    );
    const failed = slots.filter((_, index) => retried[index]?.status !== 'ok');
    for (const slot of slots) if (!failed.includes(slot)) this.#dueIndex.remember(slot.record, slot.entry);
    const unclaimed = new Map<string, StoreError>();
    if (failed.length === 0) return unclaimed;
    const undo = await calls.write(
      budget,
      failed.map(({ record }) =>
        deleteMainRow(main, record.deliveryKey, [
          equal(VERSION_COLUMN, record.version),
          equal('updatedAt', record.updatedAt),
        ]),
      ),
    );
    failed.forEach((slot, index) => {
      const stuck = undo[index]?.status === 'failed';
      unclaimed.set(
        slot.record.deliveryKey,
        stuck
          ? new StoreError('tablestore claim: the due-index entry and the undo both failed', { ambiguous: true })
          : new StoreError('tablestore claim: the due-index entry could not be written; the claim was undone'),
      );
    });
    return unclaimed;
  }
}

export { Claims };
