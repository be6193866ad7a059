import { describe, expect, it } from 'vitest';
import { Secret } from '../../../shared/config/Secret';
import { DeliveryMode, DeliveryStatus, EventAction, Severity } from '../../../shared/constants';
import { NO_OCCURRENCE } from '../../../shared/delivery/deliveryKey';
import {
  firstState,
  inlineCount,
  isTakeover,
  type LaneProgress,
  markerAdvances,
  tallyOutcomes,
} from '../../../shared/delivery/deliveryRules';
import type { OrderVerdict } from '../../../shared/delivery/ordering';
import type { DeliveryRecord } from '../../../shared/store/DeliveryRecord';

const NOW = 1_000_000;
const ROUTE = {
  name: 'default',
  routingKey: new Secret('RULESROUTINGKEY00000000000000001'),
  mode: DeliveryMode.PER_ALERT,
};

function record(overrides: Partial<DeliveryRecord> = {}): DeliveryRecord {
  return {
    deliveryKey: 'd1-x',
    dedupKey: 'k',
    occurrence: 100,
    action: EventAction.TRIGGER,
    routeName: 'default',
    status: DeliveryStatus.PENDING,
    version: 1,
    event: {
      event_action: 'trigger',
      dedup_key: 'k',
      payload: { summary: 's', source: 'x', severity: Severity.ERROR },
    },
    attempts: 0,
    createdAt: NOW,
    updatedAt: NOW,
    expiresAt: NOW * 10,
    ...overrides,
  };
}

describe('Function: firstState', () => {
  const counterpart = record({ deliveryKey: 'd1-c', action: EventAction.RESOLVE });
  it.each<{ case: string; verdict: OrderVerdict; dryRun?: boolean; noKey?: boolean; status: string; extra?: object }>([
    { case: 'dry-run: final, never sent', verdict: { kind: 'send' }, dryRun: true, status: 'DRY_RUN' },
    {
      case: 'send: leased to this invocation',
      verdict: { kind: 'send' },
      status: 'SENDING',
      extra: { leaseUntil: NOW + 30_000 },
    },
    {
      case: 'send without a key: dead',
      verdict: { kind: 'send' },
      noKey: true,
      status: 'DEAD',
      extra: { lastError: 'no routing key for route "default"' },
    },
    {
      case: 'supersede: final, with the reason',
      verdict: { kind: 'supersede', reason: 'r' },
      status: 'SUPERSEDED',
      extra: { lastError: 'r' },
    },
    {
      case: 'defer: held at most a recheck',
      verdict: { kind: 'defer', until: NOW + 30_000 },
      status: 'PENDING',
      extra: { nextAttemptAt: NOW + 2_000 },
    },
  ])('$case', ({ verdict, dryRun, noKey, status, extra }) => {
    // Act
    const planned = firstState({
      record: record(),
      route: noKey ? { ...ROUTE, routingKey: undefined } : ROUTE,
      dryRun: dryRun === true,
      verdict,
      counterpart,
      leaseMs: 30_000,
      now: NOW,
    });

    // Assess
    expect(planned.record).toMatchObject({ status, ...extra });
  });

  it.each<{ verdict: OrderVerdict; stops: boolean }>([
    { verdict: { kind: 'send', stopTrigger: true }, stops: true },
    { verdict: { kind: 'send' }, stops: false },
    { verdict: { kind: 'supersede', reason: 'r', supersedeTrigger: true }, stops: true },
    { verdict: { kind: 'supersede', reason: 'r' }, stops: false },
  ])('stops the counterpart trigger when the verdict says so: $verdict', ({ verdict, stops }) => {
    const planned = firstState({
      record: record(),
      route: ROUTE,
      dryRun: false,
      verdict,
      counterpart,
      leaseMs: 1,
      now: NOW,
    });
    expect(planned.stopTrigger).toBe(stops ? counterpart : undefined);
  });

  it.each([
    { action: EventAction.TRIGGER, verdict: { kind: 'defer', until: NOW + 30_000 } as OrderVerdict, behind: true },
    { action: EventAction.RESOLVE, verdict: { kind: 'defer', until: NOW + 30_000 } as OrderVerdict, behind: undefined },
    { action: EventAction.TRIGGER, verdict: { kind: 'send' } as OrderVerdict, behind: undefined },
  ])(
    'marks a $action held by "$verdict.kind" as waiting behind the older resolve: $behind',
    ({ action, verdict, behind }) => {
      // Act: a deferred trigger waits behind the older occurrence's resolve (a resolve waits for its own trigger).
      const planned = firstState({
        record: record({ action }),
        route: ROUTE,
        dryRun: false,
        verdict,
        leaseMs: 1,
        now: NOW,
      });

      // Assess
      expect(planned.behindOlderResolve).toBe(behind);
    },
  );
});

