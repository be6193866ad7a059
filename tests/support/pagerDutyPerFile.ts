/**
 * One fake PagerDuty for a whole test file: started before its first test, closed after its last, and what each test
 * made of it. `sinceTest()` is the events since the current test began (or since its last `mark()`). The fake itself
 * stays in `fakePagerDuty.ts`, which the benchmarks import outside vitest.
 */
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { type FakePagerDuty, type ReceivedRequest, startFakePagerDuty } from './fakePagerDuty';

interface PagerDutyPerFile {
  /** The running fake (only inside tests and hooks). */
  readonly pd: FakePagerDuty;
  /** Its events since the current test began, or since `mark()`. */
  sinceTest(): ReceivedRequest[];
  /** Counts from here on. */
  mark(): void;
}

/** @param options.eachTest what every test starts from (e.g. no latency), applied before each test. */
function fakePagerDutyPerFile(options: { eachTest?: (pd: FakePagerDuty) => void } = {}): PagerDutyPerFile {
  let started: FakePagerDuty | undefined;
  let baseline = 0;
  const running = (): FakePagerDuty => {
    if (started === undefined) throw new Error('the fake PagerDuty runs only inside the tests of its file');
    return started;
  };
  beforeAll(async () => {
    started = await startFakePagerDuty();
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

export type { PagerDutyPerFile };
export { fakePagerDutyPerFile };
