/**
 * The process-wide queues behind lib/throttle-pacer.ts: one lane per (hub host, throttle class),
 * shared by every resource the provider host serves. A throttled call waits here for its turn; the
 * lane releases one waiter every `gapMs`, in arrival order.
 *
 * Lanes are process-wide (process-wide.ts): every provider in the host process shares them. Each
 * lane follows its class's policy (lib/throttle-pacer.ts `pacerPolicyFor`).
 */
import {
  afterSuccess,
  afterThrottled,
  type HubLane,
  initialPacerState,
  isPacing,
  type PacerPolicy,
  type PacerState,
  pacerPolicyFor,
} from '../lib/throttle-pacer';
import { processWide } from './process-wide';

export interface PacedLane {
  hostName: string;
  lane: HubLane;
}

interface LaneQueue {
  state: PacerState;
  waiters: Array<(releasedMs: number) => void>;
  timer?: ReturnType<typeof setTimeout>;
  nextReleaseMs: number;
}

function lanes(): Map<string, LaneQueue> {
  return processWide('hub-pacer', () => new Map<string, LaneQueue>());
}

const laneKey = (paced: PacedLane) => `${paced.hostName}\n${paced.lane}`;

function laneQueue(paced: PacedLane, policy: PacerPolicy): LaneQueue {
  const key = laneKey(paced);
  let lane = lanes().get(key);
  if (!lane) {
    lane = { state: initialPacerState(policy), waiters: [], nextReleaseMs: 0 };
    lanes().set(key, lane);
  }
  return lane;
}

/**
 * The lane's pacer state, or undefined when no call of this process has used it yet. For diagnostics
 * and tests: which lane a call joined, and whether the hub pushed back on it.
 */
export function laneState(paced: PacedLane): Readonly<PacerState> | undefined {
  const lane = lanes().get(laneKey(paced));
  return lane === undefined ? undefined : { ...lane.state };
}

/** Resolves with the time the call may be sent: at once unless the lane is pacing. */
export function awaitTurn(
  paced: PacedLane,
  policy: PacerPolicy = pacerPolicyFor(paced.lane),
): Promise<number> {
  const lane = laneQueue(paced, policy);
  const now = Date.now();
  if (!isPacing(lane.state, policy, now, lane.waiters.length)) return Promise.resolve(now);
  return new Promise((resolve) => {
    lane.waiters.push(resolve);
    scheduleRelease(lane);
  });
}

/** Feeds a call's outcome back into its lane. */
export function reportOutcome(
  paced: PacedLane,
  outcome: 'success' | 'throttled',
  sentMs: number,
  policy: PacerPolicy = pacerPolicyFor(paced.lane),
): void {
  const lane = laneQueue(paced, policy);
  const now = Date.now();
  lane.state =
    outcome === 'throttled'
      ? afterThrottled(lane.state, policy, sentMs, now)
      : afterSuccess(lane.state, policy, isPacing(lane.state, policy, now, lane.waiters.length));
}

function scheduleRelease(lane: LaneQueue): void {
  if (lane.timer !== undefined || lane.waiters.length === 0) return;
  const wait = Math.max(0, lane.nextReleaseMs - Date.now());
  // Not unref'd: a waiting call is pending work, and the timer is what will send it.
  lane.timer = setTimeout(() => {
    lane.timer = undefined;
    const release = lane.waiters.shift();
    const now = Date.now();
    // The gap is read at release time, so a slowdown applies to everyone still waiting.
    lane.nextReleaseMs = now + lane.state.gapMs;
    release?.(now);
    scheduleRelease(lane);
  }, wait);
}
