/**
 * Service API authentication and authorization (fact sheet §1.5): a policy SAS token (`skn`) signed
 * with that policy's primary or secondary key, not expired, whose `sr` names this hub and covers
 * the resource; then the policy must hold the operation's right. Callers answer every failure with
 * the same 401 and log the specific reason at debug only (the reason must not help an attacker).
 */

import type { HubRight, PolicyDefinition } from '../../lib/local-hub-defaults';
import { parseSasToken, sasResourceScope, sasScopeCovers, verifySasSignature } from '../../lib/sas-token';

/** What an operation needs; RegistryWrite implies RegistryRead (brief, IoT Hub permissions doc [S5]). */
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
}

export function authorizeServiceRequest(r: AuthRequest): AuthOutcome {
  if (!r.authorization) return { ok: false, reason: 'no Authorization header' };
  const parsed = parseSasToken(r.authorization);
  if (!parsed.ok) return { ok: false, reason: parsed.reason };
  const token = parsed.token;
  if (token.skn === undefined) {
    return { ok: false, reason: 'device-scoped token (no skn) on the service API' };
  }
  const policy = r.policies.find((p) => p.keyName === token.skn);
  if (!policy) return { ok: false, reason: `no shared access policy named ${JSON.stringify(token.skn)}` };
  if (!verifySasSignature(token, policy.primaryKey) && !verifySasSignature(token, policy.secondaryKey)) {
    return { ok: false, reason: `signature does not match policy ${policy.keyName}` };
  }
  if (token.se < r.nowSeconds) return { ok: false, reason: `token expired at ${token.se}` };
  const scope = sasResourceScope(token.sr);
  if (!scope) return { ok: false, reason: 'sr is not <host>[/devices/<id>[/modules/<id>]]' };
  if (!r.isOwnHostName(scope.host)) return { ok: false, reason: `sr host ${scope.host} is not this hub` };
  const target = { host: scope.host, deviceId: r.deviceId, moduleId: r.moduleId };
  if (!sasScopeCovers(scope, target))
    return { ok: false, reason: 'sr does not cover the addressed resource' };
  if (!SATISFIED_BY[r.access].some((right) => policy.rights.includes(right))) {
    return {
      ok: false,
      reason: `policy ${policy.keyName} lacks ${SATISFIED_BY[r.access].join(' or ')}`,
    };
  }
  return { ok: true, policy: policy.keyName };
}
