/**
 * The delay schedule for retrying throttled (429) and unavailable (503) hub calls.
 *
 * IoT Hub sends no `Retry-After` on 429 (prior-art: the community Terraform provider retries "with
 * jittered backoff on a time budget"; fact sheet §5: over-limit traffic is queued, then rejected with
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
  /** Total time (first attempt included) after which no further retry is scheduled. */
  budgetMs: number;
}

/**
 * Identity registry operations are limited to 100/min/unit on S1 (fact sheet §5), i.e. one every
 * 600 ms: starting at 500 ms and capping at 15 s lets a queue of throttled creates drain, and two
 * minutes covers the hub's traffic-shaping window without hanging a `pulumi up` indefinitely.
 */
export const DEFAULT_RETRY_POLICY: RetryPolicy = { baseMs: 500, capMs: 15_000, budgetMs: 120_000 };

/**
 * The delay before retry number `attempt` (0 = the first retry), or `null` when the budget is
 * spent. `random` is a number in [0, 1). The delay never exceeds `capMs` nor the remaining budget.
 */
export function nextRetryDelay(
  policy: RetryPolicy,
  attempt: number,
  elapsedMs: number,
  random: number,
): number | null {
  const remaining = policy.budgetMs - elapsedMs;
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
