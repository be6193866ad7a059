/**
 * The webhook's lanes, one per routing key, fed chunk by chunk: each chunk's deliveries go to their key's lane as soon
 * as the chunk is claimed and checked, and the lane (`sendLane.ts`) starts them while the next chunk is claimed. Keeps
 * what `inlineCount` decides from (how far each key's sends have come), and what the lanes leave unsent, for the relay.
 */
import type { DeliveryRecord } from '../store/DeliveryRecord';
import type { LaneProgress, Planned } from './deliveryRules';
import { laneIdOf } from './keyIdOf';
import type { RouteChoice } from './Router';
import type { LaneResult } from './sendLane';

/** Starts one key's lane: `more` feeds it, `started` and `answered` are called around each send. */
type StartLane = (
  route: RouteChoice,
  feed: {
    more: () => Promise<readonly DeliveryRecord[] | undefined>;
    started: () => void;
    answered: () => void;
  },
) => Promise<LaneResult>;

interface Lane {
  route: RouteChoice;
  /** Claimed, leased, not yet taken by the lane. */
  buffer: DeliveryRecord[];
  wake?: () => void;
  /** Fed to the lane. */
  leased: number;
  /** Decided leased in chunks still being claimed (`reserve`), not fed yet. */
  reserved: number;
  started: number;
  answered: number;
  firstStartAt?: number;
  /** Set once the lane has returned: what is fed after that is left for the relay. */
  ended: boolean;
  running?: Promise<void>;
}

class WebhookLanes {
  readonly #lanes = new Map<string, Lane>();
  readonly #start: StartLane;
  readonly #now: () => number;
  /** Leased but never started: the lanes stopped (deadline, gate, store) before these. */
  readonly #unsent: DeliveryRecord[] = [];
  #closed = false;

  public constructor(start: StartLane, now: () => number) {
    this.#start = start;
    this.#now = now;
  }

  /** How far the key's sends have come, for `inlineCount`. */
  public progressOf(route: RouteChoice): LaneProgress {
    const lane = this.#laneOf(route);
    return {
      leased: lane.leased + lane.reserved,
      backlog: lane.leased + lane.reserved - lane.started,
      answered: lane.answered,
      sendingForMs: lane.firstStartAt === undefined ? 0 : this.#now() - lane.firstStartAt,
      open: !lane.ended,
    };
  }

  /** Counts `count` leases of a chunk about to be claimed (chunks are claimed several at once), until `release`. */
  public reserve(route: RouteChoice, count: number): void {
    this.#laneOf(route).reserved += count;
  }

  /** The chunk's claim is over: what it leased is fed (or was not claimed), no longer reserved. */
  public release(route: RouteChoice, count: number): void {
    this.#laneOf(route).reserved -= count;
  }

  /** Hands claimed, leased deliveries to their lanes (started on first use). */
  public feed(items: readonly Planned[]): void {
    for (const { record, route } of items) {
      const lane = this.#laneOf(route);
      if (lane.ended) {
        this.#unsent.push(record);
        continue;
      }
      lane.leased++;
      lane.buffer.push(record);
      lane.running ??= this.#run(lane);
    }
    for (const lane of this.#lanes.values()) lane.wake?.();
  }

  /** No more chunks: each lane ends once it has started (or given up) what it holds. */
  public close(): void {
    this.#closed = true;
    for (const lane of this.#lanes.values()) lane.wake?.();
  }

  /** Waits for every lane to end; returns the leased deliveries no lane started (to be queued for the relay). */
  public async finish(): Promise<DeliveryRecord[]> {
    this.close();
    await Promise.all([...this.#lanes.values()].map((lane) => lane.running));
    return this.#unsent;
  }

  #laneOf(route: RouteChoice): Lane {
    const id = laneIdOf(route);
    let lane = this.#lanes.get(id);
    if (lane === undefined) {
      lane = { route, buffer: [], leased: 0, reserved: 0, started: 0, answered: 0, ended: false };
      this.#lanes.set(id, lane);
    }
    return lane;
  }

  async #run(lane: Lane): Promise<void> {
    const more = async (): Promise<readonly DeliveryRecord[] | undefined> => {
      while (lane.buffer.length === 0 && !this.#closed) {
        await new Promise<void>((resolve) => {
          lane.wake = resolve;
        });
      }
      lane.wake = undefined;
      return lane.buffer.length === 0 ? undefined : lane.buffer.splice(0);
    };
    const result = await this.#start(lane.route, {
      more,
      started: () => {
        lane.started++;
        lane.firstStartAt ??= this.#now();
      },
      answered: () => {
        lane.answered++;
      },
    });
    lane.ended = true;
    this.#unsent.push(...result.unsent, ...lane.buffer.splice(0));
  }
}

export { WebhookLanes };
