/**
 * The Tablestore store's merged batches (issue 13 item 3): the occurrence markers and the routing keys' gate rows
 * ride in the claim's BatchWriteRow (`claimWithMarkers`), the activity counters in the outcomes' compare-and-set (`replaceManyCounting`). Each row of
 * such a batch stands alone: a fault on one row, for good (every attempt refused), costs only that row, on the real
 * SDK against the wire fake.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { markDelivered } from '../../../shared/delivery/transitions';
import { Counter } from '../../../shared/store/Counters';
import { markerKeyOf } from '../../../shared/store/OccurrenceMarker';
import { deliveryRecord } from '../../support/deliveryRecords';
import { startTablestoreOverFake, TABLE, type TablestoreOverFake } from '../../support/tablestoreOverFake';

let tablestore: TablestoreOverFake | undefined;
afterEach(async () => {
  await tablestore?.close();
});

const clock = Date.UTC(2026, 0, 1, 12);
const DAY_SECONDS = 86_400;
const delta = { counts: { [Counter.CALLBACKS]: 1, [Counter.DELIVERED]: 2 }, latest: { lastCallbackAt: clock } };

/** Two claimed deliveries, and their DELIVERED outcomes. */
async function twoClaimed() {
  tablestore = await startTablestoreOverFake({ now: () => clock });
  const records = ['d1-merged-a', 'd1-merged-b'].map((key) => deliveryRecord(key, clock, { nextAttemptAt: clock }));
  await tablestore.store.claim(records);
  return { ...tablestore, outcomes: records.map((record) => markDelivered(record, clock)) };
}

/** Every attempt of the next batch write refuses the rows `rows` picks (the adapter tries a row three times). */
function refuseRows(fake: TablestoreOverFake['fake'], rows: (pk: string) => boolean) {
  return fake.faults.add({
    op: 'BatchWriteRow',
    times: 3,
    action: { kind: 'rowError', code: 'OTSServerBusy', rows: (table, pk) => table === TABLE && rows(String(pk.pk)) },
  });
}

describe('Merged batch: outcomes and counters in one BatchWriteRow', () => {
  it('writes both in one request', async () => {
    // Prepare
    const { fake, store, outcomes } = await twoClaimed();
    fake.stats.reset();

    // Act
    const result = await store.replaceManyCounting(outcomes, delta, DAY_SECONDS);
    const answered = fake.stats.snapshot().requests;
    await store.settle();

    // Assess: one write for the outcomes and the counters, then the old due entries' tidy (beside the next step).
    expect(result).toEqual({ written: [true, true] });
    expect(answered).toEqual({ BatchWriteRow: 1 });
    expect(fake.stats.snapshot().requests).toEqual({ BatchWriteRow: 2 });
    expect((await store.readCounters(clock - 60_000)).counts).toEqual(delta.counts);
  });

  it('a counter row refused for good costs only the counters: the outcomes are written', async () => {
    // Prepare
    const { fake, store, outcomes } = await twoClaimed();
    const fault = refuseRows(fake, (pk) => pk.startsWith('c1-') && pk.endsWith(Counter.DELIVERED));

    // Act
    const result = await store.replaceManyCounting(outcomes, delta, DAY_SECONDS);

    // Assess
    expect(fault.fired).toBe(3);
    expect(result.written).toEqual([true, true]);
    expect(result.countersError).toBeDefined();
    const stored = await store.get(outcomes.map((record) => record.deliveryKey));
    expect([...stored.values()].map((record) => record.status)).toEqual(['DELIVERED', 'DELIVERED']);
    // The other counter rows stand on their own.
    expect((await store.readCounters(clock - 60_000)).counts).toEqual({ [Counter.CALLBACKS]: 1 });
  });

  it('an outcome row refused for good costs only that row: the other outcome and the counters are written', async () => {
    // Prepare
    const { fake, store, outcomes } = await twoClaimed();
    const fault = refuseRows(fake, (pk) => pk === 'd1-merged-b');

    // Act: like replaceMany, a row failed for good fails the call (its row stays as claimed, for the relay).
    const error = await store.replaceManyCounting(outcomes, delta, DAY_SECONDS).catch((thrown: unknown) => thrown);

    // Assess
    expect(fault.fired).toBe(3);
    expect(error).toBeInstanceOf(Error);
    const stored = await store.get(outcomes.map((record) => record.deliveryKey));
    expect(stored.get('d1-merged-a')?.status).toBe('DELIVERED');
    expect(stored.get('d1-merged-b')).toMatchObject({ status: 'PENDING', version: 1 });
    expect((await store.readCounters(clock - 60_000)).counts).toEqual(delta.counts);
  });
});

