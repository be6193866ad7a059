/**
 * The delivery store's two Tablestore tables, `<TABLESTORE_TABLE>` (the deliveries) and `<TABLESTORE_TABLE>_due` (the
 * due index), and the calls on them: what the claims, the due index and the markers and counters share.
 */
import type { Deadline } from '../../deadline';
import type { DeliveryRecord } from '../DeliveryRecord';
import type { TablestoreCalls, WriteRow } from './calls';
import {
  cellsOf,
  dueTableName,
  isAuxiliaryRow,
  MAIN_PK,
  mainKey,
  putRow,
  recordCells,
  recordOf,
  sdk,
} from './rowCodec';
import type { SdkCondition } from './sdk';

class DeliveryTables {
  public readonly calls: TablestoreCalls;
  /** `TABLESTORE_TABLE`: one row per delivery (and the markers, key states and counters). */
  public readonly main: string;
  /** `<main>_due`: one entry per undelivered delivery. */
  public readonly due: string;

  public constructor(calls: TablestoreCalls, main: string) {
    this.calls = calls;
    this.main = main;
    this.due = dueTableName(main);
  }

  /** The delivery rows of these keys (absent keys are absent from the map); a function budget bounds each call. */
  public async readRecords(
    budget: Deadline | (() => Deadline),
    keys: readonly string[],
  ): Promise<Map<string, DeliveryRecord>> {
    const rows = await this.calls.get(budget, this.main, keys.map(mainKey));
    const found = new Map<string, DeliveryRecord>();
    for (const row of rows) {
      if (row === undefined) continue;
      const record = recordOf(row);
      found.set(record.deliveryKey, record);
    }
    return found;
  }

  /**
   * Every delivery row of the main table, paged, each page on a budget of its own (the scan's length follows the
   * history): O(history), for status counts on small tables and tools, never the relay.
   */
  public async scanRecords(budget: () => Deadline): Promise<DeliveryRecord[]> {
    const { INF_MIN, INF_MAX } = sdk();
    const rows = await this.calls.range(
      budget,
      this.main,
      [{ [MAIN_PK]: INF_MIN }],
      [{ [MAIN_PK]: INF_MAX }],
      Number.POSITIVE_INFINITY,
    );
    return rows.filter((row) => !isAuxiliaryRow(cellsOf(row))).map(recordOf);
  }

  /** A full-row put of a delivery on `rowCondition`. */
  public putRecord(record: DeliveryRecord, rowCondition: SdkCondition): WriteRow {
    return putRow(this.main, record.deliveryKey, recordCells(record), rowCondition);
  }
}

export { DeliveryTables };
