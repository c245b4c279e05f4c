/**
 * The delay schedule for retrying throttled (429) and unavailable (503) hub calls.
 *
 * IoT Hub sends no `Retry-After` on 429 (the community Terraform provider retries "with
 * jittered backoff on a time budget"; docs/iot-hub-behaviour.md §5: over-limit traffic is queued, then rejected with
 * 429). So the client picks the delay itself: exponential growth capped at `capMs`, with "equal
 * jitter" (half fixed, half random) so that many resources throttled at the same instant spread out
 * without any retry firing almost immediately, and a total time budget after which we give up.
 *
 * Pure: the random source and the clock are passed in, so the bounds are property-testable.
 */

export interface RetryPolicy {
  /** Delay ceiling before jitter for the first retry. */
  baseMs: number;
  /** No single delay exceeds this. */
  capMs: number;
  /**
   * How long a call may go on retrying while the hub makes no progress (no hub call of this process
   * succeeded meanwhile). Measured from the later of the call's start and the last success.
   */
  budgetMs: number;
  /** Absolute ceiling on one call's retrying, progress or not. Default: no ceiling beyond `budgetMs`. */
  maxTotalMs?: number;
}

/**
 * Identity registry operations are limited to 100/min/unit on S1 (docs/iot-hub-behaviour.md §5), i.e. one every
 * 600 ms: starting at 500 ms and capping at 15 s lets a queue of throttled creates drain. A stack
 * larger than the quota allows per two minutes is still fine as long as the hub keeps accepting
 * *some* calls, so the two-minute budget counts only time without progress (bench/scale.ts: with a
 * plain two-minute budget per call, a 1,000-module stack on S1 x 3 lost 147 resources); one hour
 * bounds a single call whatever happens.
 */
export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  baseMs: 500,
  capMs: 15_000,
  budgetMs: 120_000,
  maxTotalMs: 3_600_000,
};

/**
 * How long a call has waited without progress: since it started, or since the last successful hub
 * call (of any resource), whichever is later.
 */
export function stalledForMs(nowMs: number, startedMs: number, lastProgressMs: number | undefined): number {
  return nowMs - Math.max(startedMs, lastProgressMs ?? startedMs);
}

/**
 * The delay before retry number `attempt` (0 = the first retry), or `null` when the budget is
 * spent. `stalledMs` is the time without progress (`stalledForMs`), `totalMs` the call's whole
 * retrying time (defaults to `stalledMs`). `random` is a number in [0, 1). The delay never exceeds
 * `capMs` nor what is left of either budget.
 */
export function nextRetryDelay(
  policy: RetryPolicy,
  attempt: number,
  stalledMs: number,
  random: number,
  totalMs: number = stalledMs,
): number | null {
  const remaining = Math.min(
    policy.budgetMs - stalledMs,
    (policy.maxTotalMs ?? Number.POSITIVE_INFINITY) - totalMs,
  );
  if (remaining <= 0) return null;
  // 2 ** attempt overflows to Infinity for large attempts; Math.min keeps the ceiling finite.
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** Math.max(0, attempt));
  const jittered = ceiling / 2 + (ceiling / 2) * clampUnit(random);
  return Math.max(0, Math.min(Math.floor(jittered), remaining));
}

function clampUnit(value: number): number {
  if (!Number.isFinite(value) || value < 0) return 0;
  return Math.min(value, 1);
}
