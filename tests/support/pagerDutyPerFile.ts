/**
 * The fake PagerDuty's lifecycle in a test file, so no file repeats the same hooks:
 * - `fakePagerDutyPerFile()`: one fake for the whole file (or the `describe` block it is called in), started before its
 *   first test, closed after its last, and what each test made of it. `sinceTest()` is the events since the current
 *   test began (or since its last `mark()`).
 * - `fakePagerDutyPerTest()`: fakes a test (or its `beforeEach`) starts, each with its own options, all closed after
 *   that test, the ones a failed test left behind too.
 * The fake itself stays in `fakePagerDuty.ts`, which the benchmarks import outside vitest.
 *
 * @example
 * const fake = fakePagerDutyPerFile({ eachTest: (pd) => pd.setLatency(0) });
 * it('…', () => { … expect(fake.sinceTest()).toHaveLength(1); });
 *
 * const pagerDuty = fakePagerDutyPerTest();
 * it('…', async () => { const pd = await pagerDuty.start({ rateLimit: { limit: 10, windowMs: 60_000 } }); … });
 */
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import {
  type FakePagerDuty,
  type FakePagerDutyOptions,
  type ReceivedRequest,
  startFakePagerDuty,
} from './fakePagerDuty';

interface PagerDutyPerFile {
  /** The running fake (only inside tests and hooks). */
  readonly pd: FakePagerDuty;
  /** Its events since the current test began, or since `mark()`. */
  sinceTest(): ReceivedRequest[];
  /** Counts from here on. */
  mark(): void;
}

/**
 * @param options.fake how the fake starts (latency, rate limit).
 * @param options.eachTest what every test starts from (e.g. no latency, no requests kept), applied before each test.
 */
function fakePagerDutyPerFile(
  options: { fake?: FakePagerDutyOptions; eachTest?: (pd: FakePagerDuty) => void } = {},
): PagerDutyPerFile {
  let started: FakePagerDuty | undefined;
  let baseline = 0;
  const running = (): FakePagerDuty => {
    if (started === undefined) throw new Error('the fake PagerDuty runs only inside the tests of its file');
    return started;
  };
  beforeAll(async () => {
    started = await startFakePagerDuty(options.fake);
  });
  afterAll(async () => {
    await started?.close();
  });
  beforeEach(() => {
    baseline = running().events.length;
    options.eachTest?.(running());
  });
  return {
    get pd() {
      return running();
    },
    sinceTest: () => running().events.slice(baseline),
    mark: () => {
      baseline = running().events.length;
    },
  };
}

interface PagerDutyPerTest {
  /** Starts a fake closed after the current test. */
  start(options?: FakePagerDutyOptions): Promise<FakePagerDuty>;
}

/** Call it before the file's own `afterEach`, so those run first (vitest runs after-hooks in reverse order). */
function fakePagerDutyPerTest(): PagerDutyPerTest {
  const open: FakePagerDuty[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((pd) => pd.close()));
  });
  return {
    start: async (options) => {
      const pd = await startFakePagerDuty(options);
      open.push(pd);
      return pd;
    },
  };
}

export type { PagerDutyPerFile, PagerDutyPerTest };
export { fakePagerDutyPerFile, fakePagerDutyPerTest };
