/**
 * Service API authentication and authorization (docs/iot-hub-behaviour.md §1.5): a policy SAS token (`skn`) signed
 * with that policy's primary or secondary key, not expired, whose `sr` names this hub and covers
 * the resource; then the policy must hold the operation's right. Callers answer every failure with
 * the same 401 and log the specific reason at debug only (the reason must not help an attacker).
 * What a token proves by itself is remembered per hub (verified-tokens.ts), so a token reused for
 * many requests costs one HMAC; expiry, scope coverage and rights are decided on every request.
 */

import type { HubRight, PolicyDefinition } from '../../lib/local-hub-defaults';
import { parseSasToken, sasResourceScope, sasScopeCovers, verifySasSignature } from '../../lib/sas-token';
import type { VerifiedToken, VerifiedTokenCache } from './verified-tokens';

/** What an operation needs; RegistryWrite implies RegistryRead (docs/iot-hub-behaviour.md §1.5). */
export type Access = 'registryRead' | 'registryWrite' | 'serviceConnect' | 'query';

const SATISFIED_BY: Record<Access, readonly HubRight[]> = {
  registryRead: ['RegistryRead', 'RegistryWrite'],
  registryWrite: ['RegistryWrite'],
  serviceConnect: ['ServiceConnect'],
  // Queries read twins and identities: either kind of read right will do.
  query: ['RegistryRead', 'RegistryWrite', 'ServiceConnect'],
};

export type AuthOutcome = { ok: true; policy: string } | { ok: false; reason: string };

export interface AuthRequest {
  authorization: string | undefined;
  access: Access;
  /** The identity the operation addresses, if any (a token scoped to a device covers only that device). */
  deviceId?: string;
  moduleId?: string;
  policies: readonly PolicyDefinition[];
  isOwnHostName: (host: string) => boolean;
  nowSeconds: number;
  /** Tokens already verified by this hub (verified-tokens.ts); omitted, every token is verified afresh. */
  verifiedTokens?: VerifiedTokenCache;
}

type Verification =
  | { ok: true; token: VerifiedToken; policy: PolicyDefinition }
  | { ok: false; reason: string };

const refuse = (reason: string): { ok: false; reason: string } => ({ ok: false, reason });

export function authorizeServiceRequest(r: AuthRequest): AuthOutcome {
  if (!r.authorization) return refuse('no Authorization header');
  const verified = cachedVerification(r, r.authorization) ?? verifyToken(r, r.authorization);
  if (!verified.ok) return verified;
  const { token, policy } = verified;
  const target = { host: token.scope.host, deviceId: r.deviceId, moduleId: r.moduleId };
  if (!sasScopeCovers(token.scope, target)) return refuse('sr does not cover the addressed resource');
  if (!SATISFIED_BY[r.access].some((right) => policy.rights.includes(right))) {
    return refuse(`policy ${policy.keyName} lacks ${SATISFIED_BY[r.access].join(' or ')}`);
  }
  return { ok: true, policy: policy.keyName };
}

/**
 * A token verified earlier, if it still stands: its policy must still hold the key that verified it
 * (else it is verified afresh, which gives the precise reason) and it must not have expired since.
 */
function cachedVerification(r: AuthRequest, authorization: string): Verification | undefined {
  const cached = r.verifiedTokens?.get(authorization);
  if (!cached) return undefined;
  const policy = r.policies.find((p) => p.keyName === cached.policyName);
  if (!policy || (policy.primaryKey !== cached.key && policy.secondaryKey !== cached.key)) {
    r.verifiedTokens!.forget(authorization);
    return undefined;
  }
  if (cached.expiresAt < r.nowSeconds) {
    r.verifiedTokens!.forget(authorization);
    return refuse(`token expired at ${cached.expiresAt}`);
  }
  return { ok: true, token: cached, policy };
}

/** Everything the token proves by itself, checked in this order (so the logged reason is the first failure). */
function verifyToken(r: AuthRequest, authorization: string): Verification {
  const parsed = parseSasToken(authorization);
  if (!parsed.ok) return refuse(parsed.reason);
  const token = parsed.token;
  if (token.skn === undefined) return refuse('device-scoped token (no skn) on the service API');
  const policy = r.policies.find((p) => p.keyName === token.skn);
  if (!policy) return refuse(`no shared access policy named ${JSON.stringify(token.skn)}`);
  const key = [policy.primaryKey, policy.secondaryKey].find((k) => verifySasSignature(token, k));
  if (key === undefined) return refuse(`signature does not match policy ${policy.keyName}`);
  if (token.se < r.nowSeconds) return refuse(`token expired at ${token.se}`);
  const scope = sasResourceScope(token.sr);
  if (!scope) return refuse('sr is not <host>[/devices/<id>[/modules/<id>]]');
  if (!r.isOwnHostName(scope.host)) return refuse(`sr host ${scope.host} is not this hub`);
  const verified: VerifiedToken = { policyName: policy.keyName, key, expiresAt: token.se, scope };
  r.verifiedTokens?.remember(authorization, verified);
  return { ok: true, token: verified, policy };
}
