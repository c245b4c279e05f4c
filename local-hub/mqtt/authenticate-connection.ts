/**
 * Who may open an MQTT connection, as IoT Hub decides it (docs/iot-hub-behaviour.md
 * §1.5 SAS, §2 X.509, §3.1 CONNECT).
 * Pure: the broker passes in what it read from CONNECT and the TLS socket, plus the registry lookup.
 *
 * CONNACK codes (MQTT 3.1.1 §3.2.2.3), chosen so that the answer never depends on the registry unless
 * the client proved it holds the identity's credentials (issue #10 item 6: no id enumeration):
 *  - 2 "identifier rejected": a client id longer than IoT Hub's 257 characters (`<device>/<module>`,
 *    128 each), on MQTT 3.1.1 as on 3.1;
 *  - 4 "bad user name or password": the CONNECT itself is malformed (client id, user name, a password
 *    that is no SAS token, no credentials at all). Decided from the packet alone;
 *  - 5 "not authorized": every decision that involves the identity or its credentials: unknown id,
 *    wrong key, expired token, scope, disabled, authentication type. An unknown id is checked against a
 *    throwaway key, so it costs the same as a registered one. IoT Hub answers 5 for wrong and expired
 *    SAS tokens (docs/local-hub-security.md cites public reports).
 * The device SDK maps 2, 4 and 5 to UnauthorizedError, which it does not retry (§3.4). The log line
 * keeps the precise reason for the operator.
 */
import { randomBytes } from 'node:crypto';
import {
  type ParsedSasToken,
  parseSasToken,
  sasResourceScope,
  sasScopeCovers,
  verifySasSignature,
} from '../../lib/sas-token';
import type { IdentityView } from '../hub-state';
import { describeIdentity, type IdentityRef, parseClientId, parseUsername } from './iothub-topics';

/** IoT Hub ids are at most 128 characters: `<deviceId>/<moduleId>` is at most 257. */
export const MAX_CLIENT_ID_LENGTH = 257;

export interface ConnectAttempt {
  clientId: string;
  username: string | undefined;
  password: Buffer | undefined;
  /** From the TLS socket; null when the client presented no certificate. */
  peerCertificate: { fingerprint: string; fingerprint256: string } | null;
  /** Unix seconds. */
  now: number;
}

export interface AuthenticationDeps {
  findIdentity(deviceId: string, moduleId: string | null): IdentityView | undefined;
  /** True for `host[:port]` names this hub answers to. */
  isOwnHostName(host: string): boolean;
}

export type AuthenticationResult =
  | {
      ok: true;
      identity: IdentityRef;
      method: 'sas' | 'x509';
      /** The SAS token's `se` (unix seconds): the connection must end then (item 5); null for X.509. */
      expiresAt: number | null;
    }
  | { ok: false; returnCode: 2 | 4 | 5; reason: string };

const malformed = (reason: string): AuthenticationResult => ({ ok: false, returnCode: 4, reason });
const refused = (reason: string): AuthenticationResult => ({ ok: false, returnCode: 5, reason });

/** Signs nothing anyone holds: unknown and non-SAS identities are verified against it (same cost). */
const THROWAWAY_KEY = randomBytes(32).toString('base64');

export function authenticateConnection(
  attempt: ConnectAttempt,
  deps: AuthenticationDeps,
): AuthenticationResult {
  if (attempt.clientId.length > MAX_CLIENT_ID_LENGTH) {
    return {
      ok: false,
      returnCode: 2,
      reason: `client id of ${attempt.clientId.length} characters; IoT Hub allows ${MAX_CLIENT_ID_LENGTH}`,
    };
  }
  const identity = parseClientId(attempt.clientId);
  if (!identity) return malformed('client id must be "<deviceId>" or "<deviceId>/<moduleId>"');
  const username = attempt.username === undefined ? undefined : parseUsername(attempt.username);
  if (!username) {
    return malformed('user name must be "<hostName>/<clientId>/?api-version=<version>"');
  }
  if (username.clientId !== attempt.clientId) return malformed('user name names a different client id');
  if (!deps.isOwnHostName(username.host)) return malformed('user name names a different hub host');

  const password =
    attempt.password && attempt.password.length > 0 ? attempt.password.toString('utf8') : undefined;
  if (password === undefined) {
    if (!attempt.peerCertificate) return malformed('no password and no TLS client certificate presented');
    const view = deps.findIdentity(identity.deviceId, identity.moduleId);
    return authenticateX509(identity, view, attempt.peerCertificate);
  }
  const parsed = parseSasToken(password);
  if (!parsed.ok) return malformed(`password is not a SAS token: ${parsed.reason}`);
  const scopeProblem = sasScopeProblem(identity, parsed.token, deps);
  if (scopeProblem) return refused(scopeProblem);
  const view = deps.findIdentity(identity.deviceId, identity.moduleId);
  return authenticateSas(identity, view, parsed.token, attempt.now);
}

