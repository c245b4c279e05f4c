/**
 * The retry schedule for throttled/unavailable hub calls (lib/retry-backoff.ts) and the `withRetry`
 * runner, fed errors made by the SDK's own status-to-error translation (RestApiClient.translateError).
 */
import assert from 'node:assert/strict';
import { describe, mock, test } from 'node:test';
import { RestApiClient } from 'azure-iothub/dist/common-http/rest_api_client';
import fc from 'fast-check';
import { reportOutcome } from '../../dynamic-providers/hub-pacer';
import { withRetry } from '../../dynamic-providers/with-retry';
import {
  DEFAULT_RETRY_POLICY,
  nextRetryDelay,
  type RetryPolicy,
  stalledForMs,
} from '../../lib/retry-backoff';

const policy = fc
  .record({
    baseMs: fc.integer({ min: 1, max: 5_000 }),
    capMs: fc.integer({ min: 1, max: 60_000 }),
    budgetMs: fc.integer({ min: 0, max: 600_000 }),
  })
  .filter((p) => p.baseMs <= p.capMs);

describe('nextRetryDelay', () => {
  test('never exceeds the cap nor the remaining budget, and is never negative', () => {
    fc.assert(
      fc.property(
        policy,
        fc.nat(80),
        fc.nat(700_000),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (p, attempt, elapsed, random) => {
          const delay = nextRetryDelay(p, attempt, elapsed, random);
          if (elapsed >= p.budgetMs) {
            assert.equal(delay, null);
            return;
          }
          assert.notEqual(delay, null);
          assert.ok(delay! >= 0);
          assert.ok(delay! <= p.capMs);
          assert.ok(delay! <= p.budgetMs - elapsed);
        },
      ),
    );
  });

  test('is jittered within the upper half of the exponential ceiling', () => {
    fc.assert(
      fc.property(
        policy,
        fc.nat(20),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (p, attempt, random) => {
          const roomy: RetryPolicy = { ...p, budgetMs: Number.MAX_SAFE_INTEGER };
          const ceiling = Math.min(p.capMs, p.baseMs * 2 ** attempt);
          const delay = nextRetryDelay(roomy, attempt, 0, random)!;
          assert.ok(
            delay >= Math.floor(ceiling / 2) && delay <= ceiling,
            `${delay} outside [${ceiling / 2}, ${ceiling}]`,
          );
        },
      ),
    );
  });

  test('grows exponentially until the cap', () => {
    const p = { ...DEFAULT_RETRY_POLICY, budgetMs: Number.MAX_SAFE_INTEGER };
    const ceilings = [0, 1, 2, 3, 4, 5, 6].map((attempt) => nextRetryDelay(p, attempt, 0, 0.999_999)!);
    assert.deepEqual(ceilings, [499, 999, 1999, 3999, 7999, 14_999, 14_999]);
  });
});

/** What the SDK hands back for an HTTP error (docs/iot-hub-behaviour.md §1.4 legacy body). */
function sdkError(status: number, code: string): Error {
  const body = JSON.stringify({ Message: `ErrorCode:${code};test`, ExceptionMessage: '' });
  return RestApiClient.translateError(body, { statusCode: status, headers: {} } as any) as Error;
}

describe('withRetry', () => {
  const fast: RetryPolicy = { baseMs: 1, capMs: 2, budgetMs: 5_000 };

  test('retries 429 and 503 until the call succeeds', async () => {
    const failures = [sdkError(429, 'ThrottlingException'), sdkError(503, 'ServiceUnavailable')];
    let calls = 0;
    const result = await withRetry(
      async () => {
        calls++;
        const next = failures.shift();
        if (next) throw next;
        return 'done';
      },
      { policy: fast },
    );
    assert.equal(result, 'done');
    assert.equal(calls, 3);
  });

  test('retries a reset connection', async () => {
    let calls = 0;
    const result = await withRetry(
      async () => {
        if (calls++ === 0) throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
        return calls;
      },
      { policy: fast },
    );
    assert.equal(result, 2);
  });

  test('rethrows any other error at once', async () => {
    let calls = 0;
    await assert.rejects(
      withRetry(
        async () => {
          calls++;
          throw sdkError(409, 'DeviceAlreadyExists');
        },
        { policy: fast },
      ),
      (err: Error) => err.name === 'DeviceAlreadyExistsError',
    );
    assert.equal(calls, 1);
  });

  test('gives up with the last error when the budget is spent', async () => {
    let calls = 0;
    await assert.rejects(
      withRetry(
        async () => {
          calls++;
          throw sdkError(429, 'ThrottlingBacklogTimeout');
        },
        { policy: { baseMs: 1, capMs: 1, budgetMs: 0 } },
      ),
      (err: Error) => err.name === 'ThrottlingError',
    );
    assert.equal(calls, 1);
  });
});