describe('Function: isTakeover', () => {
  const DAY = 86_400_000;
  it.each([
    { status: DeliveryStatus.DELIVERED, age: DAY, takeover: true },
    { status: DeliveryStatus.DELIVERED, age: DAY - 1, takeover: false },
    { status: DeliveryStatus.DEAD, age: DAY * 2, takeover: true },
    { status: DeliveryStatus.SUPERSEDED, age: DAY * 2, takeover: true },
    { status: DeliveryStatus.DRY_RUN, age: DAY * 2, takeover: true },
    { status: DeliveryStatus.RETRY, age: DAY * 2, takeover: false },
    { status: DeliveryStatus.SENDING, age: DAY * 2, takeover: false },
  ])('$status, $age ms old: $takeover', ({ status, age, takeover }) => {
    expect(isTakeover(record({ status, createdAt: NOW - age }), DAY, NOW)).toBe(takeover);
  });
});

describe('Function: markerAdvances', () => {
  const marker = (latestOccurrence: number, version = 1) => ({
    dedupKey: 'k',
    latestOccurrence,
    version,
    updatedAt: 0,
    expiresAt: NOW * 10,
  });
  it.each([
    {
      case: 'no marker: version 1 at the newest occurrence',
      occurrences: [100, 300, 200],
      marker: undefined,
      write: { latestOccurrence: 300, version: 1 },
    },
    {
      case: 'an older marker: moved forward',
      occurrences: [300],
      marker: marker(200, 4),
      write: { latestOccurrence: 300, version: 5 },
    },
    { case: 'the same occurrence: no write', occurrences: [300], marker: marker(300), write: undefined },
    { case: 'a newer marker: no write (never backwards)', occurrences: [100], marker: marker(300), write: undefined },
    {
      case: 'no occurrence (no startsAt): no write',
      occurrences: [NO_OCCURRENCE],
      marker: undefined,
      write: undefined,
    },
  ])('$case', ({ occurrences, marker: existing, write }) => {
    // Act
    const writes = markerAdvances(
      occurrences.map((occurrence) => record({ occurrence })),
      new Map(existing === undefined ? [] : [['k', existing]]),
      60_000,
      NOW,
    );

    // Assess
    expect(writes).toEqual(
      write === undefined ? [] : [{ dedupKey: 'k', ...write, updatedAt: NOW, expiresAt: NOW + 60_000 }],
    );
  });
});

describe('Function: tallyOutcomes', () => {
  it('counts delivered, dead and queued, and failures by reason', () => {
    const tally = tallyOutcomes([
      { record: record({ status: DeliveryStatus.DELIVERED }) },
      { record: record({ status: DeliveryStatus.RETRY }), reason: 'server' },
      { record: record({ status: DeliveryStatus.RETRY }), reason: 'rate-limited' },
      { record: record({ status: DeliveryStatus.DEAD }), reason: 'client' },
      { record: record({ status: DeliveryStatus.RETRY }), reason: 'server' },
    ]);
    expect(tally).toEqual({ delivered: 1, dead: 1, queued: 3, failures: { server: 2, 'rate-limited': 1, client: 1 } });
  });
});

describe('Function: inlineCount', () => {
  const FLOOR = 256;
  const progress = (overrides: Partial<LaneProgress> = {}): LaneProgress => ({
    leased: 0,
    backlog: 0,
    answered: 0,
    sendingForMs: 0,
    open: true,
    ...overrides,
  });

  it.each([
    { case: 'a first chunk, window open', lane: progress(), count: 100, windowMs: 750, inline: 100 },
    {
      case: 'up to the floor without a measure',
      lane: progress({ leased: 200, backlog: 200 }),
      count: 100,
      windowMs: 750,
      inline: 56,
    },
    {
      case: 'past the floor, nothing measured yet',
      lane: progress({ leased: 300, backlog: 150 }),
      count: 100,
      windowMs: 750,
      inline: 0,
    },
    // 2 answers per ms: 1,500 start in 750 ms, 150 of them the backlog.
    {
      case: 'past the floor, the measured pace starts all of it in the window',
      lane: progress({ leased: 300, backlog: 150, answered: 200, sendingForMs: 100 }),
      count: 100,
      windowMs: 750,
      inline: 100,
    },
    // 0.2 answers per ms: 150 start in 750 ms, all of them the backlog.
    {
      case: 'past the floor, the measured pace starts only the backlog',
      lane: progress({ leased: 300, backlog: 150, answered: 20, sendingForMs: 100 }),
      count: 100,
      windowMs: 750,
      inline: 0,
    },
    // 0.2 answers per ms: 40 start in 200 ms, 10 of them the backlog.
    {
      case: 'past the floor, the measured pace starts part of it',
      lane: progress({ leased: 300, backlog: 10, answered: 20, sendingForMs: 100 }),
      count: 100,
      windowMs: 200,
      inline: 30,
    },
    { case: 'the window has closed', lane: progress(), count: 1, windowMs: 0, inline: 0 },
    {
      case: 'the lane has stopped (gate, deadline, store)',
      lane: progress({ open: false }),
      count: 1,
      windowMs: 750,
      inline: 0,
    },
  ])('$case', ({ lane, count, windowMs, inline }) => {
    // Act
    const leased = inlineCount(lane, count, windowMs, FLOOR);

    // Assess
    expect(leased).toBe(inline);
  });
});
