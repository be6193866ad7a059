/**
 * The store is settled before an invocation answers, on success and on error: the answer waits for it (a controlled
 * interleaving: the settle is held until the test has seen the answer still pending).
 */
import middy from '@middy/core';
import { describe, expect, it } from 'vitest';
import { settleStore } from '../../../shared/middleware/settleStore';

/** A settle the test releases, and the order things happened in. */
function heldSettle() {
  const order: string[] = [];
  let release: () => void = () => {};
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  const settle = async () => {
    order.push('settling');
    await released;
    order.push('settled');
  };
  return { order, settle, release };
}

describe('Function: settleStore', () => {
  it.each([
    ['a handler that answers', false],
    ['a handler that throws', true],
  ])('answers only once the store is settled: %s', async (_case, fails) => {
    // Prepare
    const { order, settle, release } = heldSettle();
    const handler = middy(async () => {
      if (fails) throw new Error('handler failed');
      return 'answer';
    }).use(settleStore({ settle }));

    // Act: invoke, let every pending callback run, then release the settle.
    const answered = handler({}, {} as never).then(
      () => order.push('answered'),
      () => order.push('failed'),
    );
    await new Promise((resolve) => setImmediate(resolve));
    const beforeRelease = [...order];
    release();
    await answered;

    // Assess
    expect(beforeRelease).toEqual(['settling']);
    expect(order).toEqual(['settling', 'settled', fails ? 'failed' : 'answered']);
  });
});
