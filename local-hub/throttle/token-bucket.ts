/**
 * Pure token-bucket math with an explicit clock (docs/iot-hub-behaviour.md §5: IoT Hub queues over-limit traffic
 * first — traffic shaping — and only then rejects with 429). A bucket holds up to one quota period's
 * worth of operations and refills continuously. A taker that finds too few tokens may reserve them
 * (the balance goes negative) if the wait is within the queue limit; the returned wait says how long
 * it must sleep before proceeding. Beyond the limit nothing is reserved and the call is refused.
 */

export interface BucketParams {
  /** Maximum tokens (one quota period's worth). */
  capacity: number;
  /** Tokens added per millisecond. */
  ratePerMs: number;
}

export interface BucketState {
  tokens: number;
  /** Clock reading (ms) the balance refers to. */
  at: number;
}

export type TakeResult =
  | { ok: true; state: BucketState; waitMs: number }
  | { ok: false; state: BucketState; waitMs: number };

export function fullBucket(params: BucketParams, now: number): BucketState {
  return { tokens: params.capacity, at: now };
}

export function refill(state: BucketState, params: BucketParams, now: number): BucketState {
  const elapsed = Math.max(0, now - state.at);
  return {
    tokens: Math.min(params.capacity, state.tokens + elapsed * params.ratePerMs),
    at: Math.max(now, state.at),
  };
}

/**
 * Takes `cost` tokens (clamped to the capacity, so a bulk call larger than the bucket can still run
 * once the bucket is full). `ok: false` leaves the (refilled) state unreserved.
 */
export function take(
  state: BucketState,
  params: BucketParams,
  cost: number,
  now: number,
  maxWaitMs: number,
): TakeResult {
  const current = refill(state, params, now);
  const after = current.tokens - Math.min(cost, params.capacity);
  const waitMs = after >= 0 ? 0 : Math.ceil(-after / params.ratePerMs);
  if (waitMs > maxWaitMs) return { ok: false, state: current, waitMs };
  return { ok: true, state: { tokens: after, at: current.at }, waitMs };
}
