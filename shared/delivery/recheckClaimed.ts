/**
 * The webhook's rechecks after its own claim, where a concurrent instance's claim shows: a delivery's counterpart (the
 * other half of its occurrence), and the older-resolve/newer-trigger pair of two occurrences of one alert. Each side
 * writes its own row before it reads the other's, and single-row reads are strongly consistent, so at least one side
 * sees the other (the interleavings are on `recheckOlderResolves`); `checkClaimed` runs them for one claimed chunk.
 * The relay's halves are in `relay.ts`.
 */
import { DeliveryStatus } from '../constants';
import type { Logger } from '../logger';
import type { DeliveryRecord } from '../store/DeliveryRecord';
import type { DeliveryStore } from '../store/DeliveryStore';
import type { DeliverDeps } from './CallbackDelivery';
import { counterpartKeyOf } from './deliveryKey';
import type { Planned } from './deliveryRules';
import { olderResolveKeyOf, orderVerdict } from './ordering';
import { judge, type OrderingContext, readNewerTriggers } from './orderingContext';
import { resolveWaitUntil } from './resolveWait';
import { markPending, markSuperseded } from './transitions';

/** What the rechecks use of the webhook's dependencies. */
interface RecheckDeps {
  store: DeliveryStore;
  logger: Logger;
}

/**
 * A trigger and its resolve claimed at the same moment by two instances both read "no counterpart" before claiming.
 * After its own claim each reads its counterpart again (single-row reads are strongly consistent, and each side's row
 * exists before its second read, so at least one side sees the other) and is judged again: a trigger whose resolve
 * now exists is not sent; a resolve whose trigger is being sent waits for it. In the same round trip a per-alert
 * resolve reads its identity's marker again, and the newer occurrence's trigger it names: the resolve's half of the
 * older-resolve/newer-trigger recheck (`readNewerTriggers`; the trigger's half: `recheckOlderResolves`). Returns the records whose state changed (written by
 * the caller), and updates `claimed` in place.
 */
async function recheckCounterparts(
  claimed: Planned[],
  deps: RecheckDeps,
  context: OrderingContext,
  own: ReadonlySet<string>,
  now: number,
): Promise<DeliveryRecord[]> {
  const sending = claimed.filter((item) => item.record.status === DeliveryStatus.SENDING);
  if (sending.length === 0) return [];
  const keys = sending.map((item) => counterpartKeyOf(item.record));
  const [fresh, newer] = await Promise.all([
    deps.store.get(keys.filter((key) => !context.related.has(key))),
    readNewerTriggers(
      deps.store,
      sending.map((item) => item.record),
      own,
    ),
  ]);
  // A counterpart in this very callback is judged as this invocation decided it, not as a concurrent claim: the
  // trigger and the resolve of one occurrence arriving together are a resolve that came first (neither is paged).
  const claimedRows = new Map(claimed.map((item) => [item.record.deliveryKey, item.record]));
  for (const key of fresh.keys()) {
    const ours = claimedRows.get(key);
    if (ours !== undefined) fresh.set(key, ours);
  }
  if (fresh.size === 0 && newer.rows.size === 0) return [];
  for (const [key, row] of fresh) context.related.set(key, row);
  for (const [key, row] of newer.rows) context.related.set(key, row);
  const changed: DeliveryRecord[] = [];
  // Triggers first, so a resolve is judged against what became of its trigger.
  const ordered = [...sending].sort(
    (a, b) => Number(a.record.action === 'resolve') - Number(b.record.action === 'resolve'),
  );
  for (const item of ordered) {
    const newerKey = newer.keys.get(item.record.deliveryKey);
    const newerSeen = newerKey !== undefined && newer.rows.has(newerKey);
    if (!fresh.has(counterpartKeyOf(item.record)) && !newerSeen) continue;
    // A resolve is judged against the marker as it is now; a trigger against the one it was claimed with.
    const marker = newerSeen ? newer.markers.get(item.record.dedupKey) : undefined;
    const markers = marker === undefined ? context.markers : new Map([[item.record.dedupKey, marker]]);
    const { verdict } = judge(item.record, { related: context.related, markers }, now);
    if (verdict.kind === 'supersede') {
      item.record = markSuperseded(item.record, now, verdict.reason, false);
      changed.push(item.record);
    } else if (verdict.kind === 'defer') {
      item.record = markPending(item.record, now, resolveWaitUntil(verdict.until, now));
      changed.push(item.record);
    } else continue;
    context.related.set(item.record.deliveryKey, item.record);
  }
  return changed;
}

