/**
 * IoT Hub's per-tier throttles (docs/iot-hub-behaviour.md §5, quotas doc dated 2025-05-21), per purchased unit.
 * Only the classes the local hub serves are listed: identity registry operations (bulk counts each
 * device), twin reads, twin updates, queries, direct methods, and configuration operations (automatic
 * device and module configurations, IoT Edge deployments: create, update, get, list, delete).
 */
import type { BucketParams } from './token-bucket';

export type HubTier = 'F1' | 'S1' | 'S2' | 'S3';
export type ThrottleClass =
  | 'identityRegistry'
  | 'twinRead'
  | 'twinUpdate'
  | 'query'
  | 'directMethod'
  | 'configuration';

export const HUB_TIERS: readonly HubTier[] = ['F1', 'S1', 'S2', 'S3'];
/** §5: up to 200 units for sizes 1–2, 10 for size 3; the free tier has exactly one. */
export const MAX_UNITS: Record<HubTier, number> = { F1: 1, S1: 200, S2: 200, S3: 10 };

export interface Quota {
  /** Operations allowed per period (also the burst a full bucket allows). */
  amount: number;
  periodMs: number;
}

const MINUTE = 60_000;
const SECOND = 1_000;

export function tierQuotas(tier: HubTier, units: number): Record<ThrottleClass, Quota> {
  const big = tier === 'S3';
  return {
    identityRegistry: { amount: (big ? 5000 : 100) * units, periodMs: MINUTE },
    twinRead: { amount: twinRate(tier, units, 100, 10, 500), periodMs: SECOND },
    twinUpdate: { amount: twinRate(tier, units, 50, 5, 250), periodMs: SECOND },
    query: { amount: (big ? 1000 : 20) * units, periodMs: MINUTE },
    // 160 KB/s per unit (Free, S1), 480 KB/s (S2), 24 MB/s (S3), metered in 8 KB: one operation per 8 KB.
    directMethod: { amount: (methodKbPerSecond[tier] / METHOD_METER_KB) * units, periodMs: SECOND },
    // The same on every tier (Free, S1, S2, S3): unlike queries, S3 buys no higher configuration rate.
    configuration: { amount: 20 * units, periodMs: MINUTE },
  };
}

/** Direct-method throughput per unit (docs/iot-hub-behaviour.md §8.1), and the size one operation counts for. */
const methodKbPerSecond: Record<HubTier, number> = { F1: 160, S1: 160, S2: 480, S3: 24 * 1024 };
export const METHOD_METER_KB = 8;

/** Twin throttles: Free & S1 flat; S2 max(flat, perUnitS2 × units); S3 perUnitS3 × units. */
function twinRate(tier: HubTier, units: number, flat: number, perUnitS2: number, perUnitS3: number): number {
  if (tier === 'S3') return perUnitS3 * units;
  if (tier === 'S2') return Math.max(flat, perUnitS2 * units);
  return flat;
}

export function bucketParams(quota: Quota): BucketParams {
  return { capacity: quota.amount, ratePerMs: quota.amount / quota.periodMs };
}

/** Human-readable quota, e.g. "100/min". */
export function describeQuota(quota: Quota): string {
  return `${quota.amount}/${quota.periodMs === MINUTE ? 'min' : 's'}`;
}
