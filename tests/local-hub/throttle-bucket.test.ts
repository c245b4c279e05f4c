import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createRequestThrottle, validateThrottleOptions } from '../../local-hub/throttle/request-throttle';
import { tierQuotas } from '../../local-hub/throttle/throttle-quotas';
import { fullBucket, refill, take } from '../../local-hub/throttle/token-bucket';

describe('token bucket math', () => {
  const params = { capacity: 10, ratePerMs: 0.01 }; // 10 per second

  test('a full bucket serves its capacity at once, then refills continuously up to the capacity', () => {
    let state = fullBucket(params, 0);
    for (let i = 0; i < 10; i++) {
      const r = take(state, params, 1, 0, 0);
      assert.ok(r.ok);
      assert.equal(r.waitMs, 0);
      state = r.state;
    }
    assert.equal(take(state, params, 1, 0, 0).ok, false, 'empty and no queue allowed');
    assert.equal(refill(state, params, 500).tokens, 5);
    assert.equal(refill(state, params, 60_000).tokens, 10, 'never above capacity');
  });

  test('within the queue limit a taker reserves tokens and is told how long to wait', () => {
    const empty = { tokens: 0, at: 0 };
    const first = take(empty, params, 1, 0, 250);
    assert.deepEqual(first, { ok: true, state: { tokens: -1, at: 0 }, waitMs: 100 });
    const second = take(first.state, params, 1, 0, 250);
    assert.equal(second.waitMs, 200);
    const third = take(second.state, params, 1, 0, 250);
    assert.deepEqual(
      third,
      { ok: false, state: { tokens: -2, at: 0 }, waitMs: 300 },
      'refused: nothing reserved',
    );
    assert.equal(
      take(third.state, params, 1, 300, 250).waitMs,
      0,
      'the reserved tokens were paid back by 300 ms',
    );
  });

  test('a cost above the capacity is clamped, so a large bulk call can still run on a full bucket', () => {
    const r = take(fullBucket(params, 0), params, 25, 0, 0);
    assert.ok(r.ok);
    assert.equal(r.state.tokens, 0);
  });
});

describe('tier quotas (docs/iot-hub-behaviour.md §5)', () => {
  test('per-unit and flat rates by tier', () => {
    const s1 = tierQuotas('S1', 2);
    assert.deepEqual(s1.identityRegistry, { amount: 200, periodMs: 60_000 });
    assert.deepEqual(s1.twinRead, { amount: 100, periodMs: 1000 }, 'S1 twin reads are flat');
    assert.deepEqual(s1.twinUpdate, { amount: 50, periodMs: 1000 });
    assert.deepEqual(s1.query, { amount: 40, periodMs: 60_000 });
    const s2 = tierQuotas('S2', 20);
    assert.equal(s2.twinRead.amount, 200, 'max(100/s, 10/s/unit)');
    assert.equal(s2.twinUpdate.amount, 100, 'max(50/s, 5/s/unit)');
    assert.equal(tierQuotas('S2', 1).twinRead.amount, 100);
    const s3 = tierQuotas('S3', 2);
    assert.deepEqual(s3.identityRegistry, { amount: 10_000, periodMs: 60_000 });
    assert.equal(s3.twinRead.amount, 1000);
    assert.equal(s3.twinUpdate.amount, 500);
    assert.equal(s3.query.amount, 2000);
    assert.deepEqual(tierQuotas('F1', 1), tierQuotas('S1', 1));
  });

  test('tier and units are validated with the valid values', () => {
    assert.deepEqual(validateThrottleOptions('S1', 200), []);
    assert.match(validateThrottleOptions('B1', 1)[0]!, /valid tiers: F1, S1, S2, S3/);
    assert.match(validateThrottleOptions('F1', 2)[0]!, /1 to 1 for F1/);
    assert.match(validateThrottleOptions('S3', 11)[0]!, /1 to 10 for S3/);
    assert.match(validateThrottleOptions('S2', 1.5)[0]!, /integer/);
    assert.throws(() => createRequestThrottle({ tier: 'S3', units: 0 }), /units must be an integer/);
  });
});

describe('request throttle', () => {
  /** Settles `p` against a zero-delay race, without waiting for real time to pass. */
  async function settled(p: Promise<void>): Promise<'resolved' | 'pending' | Error> {
    return Promise.race([
      p.then(
        () => 'resolved' as const,
        (e: Error) => e,
      ),
      new Promise<'pending'>((resolve) => setImmediate(() => resolve('pending'))),
    ]);
  }

  test('queues a little, then refuses with 429 ThrottlingException; classes are independent', async () => {
    const throttle = createRequestThrottle({ tier: 'S1', units: 1, now: () => 0, maxQueueMs: 5000 });
    try {
      // Queries on S1: 20/min, so each extra query needs 3 s of refill.
      for (let i = 0; i < 20; i++) assert.equal(await settled(throttle.acquire('query')), 'resolved');
      const queued = throttle.acquire('query');
      assert.equal(await settled(queued), 'pending', 'the 21st waits (traffic shaping)');
      const refused = await settled(throttle.acquire('query'));
      assert.ok(refused instanceof Error);
      assert.equal((refused as any).status, 429);
      assert.equal((refused as any).code, 'ThrottlingException');
      assert.equal((refused as any).numericCode, 429001);
      assert.match(refused.message, /queries exceed the S1 quota of 20\/min for 1 unit/);
      assert.equal(await settled(throttle.acquire('twinRead')), 'resolved', 'another class is unaffected');
      throttle.close();
      assert.equal(await settled(queued), 'resolved', 'close releases queued requests');
    } finally {
      throttle.close();
    }
  });

  test('a bulk cost counts each device', async () => {
    let now = 0;
    const throttle = createRequestThrottle({ tier: 'F1', units: 1, now: () => now, maxQueueMs: 0 });
    assert.equal(await settled(throttle.acquire('identityRegistry', 60)), 'resolved');
    assert.equal(await settled(throttle.acquire('identityRegistry', 40)), 'resolved');
    assert.ok((await settled(throttle.acquire('identityRegistry', 1))) instanceof Error);
    now = 600; // 100/min refills one token every 600 ms
    assert.equal(await settled(throttle.acquire('identityRegistry', 1)), 'resolved');
    throttle.close();
  });
});
