/**
 * Retries one hub call on throttling (429), unavailability (503) and broken sockets, on a time budget.
 * IoT Hub sends no `Retry-After` (docs/iot-hub-behaviour.md §5) and the service Registry does no retries of its own
 * (docs/iot-hub-behaviour.md §1.4). Any other error is rethrown at once: retrying a 400 or a 409 cannot succeed.
 *
 * A throttled call of a paced lane (hub host + throttle class) waits for its turn in the process-wide
 * pacer (hub-pacer.ts), which keeps the hub's quota busy without flooding it; other transient errors
 * use the jittered exponential schedule of lib/retry-backoff.ts.
 *
 * The budget counts time without progress: while other calls of this process keep succeeding, a
 * throttled call is merely queued behind them and keeps waiting (lib/retry-backoff.ts).
 */
import { DEFAULT_RETRY_POLICY, nextRetryDelay, type RetryPolicy, stalledForMs } from '../lib/retry-backoff';
import { hubStatusOf, isTransientHubError } from './hub-errors';
import { awaitTurn, type PacedLane, reportOutcome } from './hub-pacer';
import { processWide } from './process-wide';

export interface RetryOptions {
  /** The pacing lane of this call (hub host + throttle class); without one a 429 backs off on its own. */
  paced?: PacedLane;
  policy?: RetryPolicy;
}

export async function withRetry<T>(operation: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const { paced, policy = DEFAULT_RETRY_POLICY } = options;
  const progress = progressClock();
  const started = Date.now();
  for (let attempt = 0; ; attempt++) {
    const sentMs = paced ? await awaitTurn(paced) : Date.now();
    try {
      const result = await operation();
      progress.lastSuccessMs = Date.now();
      if (paced) reportOutcome(paced, 'success', sentMs);
      return result;
    } catch (err) {
      if (!isTransientHubError(err)) throw err;
      const throttled = hubStatusOf(err) === 429;
      if (paced && throttled) reportOutcome(paced, 'throttled', sentMs);
      const now = Date.now();
      const stalled = stalledForMs(now, started, progress.lastSuccessMs);
      const delay = nextRetryDelay(policy, attempt, stalled, Math.random(), now - started);
      if (delay === null) throw err;
      // A paced 429 waits in the lane (the next awaitTurn), not in a backoff of its own.
      if (!(paced && throttled)) await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

/** When a hub call of this process last succeeded (process-wide: every provider shares it). */
function progressClock(): { lastSuccessMs?: number } {
  return processWide('hub-progress', () => ({}) as { lastSuccessMs?: number });
}