/**
 * The trigger's half of the older-resolve/newer-trigger recheck. A trigger newer than its identity's marker, claimed to
 * be sent (SENDING, or queued due now), reads the older occurrence's resolve again once its own row AND the advanced
 * marker are written; that resolve, once its own row is SENDING, reads the marker and the trigger it names
 * (`readNewerTriggers`). Single-row reads are strongly consistent, so at least one side sees the other:
 *
 * 1. the resolve sees the trigger SENDING (or sent): the resolve is superseded, never sent; the trigger goes out;
 * 2. the trigger sees the resolve SENDING under a live lease: the trigger waits until that lease ends (it cannot wait
 *    less: the marker now names the trigger's own occurrence, so a later judge no longer finds that resolve). If the
 *    resolve also saw the trigger (case 1 too), the resolve is not sent and the trigger only goes out late;
 * 3. the resolve saw the marker before the trigger's advance: then the trigger's read comes after the resolve's claim
 *    and sees it SENDING (case 2), or finished: delivered (the trigger goes after it) or queued for a retry (that
 *    retry is judged against the advanced marker and this trigger, and superseded once the trigger may have landed);
 * 4. the resolve sees the trigger queued and never attempted (it waits behind this very resolve, or for the relay):
 *    the resolve goes out; the trigger, judged again later, finds it still on the wire (case 2, or the relay's first
 *    judge: `orderVerdict`, defer) or finished;
 * 5. the resolve sees the advanced marker but not the trigger's row (the webhook writes both in one batch, where either
 *    may land first): the resolve goes out, and the trigger, which reads only once both landed, after the resolve's
 *    claim, sees it SENDING (case 2) or finished.
 *
 * In every case the older resolve never lands after the newer trigger. The triggers that now wait are written at once,
 * not with the rows left at the end: one claimed queued is due now, and a relay must not take it meanwhile. Updates
 * `claimed` in place.
 */
async function recheckOlderResolves(
  claimed: Planned[],
  deps: RecheckDeps,
  context: OrderingContext,
  own: ReadonlySet<string>,
  now: number,
  read: Promise<Map<string, DeliveryRecord>> = readOlderResolves(claimed, deps, context, own),
): Promise<void> {
  const rechecking = olderResolvesOf(claimed, context, own);
  const fresh = await read;
  if (rechecking.length === 0) return;
  const changed: DeliveryRecord[] = [];
  for (const { item, key } of rechecking) {
    const olderResolve = fresh.get(key);
    if (olderResolve === undefined) continue;
    context.related.set(key, olderResolve);
    const verdict = orderVerdict({
      ...item.record,
      marker: context.markers.get(item.record.dedupKey),
      olderResolve,
      now,
    });
    if (verdict.kind !== 'defer') continue;
    item.record = markPending(item.record, now, verdict.until);
    changed.push(item.record);
  }
  if (changed.length === 0) return;
  const won = await deps.store.replaceMany(changed);
  // Lost: the row changed under us (a relay took over the lease or the queued row); it judges it from there.
  if (won.some((ok) => !ok)) deps.logger.warn('a trigger waiting for an older resolve changed under its webhook');
}

/** The claimed triggers to be sent that are newer than their marker, and the key of the older occurrence's resolve. */
function olderResolvesOf(claimed: readonly Planned[], context: OrderingContext, own: ReadonlySet<string>) {
  return claimed.flatMap((item) => {
    const { record } = item;
    if (item.behindOlderResolve === true) return [];
    if (record.status !== DeliveryStatus.SENDING && record.status !== DeliveryStatus.PENDING) return [];
    const key = olderResolveKeyOf(record, context.markers.get(record.dedupKey));
    return key === undefined || own.has(key) ? [] : [{ item, key }];
  });
}

