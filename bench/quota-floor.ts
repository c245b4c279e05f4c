/**
 * The fewest seconds a hub's quotas allow for a given amount of work (issue #5 "quota floor"): per
 * throttle class, a full bucket lets `capacity` operations through at once and the rest at the refill
 * rate (local-hub/throttle: a token bucket per class, one quota period's worth of capacity,
 * docs/iot-hub-behaviour.md §5). Classes drain in parallel, so the floor is the slowest class's.
 */
import { type HubTier, type ThrottleClass, tierQuotas } from '../local-hub/throttle/throttle-quotas';

export type Work = Partial<Record<ThrottleClass, number>>;

export interface QuotaFloor {
  seconds: number;
  /** The class that sets the floor. */
  bindingClass: ThrottleClass | null;
  perClass: Partial<Record<ThrottleClass, number>>;
}

export function quotaFloor(tier: HubTier, units: number, work: Work): QuotaFloor {
  const quotas = tierQuotas(tier, units);
  const perClass: Partial<Record<ThrottleClass, number>> = {};
  for (const [cls, operations] of Object.entries(work) as [ThrottleClass, number][]) {
    const quota = quotas[cls];
    const perSecond = quota.amount / (quota.periodMs / 1000);
    perClass[cls] = Math.max(0, operations - quota.amount) / perSecond;
  }
  let bindingClass: ThrottleClass | null = null;
  for (const [cls, seconds] of Object.entries(perClass) as [ThrottleClass, number][]) {
    if (bindingClass === null || seconds > perClass[bindingClass]!) bindingClass = cls;
  }
  return { seconds: bindingClass === null ? 0 : perClass[bindingClass]!, bindingClass, perClass };
}
