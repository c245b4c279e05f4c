/**
 * A seeded pseudo-random source for the reliability suites, so every fuzz run can be replayed:
 * each suite prints its seed, and `RELIABILITY_SEED=<n>` reruns exactly that sequence.
 * mulberry32: tiny, fast, and good enough to spread mutations (not for anything cryptographic).
 */

export interface Random {
  readonly seed: number;
  /** Uniform in [0, 1). */
  next(): number;
  /** Integer in [0, n). */
  int(n: number): number;
  /** Integer in [min, max]. */
  between(min: number, max: number): number;
  pick<T>(items: readonly T[]): T;
  /** True with probability `p`. */
  chance(p: number): boolean;
  bytes(length: number): Buffer;
}

const DEFAULT_SEED = 0x5eed_2024;

/** The seed from RELIABILITY_SEED (decimal or 0x-hex), else a fixed default: runs are reproducible. */
export function reliabilitySeed(): number {
  const text = process.env['RELIABILITY_SEED'];
  if (text === undefined || text.trim() === '') return DEFAULT_SEED;
  const value = Number(text.trim());
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new Error(`RELIABILITY_SEED=${JSON.stringify(text)} is not valid; use a non-negative integer`);
  }
  return value >>> 0;
}

export function createRandom(seed: number): Random {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number): number => Math.floor(next() * n);
  return {
    seed,
    next,
    int,
    between: (min, max) => min + int(max - min + 1),
    pick: (items) => {
      if (items.length === 0) throw new Error('pick() needs at least one item');
      return items[int(items.length)]!;
    },
    chance: (p) => next() < p,
    bytes: (length) => {
      const buffer = Buffer.alloc(length);
      for (let i = 0; i < length; i++) buffer[i] = int(256);
      return buffer;
    },
  };
}
