// Programmable, seeded fault injection for the fake Tablestore server.
import { decodeRow, type JsValue, toJs } from './codec';
import type { FaultAction, FaultHandle, FaultRequestInfo, FaultSpec, OtsOperation } from './types';

/** HTTP status used when a fault gives only an OTS code (real statuses are partly UNCONFIRMED). */
export function defaultStatus(code: string): number {
  if (/ServerBusy|Unavailable|Timeout|TableNotReady/.test(code)) return 503;
  if (/InternalServerError/.test(code)) return 500;
  if (/ConditionCheckFail|AuthFailed|CapacityUnit|Quota|Throttled/.test(code)) return 403;
  if (/ObjectNotExist/.test(code)) return 404;
  if (/AlreadyExist|RowOperationConflict/.test(code)) return 409;
  return 400;
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Req = Record<string, unknown>;

/** What a fault predicate sees: operation, table names and the row keys a request addresses. */
export function requestInfo(op: OtsOperation, q: Req): FaultRequestInfo {
  const keys: FaultRequestInfo['keys'] = [];
  const add = (table: string, buf: unknown) => {
    try {
      const pk: Record<string, JsValue> = {};
      for (const c of decodeRow(buf as Uint8Array).pk) pk[c.name] = toJs(c.value);
      keys.push({ table, pk });
    } catch {
      // malformed or INF keys: the operation itself reports them
    }
  };
  const name = q.tableName as string | undefined;
  const single: Partial<Record<OtsOperation, string>> = {
    PutRow: 'row',
    UpdateRow: 'rowChange',
    DeleteRow: 'primaryKey',
    GetRow: 'primaryKey',
  };
  const field = single[op];
  if (field && name) add(name, q[field]);
  const batch = (q.tables ?? []) as Array<{ tableName: string; primaryKey?: unknown[]; rows?: Req[] }>;
  if (op === 'BatchGetRow') for (const tq of batch) for (const b of tq.primaryKey ?? []) add(tq.tableName, b);
  if (op === 'BatchWriteRow') for (const tq of batch) for (const r of tq.rows ?? []) add(tq.tableName, r.rowChange);
  const names = op.startsWith('Batch') ? batch.map((tq) => tq.tableName) : name ? [name] : [];
  const meta = (q.tableMeta as { tableName?: string } | undefined)?.tableName;
  return { op, tables: meta ? [meta] : names, keys, request: q };
}

interface ActiveFault {
  spec: FaultSpec;
  skipped: number;
  fired: number;
}

export class FaultRegistry {
  private faults: ActiveFault[] = [];
  private readonly rng: () => number;

  constructor(seed: number) {
    this.rng = mulberry32(seed);
  }

  add(spec: FaultSpec): FaultHandle {
    const f: ActiveFault = { spec, skipped: 0, fired: 0 };
    this.faults.push(f);
    const registry = this;
    return {
      get fired() {
        return f.fired;
      },
      get remaining() {
        return Math.max(0, (spec.times ?? 1) - f.fired);
      },
      remove() {
        registry.faults = registry.faults.filter((x) => x !== f);
      },
    };
  }
  clear(): void {
    this.faults = [];
  }
  get active(): number {
    return this.faults.filter((f) => f.fired < (f.spec.times ?? 1)).length;
  }

  /** The first rule (in insertion order) that matches and fires; consumes one firing. */
  pick(info: FaultRequestInfo): FaultAction | undefined {
    for (const f of this.faults) {
      const { spec } = f;
      if (f.fired >= (spec.times ?? 1)) continue;
      const ops = spec.op === undefined ? undefined : Array.isArray(spec.op) ? spec.op : [spec.op];
      if (ops && !ops.includes(info.op)) continue;
      if (spec.table !== undefined && !info.tables.includes(spec.table)) continue;
      if (spec.action.kind === 'rowError' && info.op !== 'BatchGetRow' && info.op !== 'BatchWriteRow') continue;
      if (spec.when && !spec.when(info)) continue;
      if (f.skipped < (spec.skip ?? 0)) {
        f.skipped++;
        continue;
      }
      if (spec.probability !== undefined && this.rng() >= spec.probability) continue;
      f.fired++;
      return spec.action;
    }
    return undefined;
  }
}