/** §1.5 checks that need only the token: no policy name, `sr` on this hub and covering the identity. */
function sasScopeProblem(
  identity: IdentityRef,
  token: ParsedSasToken,
  deps: AuthenticationDeps,
): string | undefined {
  if (token.skn !== undefined) {
    return 'policy tokens (skn) are not accepted on the device endpoint; sign with the identity key';
  }
  const scope = sasResourceScope(token.sr);
  if (!scope || scope.deviceId === undefined) {
    return 'SAS token resource (sr) must be "<host>/devices/<deviceId>[/modules/<moduleId>]"';
  }
  if (!deps.isOwnHostName(scope.host)) return 'SAS token resource (sr) names a different hub host';
  const target = {
    host: scope.host,
    deviceId: identity.deviceId,
    ...(identity.moduleId ? { moduleId: identity.moduleId } : {}),
  };
  if (!sasScopeCovers(scope, target)) {
    return `SAS token resource (sr) does not cover ${describeIdentity(identity)}`;
  }
  return undefined;
}

function authenticateSas(
  identity: IdentityRef,
  view: IdentityView | undefined,
  token: ParsedSasToken,
  now: number,
): AuthenticationResult {
  // The key must be this identity's own: a module's keys are looked up, so a device key (even with a
  // device-scoped sr that covers the module by prefix) never authenticates a module.
  const { primaryKey, secondaryKey } =
    view?.authentication.type === 'sas'
      ? view.authentication.symmetricKey
      : { primaryKey: THROWAWAY_KEY, secondaryKey: null };
  const signed = [primaryKey, secondaryKey].some((key) => !!key && verifySasSignature(token, key));
  const who = describeIdentity(identity);
  if (!view) return refused(`${who} is not registered`);
  if (view.authentication.type !== 'sas') {
    return refused(`${who} uses ${view.authentication.type} authentication, not SAS`);
  }
  if (!signed) return refused(`SAS token signature does not match a key of ${who}`);
  if (token.se < now) return refused('SAS token has expired (se is in the past)');
  // docs/iot-hub-behaviour.md §2: a disabled device cannot use device-facing endpoints; its modules inherit the status.
  if (view.status === 'disabled') return refused(`${who} is disabled`);
  return { ok: true, identity, method: 'sas', expiresAt: token.se };
}

function authenticateX509(
  identity: IdentityRef,
  view: IdentityView | undefined,
  certificate: NonNullable<ConnectAttempt['peerCertificate']>,
): AuthenticationResult {
  const who = describeIdentity(identity);
  if (!view) return refused(`${who} is not registered`);
  const type = view.authentication.type;
  if (type === 'certificateAuthority') {
    // §2: the certificate must chain to a CA verified with the hub; this hub has no CA upload API yet.
    return refused(
      `${who} uses certificateAuthority authentication, which the local hub does not support yet ` +
        '(no CA registration API); use selfSigned thumbprints or SAS',
    );
  }
  if (type !== 'selfSigned') return refused(`no password given, and ${who} uses ${type} authentication`);
  const presented = [
    normalizeThumbprint(certificate.fingerprint),
    normalizeThumbprint(certificate.fingerprint256),
  ];
  const { primaryThumbprint, secondaryThumbprint } = view.authentication.x509Thumbprint;
  const registered = [primaryThumbprint, secondaryThumbprint]
    .filter((t): t is string => !!t)
    .map(normalizeThumbprint);
  // §2: the hub compares against both SHA-1 and SHA-256 fingerprints.
  if (!registered.some((thumbprint) => presented.includes(thumbprint))) {
    return refused(`client certificate does not match the thumbprints of ${who}`);
  }
  if (view.status === 'disabled') return refused(`${who} is disabled`);
  return { ok: true, identity, method: 'x509', expiresAt: null };
}

/** §2: hex, colons stripped, case-insensitive. */
export function normalizeThumbprint(thumbprint: string): string {
  return thumbprint.replaceAll(':', '').trim().toUpperCase();
}
