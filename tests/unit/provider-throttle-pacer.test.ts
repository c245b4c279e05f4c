/**
 * The process-wide pacer for throttled hub calls (lib/throttle-pacer.ts, dynamic-providers/hub-pacer.ts):
 * its pure rules, and a simulation in mocked time of many resources against the local hub's own
 * token bucket and traffic-shaping rule (local-hub/throttle), which must finish near the quota floor
 * with every call succeeding. Mocked time, so the check is exact and independent of machine load.
 */
import assert from 'node:assert/strict';
import { describe, mock, test } from 'node:test';
import { RestApiClient } from 'azure-iothub/dist/common-http/rest_api_client';
import fc from 'fast-check';
import { awaitTurn, reportOutcome } from '../../dynamic-providers/hub-pacer';
import { withRetry } from '../../dynamic-providers/with-retry';
import {
  afterSuccess,
  afterThrottled,
  DEFAULT_PACER_POLICY,
  initialPacerState,
  isPacing,
  type PacerState,
} from '../../lib/throttle-pacer';
import { DEFAULT_MAX_QUEUE_MS } from '../../local-hub/throttle/request-throttle';
import { bucketParams, tierQuotas } from '../../local-hub/throttle/throttle-quotas';
import { type BucketState, fullBucket, take } from '../../local-hub/throttle/token-bucket';

const policy = DEFAULT_PACER_POLICY;

describe('pacer rules', () => {
  test('the gap stays within its bounds whatever the sequence of outcomes', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), fc.nat(1000)), { maxLength: 300 }), (steps) => {
        let state: PacerState = initialPacerState(policy);
        let now = 0;
        for (const [throttled, advance] of steps) {
          now += advance;
          state = throttled
            ? afterThrottled(state, policy, now, now)
            : afterSuccess(state, policy, isPacing(state, policy, now, 0));
          assert.ok(state.gapMs >= policy.minGapMs && state.gapMs <= policy.maxGapMs, `gap ${state.gapMs}`);
        }
      }),
    );
  });

  test('429s of calls sent before the last slowdown count once', () => {
    const first = afterThrottled(initialPacerState(policy), policy, 1_000, 1_010);
    assert.equal(first.gapMs, policy.initialGapMs * policy.slowFactor);
    const sameRound = afterThrottled(first, policy, 1_005, 1_020);
    assert.equal(sameRound.gapMs, first.gapMs, 'sent before the slowdown: already counted');
    assert.equal(sameRound.lastThrottledMs, 1_020);
    const nextRound = afterThrottled(sameRound, policy, 1_030, 1_040);
    assert.equal(nextRound.gapMs, first.gapMs * policy.slowFactor);
  });

  test('pacing lasts while calls are queued or a 429 is recent; successes speed up only while pacing', () => {
    const throttled = afterThrottled(initialPacerState(policy), policy, 0, 0);
    assert.equal(isPacing(throttled, policy, policy.quietMs - 1, 0), true);
    assert.equal(isPacing(throttled, policy, policy.quietMs, 0), false);
    assert.equal(isPacing(throttled, policy, policy.quietMs, 3), true);
    assert.equal(isPacing(initialPacerState(policy), policy, 0, 0), false);
    assert.equal(afterSuccess(throttled, policy, false).gapMs, throttled.gapMs);
    assert.equal(afterSuccess(throttled, policy, true).gapMs, throttled.gapMs * policy.speedFactor);
  });
});

function throttlingError(): Error {
  const body = JSON.stringify({ Message: 'ErrorCode:ThrottlingException;over quota', ExceptionMessage: '' });
  return RestApiClient.translateError(body, { statusCode: 429, headers: {} } as any) as Error;
}

/**
 * The local hub's rule for one throttle class, in mocked time: take a token, wait in the shaping
 * queue up to DEFAULT_MAX_QUEUE_MS, else answer 429 at once.
 */
function simulatedHubClass(units: number) {
  const params = bucketParams(tierQuotas('S1', units).identityRegistry);
  let bucket: BucketState = fullBucket(params, Date.now());
  const counts = { accepted: 0, throttled: 0 };
  const call = async (): Promise<string> => {
    const taken = take(bucket, params, 1, Date.now(), DEFAULT_MAX_QUEUE_MS);
    bucket = taken.state;
    if (!taken.ok) {
      counts.throttled++;
      throw throttlingError();
    }
    await new Promise((resolve) => setTimeout(resolve, taken.waitMs));
    counts.accepted++;
    return 'created';
  };
  return { call, counts, params };
}

/** Advances mocked time in small steps, letting promise chains run between steps, until `done`. */
async function runMockedUntil(done: () => boolean, stepMs: number, limitMs: number): Promise<number> {
  const start = Date.now();
  while (!done()) {
    if (Date.now() - start > limitMs) throw new Error(`not done after ${limitMs} ms of mocked time`);
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
    mock.timers.tick(stepMs);
  }
  return Date.now() - start;
}

describe('pacing against the local hub throttle (mocked time)', () => {
  test('300 concurrent identity creates on S1 x 1 end within 10% of the quota floor, none failing', async () => {
    mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 });
    try {
      const hub = simulatedHubClass(1);
      const calls = 300;
      // Floor: the bucket's first `capacity` calls are free, the rest come at the refill rate.
      const floorMs = (calls - hub.params.capacity) / hub.params.ratePerMs;
      const paced = { hostName: 'pacer-simulation.local', lane: 'identityRegistry' } as const;
      let settled = 0;
      const failures: unknown[] = [];
      for (let i = 0; i < calls; i++) {
        withRetry(hub.call, { paced }).then(
          () => settled++,
          (err) => {
            settled++;
            failures.push(err);
          },
        );
      }
      const elapsed = await runMockedUntil(() => settled === calls, 2, 10 * floorMs);
      assert.deepEqual(failures, []);
      assert.equal(hub.counts.accepted, calls);
      const ratio = elapsed / floorMs;
      assert.ok(ratio <= 1.1, `took ${elapsed} ms against a floor of ${floorMs} ms (${ratio.toFixed(3)}x)`);
      // Pushback stays cheap: far fewer 429s than calls (each resource backing off alone sent ~5 per call).
      assert.ok(hub.counts.throttled < calls, `${hub.counts.throttled} throttled answers for ${calls} calls`);
    } finally {
      mock.timers.reset();
    }
  });
});

describe('pacer lanes', () => {
  test('a throttled lane paces its own calls only: other hubs and other throttle classes go at once', async () => {
    mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 5_000_000 });
    try {
      const throttled = { hostName: 'lane-a.local', lane: 'identityRegistry' } as const;
      reportOutcome(throttled, 'throttled', Date.now());
      let paced = false;
      const waiting = awaitTurn(throttled).then(() => {
        paced = true;
      });
      const otherHub = await awaitTurn({ hostName: 'lane-b.local', lane: 'identityRegistry' });
      const otherClass = await awaitTurn({ hostName: 'lane-a.local', lane: 'twinUpdate' });
      assert.equal(otherHub, Date.now(), 'another hub is not paced');
      assert.equal(otherClass, Date.now(), 'another throttle class of the same hub is not paced');
      await Promise.resolve();
      assert.equal(paced, false, 'the throttled lane waits for its turn');
      await runMockedUntil(() => paced, 5, 60_000);
      await waiting;
    } finally {
      mock.timers.reset();
    }
  });
});
