/**
 * Pacing of throttled hub calls, shared by every resource of one provider process (issue #5, scale
 * under quotas). IoT Hub answers over-quota calls with 429 and no `Retry-After` (docs/iot-hub-behaviour.md §5),
 * after holding them briefly (traffic shaping). When each resource backs off on its own,
 * the quota's tokens wait for jittered backoffs to come round (bench/scale.ts: 1.18x the quota floor).
 * A pacer per (hub, throttle class) instead releases the throttled calls one at a time, `gapMs`
 * apart, and adapts the gap like TCP's congestion control: multiplicatively slower on a 429,
 * slightly faster on each success. Sent slightly faster than the quota, calls wait in the hub's
 * shaping queue rather than in our timers, so the hub is never idle while work is pending.
 *
 * Pure: the clock is passed in; the queue and its timer live at the edge (dynamic-providers/hub-pacer.ts).
 */

/** IoT Hub's throttle classes a provider call falls in (docs/iot-hub-behaviour.md §5). */
export type HubLane = 'identityRegistry' | 'twinRead' | 'twinUpdate' | 'configuration';

export interface PacerPolicy {
  /** The gap when pacing starts (the quota is unknown until the hub pushes back). */
  initialGapMs: number;
  minGapMs: number;
  maxGapMs: number;
  /** Gap multiplier on a 429 (> 1). */
  slowFactor: number;
  /** Gap multiplier on a success while pacing (< 1). */
  speedFactor: number;
  /** Pacing continues this long after the last 429, so new calls do not rush a bucket just refilled. */
  quietMs: number;
}

/**
 * Identity operations on S1 allow one every 600 ms per unit, twin updates one every 20 ms (§5):
 * starting at 100 ms, a few 429s or a few dozen successes reach either. 1.5 up / 0.95 down gives
 * about eight successes per 429 at equilibrium: cheap pushback, and a gap that stays near the quota.
 */
export const DEFAULT_PACER_POLICY: PacerPolicy = {
  initialGapMs: 100,
  minGapMs: 5,
  maxGapMs: 15_000,
  slowFactor: 1.5,
  speedFactor: 0.95,
  quietMs: 2_000,
};

/**
 * Configuration operations allow 20/min per unit on every tier (§5), one every 3 s at one unit: five
 * times slower than identity operations on S1, 150 times slower than twin updates. Starting at 1 s,
 * three 429s reach the one-unit rate (a start at 100 ms would need nine, each one more call the hub
 * refuses). Pacing lasts two token periods at
 * one unit after the last 429, so a convergence wait polling once a second does not rush back into
 * the bucket it just emptied.
 */
export const CONFIGURATION_PACER_POLICY: PacerPolicy = {
  ...DEFAULT_PACER_POLICY,
  initialGapMs: 1_000,
  quietMs: 6_000,
};

/** The policy of a lane: its quota's order of magnitude decides where pacing starts. */
export function pacerPolicyFor(lane: HubLane): PacerPolicy {
  return lane === 'configuration' ? CONFIGURATION_PACER_POLICY : DEFAULT_PACER_POLICY;
}

export interface PacerState {
  gapMs: number;
  /** When the last 429 was seen. */
  lastThrottledMs?: number;
  /** When the gap last grew: a 429 for a call sent before then is the same congestion, counted once. */
  lastSlowdownMs?: number;
}

export function initialPacerState(policy: PacerPolicy): PacerState {
  return { gapMs: policy.initialGapMs };
}

/** Whether a call must queue for its turn: others are queued, or the hub pushed back recently. */
export function isPacing(state: PacerState, policy: PacerPolicy, nowMs: number, queued: number): boolean {
  if (queued > 0) return true;
  return state.lastThrottledMs !== undefined && nowMs - state.lastThrottledMs < policy.quietMs;
}

/**
 * A call sent at `sentMs` was answered 429 at `nowMs`. The gap grows once per round of congestion:
 * calls already in flight when it last grew were paced by the old gap, and their 429s say nothing new.
 */
export function afterThrottled(
  state: PacerState,
  policy: PacerPolicy,
  sentMs: number,
  nowMs: number,
): PacerState {
  const alreadyCounted = state.lastSlowdownMs !== undefined && sentMs < state.lastSlowdownMs;
  if (alreadyCounted) return { ...state, lastThrottledMs: nowMs };
  const grown = Math.max(state.gapMs, policy.minGapMs) * policy.slowFactor;
  return { gapMs: Math.min(policy.maxGapMs, grown), lastThrottledMs: nowMs, lastSlowdownMs: nowMs };
}

/** A call succeeded: while pacing, probe a little faster. Outside pacing the gap is kept for next time. */
export function afterSuccess(state: PacerState, policy: PacerPolicy, pacing: boolean): PacerState {
  if (!pacing) return state;
  return { ...state, gapMs: Math.max(policy.minGapMs, state.gapMs * policy.speedFactor) };
}