/**
 * The read of `recheckOlderResolves`, on its own: it may start as soon as the claim (and its markers) is written,
 * beside `recheckCounterparts` (one round trip for both). It reads for the claimed rows as they are then; the recheck
 * judges those still to be sent once the counterparts' recheck is applied (a subset: that recheck only stops or
 * defers).
 */
async function readOlderResolves(
  claimed: readonly Planned[],
  deps: RecheckDeps,
  context: OrderingContext,
  own: ReadonlySet<string>,
): Promise<Map<string, DeliveryRecord>> {
  const keys = olderResolvesOf(claimed, context, own).map(({ key }) => key);
  return keys.length === 0 ? new Map() : deps.store.get([...new Set(keys)]);
}

/**
 * After a chunk's claim (its occurrence markers advanced in the same write: `claimPlanned`): check its deliveries
 * again against counterparts claimed meanwhile by another instance, and stop the triggers its resolves overtake.
 * Returns the rows whose state changed (to be written), and `held` when the check itself failed (then nothing of the
 * chunk is sent now).
 */
async function checkClaimed(
  claimed: Planned[],
  deps: DeliverDeps,
  context: OrderingContext,
  own: ReadonlySet<string>,
  now: number,
): Promise<{ waiting: DeliveryRecord[]; held: boolean }> {
  const { logger } = deps;
  // Both rechecks' reads at once: the claim wrote this chunk's rows and markers, which is all either waits for (the
  // older resolve finds this trigger through the marker: read after the marker write, never beside it).
  const olderResolves = readOlderResolves(claimed, deps, context, own);
  olderResolves.catch(() => undefined); // its failure is handled where it is awaited, below
  let changed: DeliveryRecord[];
  try {
    changed = await recheckCounterparts(claimed, deps, context, own, now);
  } catch (error) {
    // Unsure whether a counterpart appeared: the relay judges these rows again (queued now if the store takes the
    // write, else after their lease).
    logger.warn('could not check counterparts again; the claimed deliveries wait for the relay', { error });
    return { waiting: [], held: true };
  }
  try {
    await recheckOlderResolves(claimed, deps, context, own, now, olderResolves);
  } catch (error) {
    logger.warn('could not check the older resolves again; the claimed deliveries wait for the relay', { error });
    return { waiting: changed, held: true };
  }
  const waiting = [...changed, ...(await stopOvertakenTriggers(claimed, deps, now))];
  return { waiting, held: false };
}

/**
 * Stops the triggers these resolves overtake BEFORE sending anything: a relay run may be about to send one. When a
 * stop loses its compare-and-set, the trigger is being sent right now: the resolve then waits for it (returned, to be
 * written as queued).
 */
async function stopOvertakenTriggers(claimed: Planned[], deps: DeliverDeps, now: number): Promise<DeliveryRecord[]> {
  const stopping = claimed.filter((item) => item.stopTrigger !== undefined);
  if (stopping.length === 0) return [];
  const stops = stopping.map((item) =>
    markSuperseded(item.stopTrigger as DeliveryRecord, now, 'its resolve arrived first'),
  );
  let won: boolean[] = [];
  try {
    won = await deps.store.replaceMany(stops);
  } catch (error) {
    deps.logger.warn('could not stop the triggers overtaken by their resolves; the resolves wait for the relay', {
      error,
    });
  }
  const waiting: DeliveryRecord[] = [];
  stopping.forEach((item, index) => {
    if (won[index]) return;
    const leaseUntil = now + deps.config.store.leaseSeconds * 1000;
    item.record = markPending(item.record, now, resolveWaitUntil(leaseUntil, now));
    waiting.push(item.record);
  });
  return waiting;
}

export { checkClaimed, readOlderResolves, recheckCounterparts, recheckOlderResolves };
