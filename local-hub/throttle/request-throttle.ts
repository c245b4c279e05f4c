/**
 * Optional request throttling (off by default; `--throttle S1 --units 2` turns it on): one token
 * bucket per throttle class, sized by the tier's quotas (throttle-quotas.ts). Over-limit requests
 * wait a little (traffic shaping, docs/iot-hub-behaviour.md §5) and are refused with 429 ThrottlingException
 * once the wait would exceed the queue limit — without Retry-After, as the real hub answers
 * (docs/iot-hub-behaviour.md §5).
 */
import { hubErrors } from '../errors';
import {
  bucketParams,
  describeQuota,
  HUB_TIERS,
  type HubTier,
  MAX_UNITS,
  type ThrottleClass,
  tierQuotas,
} from './throttle-quotas';
import { type BucketParams, type BucketState, fullBucket, take } from './token-bucket';

export type { HubTier, ThrottleClass } from './throttle-quotas';

/** How long a request may be held before it is refused. */
export const DEFAULT_MAX_QUEUE_MS = 1000;

export interface RequestThrottle {
  readonly tier: HubTier;
  readonly units: number;
  /** Resolves when the request may proceed (possibly after a short wait); rejects with a 429 HubError. */
  acquire(throttleClass: ThrottleClass, cost?: number): Promise<void>;
  /** Releases queued requests (they proceed) and stops all timers. */
  close(): void;
}

export interface RequestThrottleOptions {
  tier: HubTier;
  units: number;
  /** Clock in ms (default Date.now). */
  now?: () => number;
  maxQueueMs?: number;
}

const CLASS_NAMES: Record<ThrottleClass, string> = {
  identityRegistry: 'identity registry operations',
  twinRead: 'twin reads',
  twinUpdate: 'twin updates',
  query: 'queries',
  directMethod: 'direct methods (in 8 KB units)',
  configuration: 'configuration operations',
};

export function validateThrottleOptions(tier: unknown, units: unknown): string[] {
  const problems: string[] = [];
  if (!HUB_TIERS.includes(tier as HubTier)) {
    problems.push(`throttle tier ${JSON.stringify(tier)} is not valid; valid tiers: ${HUB_TIERS.join(', ')}`);
  } else if (
    typeof units !== 'number' ||
    !Number.isInteger(units) ||
    units < 1 ||
    units > MAX_UNITS[tier as HubTier]
  ) {
    problems.push(
      `units must be an integer from 1 to ${MAX_UNITS[tier as HubTier]} for ${tier}; got ${String(units)}`,
    );
  }
  return problems;
}

export function createRequestThrottle(o: RequestThrottleOptions): RequestThrottle {
  const problems = validateThrottleOptions(o.tier, o.units);
  if (problems.length > 0) throw new Error(problems.join('; '));
  const now = o.now ?? Date.now;
  const maxQueueMs = o.maxQueueMs ?? DEFAULT_MAX_QUEUE_MS;
  const quotas = tierQuotas(o.tier, o.units);
  const buckets = new Map<ThrottleClass, { params: BucketParams; state: BucketState }>();
  for (const cls of Object.keys(CLASS_NAMES) as ThrottleClass[]) {
    const params = bucketParams(quotas[cls]);
    buckets.set(cls, { params, state: fullBucket(params, now()) });
  }
  const queue = new WaitQueue();

  return {
    tier: o.tier,
    units: o.units,
    acquire(throttleClass, cost = 1) {
      const bucket = buckets.get(throttleClass)!;
      const result = take(bucket.state, bucket.params, cost, now(), maxQueueMs);
      bucket.state = result.state;
      if (!result.ok) {
        const quota = describeQuota(quotas[throttleClass]);
        return Promise.reject(
          hubErrors.throttled(
            `${CLASS_NAMES[throttleClass]} exceed the ${o.tier} quota of ${quota} for ${o.units} unit(s); retry later`,
          ),
        );
      }
      return queue.wait(result.waitMs);
    },
    close: () => queue.close(),
  };
}

/** Requests held for traffic shaping; `close` lets them all proceed at once (shutdown). */
class WaitQueue {
  private readonly waiting = new Map<NodeJS.Timeout, () => void>();
  private closed = false;

  wait(ms: number): Promise<void> {
    if (ms <= 0 || this.closed) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(timer);
        resolve();
      }, ms);
      this.waiting.set(timer, resolve);
    });
  }

  close(): void {
    this.closed = true;
    for (const [timer, resolve] of this.waiting) {
      clearTimeout(timer);
      resolve();
    }
    this.waiting.clear();
  }
}
