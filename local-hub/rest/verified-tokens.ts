/**
 * Service SAS tokens whose signature this hub has already checked, keyed by the exact Authorization
 * header. A client reuses one token for many requests (the service SDK signs once per token lifetime),
 * and an HMAC per request was a measurable share of the hub's CPU per twin update (docs/benchmarks.md
 * finding 4). Only what the token itself proves is remembered: the policy and key that verified its
 * signature, its parsed resource scope (already checked to name this hub) and its expiry. Everything
 * that depends on the request — expiry against the clock, whether the scope covers the addressed
 * identity, the policy's rights — is still decided per request (service-auth.ts), and an entry counts
 * only while its policy still holds the key that verified it (docs/iot-hub-behaviour.md §1.5).
 */
import type { SasScope } from '../../lib/sas-token';

export interface VerifiedToken {
  /** The `skn` policy whose key verified the signature. */
  policyName: string;
  /** That key; once the policy no longer has it (regenerated), the entry is void. */
  key: string;
  /** Unix seconds (`se`). */
  expiresAt: number;
  /** The decoded `sr`, whose host was already checked to be this hub's. */
  scope: SasScope;
}

/** Enough for every client of a local hub; the oldest entry makes room for a new one. */
export const VERIFIED_TOKEN_CAPACITY = 256;
/** Longer headers are verified every time rather than kept (bounds the memory a client can pin). */
const MAX_CACHED_HEADER_LENGTH = 2048;

export class VerifiedTokenCache {
  private readonly entries = new Map<string, VerifiedToken>();

  constructor(private readonly capacity = VERIFIED_TOKEN_CAPACITY) {}

  get(authorization: string): VerifiedToken | undefined {
    return this.entries.get(authorization);
  }

  /** Call only after the signature, policy, `sr` shape and host have all been checked. */
  remember(authorization: string, token: VerifiedToken): void {
    if (this.capacity < 1 || authorization.length > MAX_CACHED_HEADER_LENGTH) return;
    if (!this.entries.has(authorization) && this.entries.size >= this.capacity) {
      // Map iteration is insertion order: the first key is the oldest entry.
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(authorization, token);
  }

  forget(authorization: string): void {
    this.entries.delete(authorization);
  }

  get size(): number {
    return this.entries.size;
  }
}