describe('retry budget counts time without progress', () => {
  test('stalled time runs from the later of the call start and the last success', () => {
    assert.equal(stalledForMs(10_000, 1_000, undefined), 9_000);
    assert.equal(stalledForMs(10_000, 1_000, 500), 9_000, 'a success before the call started does not count');
    assert.equal(stalledForMs(10_000, 1_000, 8_000), 2_000);
  });

  test('the absolute ceiling ends retrying even while the hub makes progress', () => {
    const p: RetryPolicy = { baseMs: 10, capMs: 10, budgetMs: 1_000, maxTotalMs: 5_000 };
    assert.notEqual(nextRetryDelay(p, 3, 100, 0.5, 4_000), null);
    assert.equal(nextRetryDelay(p, 3, 100, 0.5, 5_000), null);
    assert.ok(nextRetryDelay(p, 3, 100, 0.99, 4_995)! <= 5, 'never past the ceiling');
  });

  test('a throttled call outlives its budget while other calls succeed, and gives up once they stop', async () => {
    const policy: RetryPolicy = { baseMs: 1, capMs: 2, budgetMs: 40, maxTotalMs: 10_000 };
    let othersSucceeding = true;
    const others = (async () => {
      while (othersSucceeding) {
        await withRetry(async () => 'ok', { policy });
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
    let calls = 0;
    const queued = await withRetry(
      async () => {
        calls++;
        // Throttled for well past the 40 ms budget (each retry waits at least 0.5 ms).
        if (calls < 150) throw sdkError(429, 'ThrottlingException');
        return 'accepted';
      },
      { policy },
    );
    assert.equal(queued, 'accepted');
    othersSucceeding = false;
    await others;

    await assert.rejects(
      withRetry(
        async () => {
          throw sdkError(429, 'ThrottlingException');
        },
        { policy },
      ),
      (err: Error) => err.name === 'ThrottlingError',
    );
  });
});

/**
 * On a paced lane only a 429 waits in the lane instead of a backoff (the pacer owns the rate). A 503 or a
 * dropped connection says nothing about a rate, so it must still wait its backoff, whether or not the lane
 * is pacing; without the wait a hub that is down would be hammered in a tight loop. Mocked time: the check
 * is exact and independent of machine load.
 */
describe('withRetry on a paced lane: transient errors other than 429 still back off', () => {
  // Every backoff delay lies in [5 s, 10 s]: far longer than the lane's gap (~100 ms) and than zero.
  const slow: RetryPolicy = { baseMs: 10_000, capMs: 10_000, budgetMs: 600_000 };
  const minimumBackoffMs = slow.baseMs / 2;
  const transient: [string, () => Error][] = [
    ['503', () => sdkError(503, 'ServiceUnavailable')],
    ['a dropped connection', () => Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })],
  ];
  let laneNumber = 0;

  /** Lets promise chains and the pacer's due timers run, advancing mocked time by `ms` in small steps. */
  async function advance(ms: number): Promise<void> {
    for (let spent = 0; spent < ms; spent += 10) {
      for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
      mock.timers.tick(Math.min(10, ms - spent));
    }
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
  }

  for (const [what, error] of transient) {
    for (const pacing of [false, true]) {
      test(`${what} on a ${pacing ? 'pacing' : 'quiet'} lane waits the backoff before the retry`, async () => {
        mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 10_000_000 });
        try {
          const paced = { hostName: `backoff-${++laneNumber}.local`, lane: 'identityRegistry' } as const;
          // A recent 429 makes the lane pace every call (hub-pacer.ts), gap ~150 ms.
          if (pacing) reportOutcome(paced, 'throttled', Date.now());
          const sentAt: number[] = [];
          const call = withRetry(
            async () => {
              sentAt.push(Date.now());
              if (sentAt.length === 1) throw error();
              return 'done';
            },
            { paced, policy: slow },
          );
          await advance(minimumBackoffMs - 1);
          assert.equal(
            sentAt.length,
            1,
            `retried ${sentAt.map((t) => t - sentAt[0]!).join(', ')} ms after the first attempt; ` +
              `the backoff is at least ${minimumBackoffMs} ms`,
          );
          await advance(slow.capMs);
          assert.equal(await call, 'done');
          assert.equal(sentAt.length, 2);
        } finally {
          mock.timers.reset();
        }
      });
    }
  }
});
