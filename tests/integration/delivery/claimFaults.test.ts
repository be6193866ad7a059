/**
 * Faults on single rows of the claim, on the Tablestore store over the wire-compatible fake, through the webhook and
 * the relay: each row of a claim stands alone. Only the rows whose write failed go out fail open; the claimed rows are
 * sent once, by the webhook or the relay, never both; a claim whose due-index entry could not be written is undone
 * (and then sent fail open), or, where even the undo fails, indexed again by the next claim of its key.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { dueTableName } from '../../../shared/store/tablestore/rowCodec';
import { fakePagerDutyPerTest } from '../../support/pagerDutyPerFile';
import { startTablestoreOverFake, TABLE, type TablestoreOverFake } from '../../support/tablestoreOverFake';
import { webhookHarness } from '../../support/webhook';

const ROUTING_KEY = 'CLA1MFAULTSROUTINGKEY00000000001';
const sample = JSON.parse(readFileSync(new URL('../../fixtures/arms/sample.json', import.meta.url), 'utf8'));
const isClaim = (info: { tables: string[] }) =>
  info.tables.includes(dueTableName(TABLE)) && info.tables.includes(TABLE);

function callback(fingerprints: string[]): string {
  return JSON.stringify({
    ...sample,
    alerts: fingerprints.map((fingerprint) => ({ ...sample.alerts[0], fingerprint })),
  });
}

let tablestore: TablestoreOverFake | undefined;
const pagerDuties = fakePagerDutyPerTest();
afterEach(async () => {
  await tablestore?.close();
});

async function setUp() {
  let offset = 0;
  const now = () => Date.now() + offset;
  tablestore = await startTablestoreOverFake({ now });
  const { fake, store } = tablestore;
  const pd = await pagerDuties.start();
  const env = { PAGERDUTY_ROUTING_KEY: ROUTING_KEY, PAGERDUTY_EVENTS_URL: pd.url, PAGERDUTY_RATE_PER_MINUTE: '6000' };
  const bridge = webhookHarness(env, store, now);
  /** Another webhook instance on the same store (its own gate and caches, as a second FC instance). */
  const other = () => webhookHarness(env, store, now);
  const accepted = () => pd.accepted().map((request) => (request.body as { dedup_key: string }).dedup_key);
  return { bridge, other, accepted, advance: (ms: number) => (offset += ms), fake, store, pd };
}

describe('claim faults on single rows', () => {
  it('sends only the rows whose claim failed fail open, the rest once, and none twice after the relay', async () => {
    // Prepare: 3 of 10 claim rows fail with a row error that is not retried (not applied).
    const { bridge, accepted, advance, fake } = await setUp();
    let row = 0;
    fake.faults.add({
      op: 'BatchWriteRow',
      when: isClaim,
      times: Number.POSITIVE_INFINITY,
      action: {
        kind: 'rowError',
        code: 'OTSParameterInvalid',
        rows: (table) => table === TABLE && row++ % 3 === 1,
      },
    });
    const fingerprints = Array.from({ length: 10 }, (_, i) => `c-${i}`);

    // Act
    const response = await bridge.post(callback(fingerprints));
    advance(120_000);
    await bridge.tick();

    // Assess
    expect(response.statusCode).toBeLessThan(300);
    expect(response.json).toMatchObject({ delivered: 10, duplicates: 0, degraded: 'store-unavailable', lost: 0 });
    expect([...accepted()].sort()).toEqual([...fingerprints].sort());
  });
});

describe('a claim row that fails for a delivery planned not to be sent', () => {
  it('never pages a trigger whose resolve arrived first, although its claim failed', async () => {
    // Prepare: the resolve of an occurrence arrives at one instance (and is stored) before its trigger reaches
    // another; then every claim row fails.
    const { bridge, other, accepted, fake, pd } = await setUp();
    const resolve = JSON.stringify({
      ...sample,
      status: 'resolved',
      alerts: [{ ...sample.alerts[0], fingerprint: 'late-trigger', status: 'resolved' }],
    });
    const trigger = callback(['late-trigger']);
    expect((await bridge.post(resolve)).statusCode).toBeLessThan(300);
    fake.faults.add({
      op: 'BatchWriteRow',
      when: (info) => info.tables.includes(TABLE),
      times: Number.POSITIVE_INFINITY,
      action: { kind: 'rowError', code: 'OTSParameterInvalid', rows: (table) => table === TABLE },
    });

    // Act
    const response = await other().post(trigger);

    // Assess: the trigger's claim failed, and it still is not sent: PagerDuty would open an incident nothing closes.
    expect(response.statusCode).toBeLessThan(300);
    expect(response.json).toMatchObject({ delivered: 0, lost: 0 });
    const triggers = pd
      .accepted()
      .filter((request) => (request.body as { event_action: string }).event_action === 'trigger');
    expect(triggers).toEqual([]);
    expect(accepted()).toEqual(['late-trigger']);
  });
});

describe('a claim whose due-index entry did not land', () => {
  it('is undone and sent fail open; where the undo fails too, the next claim of its key indexes it again', async () => {
    // Prepare: the claim's due entry fails, then its re-put, then the undo of the main row.
    const { bridge, accepted, advance, fake, store } = await setUp();
    const DUE = dueTableName(TABLE);
    const only = (name: string) => (info: { tables: string[] }) => info.tables.length === 1 && info.tables[0] === name;
    const rowFault = { kind: 'rowError' as const, code: 'OTSParameterInvalid' };
    fake.faults.add({ op: 'BatchWriteRow', when: isClaim, action: { ...rowFault, rows: (table) => table === DUE } });
    fake.faults.add({ op: 'BatchWriteRow', when: only(DUE), action: rowFault });
    fake.faults.add({ op: 'BatchWriteRow', when: only(TABLE), action: rowFault });

    // Act 1: the callback; its row is left claimed but not indexed.
    const first = await bridge.post(callback(['stuck']));
    const entriesAfterFirst = fake.tables.count(DUE);

    // Act 2: ARMS repeats the notification; later the relay runs, past the lease.
    const repeat = await bridge.post(callback(['stuck']));
    const entriesAfterRepeat = fake.tables.count(DUE);
    advance(120_000);
    const report = await bridge.tick();

    // Assess: delivered fail open at once; the stuck row is visible again after the repeat and finished by the relay.
    expect(first.json).toMatchObject({ delivered: 1, degraded: 'store-unavailable', lost: 0 });
    expect(entriesAfterFirst).toBe(0);
    expect(repeat.json).toMatchObject({ duplicates: 1 });
    expect(entriesAfterRepeat).toBe(1);
    expect(report.relay).toMatchObject({ delivered: 1 });
    expect(accepted()).toEqual(['stuck', 'stuck']);
    expect((await store.list()).map((row) => row.status)).toEqual(['DELIVERED']);
  });
});