describe('Merged batch: the claim and the occurrence markers in one BatchWriteRow', () => {
  const markerOf = (dedupKey: string) => ({
    dedupKey,
    latestOccurrence: clock,
    version: 1,
    updatedAt: clock,
    expiresAt: clock + 86_400_000,
  });
  const fresh = async () => {
    tablestore = await startTablestoreOverFake({ now: () => clock });
    const records = ['d1-claim-a', 'd1-claim-b'].map((key) => deliveryRecord(key, clock, { nextAttemptAt: clock }));
    return { ...tablestore, records, markers: [markerOf('identity-a'), markerOf('identity-b')] };
  };

  it('writes both in one request', async () => {
    // Prepare
    const { fake, store, records, markers } = await fresh();
    fake.stats.reset();

    // Act
    const result = await store.claimWithMarkers(records, markers);

    // Assess
    expect(result.claims.map((outcome) => outcome.claimed)).toEqual([true, true]);
    expect(result.markers).toEqual([true, true]);
    expect(fake.stats.snapshot().requests).toEqual({ BatchWriteRow: 1 });
    expect([...(await store.getMarkers(['identity-a', 'identity-b'])).keys()]).toEqual(['identity-a', 'identity-b']);
  });

  it('a marker row refused for good costs only that marker: the claims and the other marker stand', async () => {
    // Prepare
    const { fake, store, records, markers } = await fresh();
    const fault = refuseRows(fake, (pk) => pk.startsWith('m1-') && pk !== markerKeyOf('identity-a'));

    // Act
    const result = await store.claimWithMarkers(records, markers);

    // Assess
    expect(fault.fired).toBe(3);
    expect(result.claims.map((outcome) => outcome.claimed)).toEqual([true, true]);
    expect(result.markersError).toBeDefined();
    expect([...(await store.getMarkers(['identity-a', 'identity-b'])).keys()]).toEqual(['identity-a']);
  });

  it('a gate row refused for good costs only that row (the sends are asked for the usual way): the rest stands', async () => {
    // Prepare: the claim carries two markers and two keys' rows (first versions).
    const { fake, store, records, markers } = await fresh();
    const keyState = (keyId: string) => ({
      keyId,
      version: 1,
      updatedAt: clock,
      expiresAt: clock + 86_400_000,
      data: {},
    });
    const keyStates = [keyState('aaaaaaaaaaaaaaaa'), keyState('bbbbbbbbbbbbbbbb')];
    const fault = refuseRows(fake, (pk) => pk === 'k1-bbbbbbbbbbbbbbbb');
    fake.stats.reset();

    // Act
    const result = await store.claimWithMarkers(records, markers, keyStates);

    // Assess: the refused row retried in the batch's own retries, no read; only that key's row is missing.
    expect(fault.fired).toBe(3);
    expect(result.claims.map((outcome) => outcome.claimed)).toEqual([true, true]);
    expect(result.markers).toEqual([true, true]);
    expect(result.keyStates).toEqual([true, false]);
    expect('keyStatesError' in result).toBe(false);
    expect(fake.stats.snapshot().requests.BatchWriteRow).toBe(3);
    const found = await store.getKeyStates(['aaaaaaaaaaaaaaaa', 'bbbbbbbbbbbbbbbb']);
    expect([...found.keys()]).toEqual(['aaaaaaaaaaaaaaaa']);
  });

  it('a claim row refused for good costs only that claim (failed, for fail open): the rest stands', async () => {
    // Prepare
    const { fake, store, records, markers } = await fresh();
    const fault = refuseRows(fake, (pk) => pk === 'd1-claim-b');

    // Act
    const result = await store.claimWithMarkers(records, markers);

    // Assess
    expect(fault.fired).toBe(3);
    expect(result.claims[0]?.claimed).toBe(true);
    expect(result.claims[1]).toMatchObject({ claimed: false, failed: expect.any(Error) });
    expect(result).toMatchObject({ markers: [true, true] });
    expect([...(await store.get(['d1-claim-a', 'd1-claim-b'])).keys()]).toEqual(['d1-claim-a']);
  });
});
