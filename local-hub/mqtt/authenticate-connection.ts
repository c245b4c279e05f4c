/**
 * Who may open an MQTT connection, as IoT Hub decides it (fact sheet §1.5 SAS, §2 X.509, §3.1 CONNECT).
 * Pure: the broker passes in what it read from CONNECT and the TLS socket, plus the registry lookup.
 *
 * CONNACK codes (MQTT 3.1.1 §3.2.2.3): 4 "bad user name or password" when the credentials themselves
 * are wrong (malformed, bad signature, expired, certificate mismatch); 5 "not authorized" when the
 * identity may not connect (unknown, disabled, scope does not cover it, unsupported auth type). The
 * device SDK maps both to UnauthorizedError, which it does not retry (§3.4).
 */
import { parseSasToken, sasResourceScope, sasScopeCovers, verifySasSignature } from '../../lib/sas-token';
import type { IdentityView } from '../hub-state';
import { describeIdentity, type IdentityRef, parseClientId, parseUsername } from './iothub-topics';

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
  | { ok: true; identity: IdentityRef; method: 'sas' | 'x509' }
  | { ok: false; returnCode: 4 | 5; reason: string };

const badCredentials = (reason: string): AuthenticationResult => ({ ok: false, returnCode: 4, reason });
const notAuthorized = (reason: string): AuthenticationResult => ({ ok: false, returnCode: 5, reason });

export function authenticateConnection(
  attempt: ConnectAttempt,
  deps: AuthenticationDeps,
): AuthenticationResult {
  const identity = parseClientId(attempt.clientId);
  if (!identity) return badCredentials('client id must be "<deviceId>" or "<deviceId>/<moduleId>"');
  const username = attempt.username === undefined ? undefined : parseUsername(attempt.username);
  if (!username) {
    return badCredentials('user name must be "<hostName>/<clientId>/?api-version=<version>"');
  }
  if (username.clientId !== attempt.clientId) return badCredentials('user name names a different client id');
  if (!deps.isOwnHostName(username.host)) return badCredentials('user name names a different hub host');

  const view = deps.findIdentity(identity.deviceId, identity.moduleId);
  if (!view) return notAuthorized(`${describeIdentity(identity)} is not registered`);
  // [S3]: a disabled device cannot use device-facing endpoints; its modules inherit the status.
  if (view.status === 'disabled') return notAuthorized(`${describeIdentity(identity)} is disabled`);

  const password =
    attempt.password && attempt.password.length > 0 ? attempt.password.toString('utf8') : undefined;
  return password === undefined
    ? authenticateX509(identity, view, attempt.peerCertificate)
    : authenticateSas(identity, view, password, attempt.now, deps);
}

function authenticateSas(
  identity: IdentityRef,
  view: IdentityView,
  password: string,
  now: number,
  deps: AuthenticationDeps,
): AuthenticationResult {
  if (view.authentication.type !== 'sas') {
    return notAuthorized(
      `${describeIdentity(identity)} uses ${view.authentication.type} authentication, not SAS`,
    );
  }
  const parsed = parseSasToken(password);
  if (!parsed.ok) return badCredentials(`password is not a SAS token: ${parsed.reason}`);
  const token = parsed.token;
  if (token.skn !== undefined) {
    return notAuthorized(
      'policy tokens (skn) are not accepted on the device endpoint; sign with the identity key',
    );
  }
  // §1.5: decode `sr`, the host must be this hub and the scope a segment prefix of this identity.
  const scope = sasResourceScope(token.sr);
  if (!scope || scope.deviceId === undefined) {
    return notAuthorized('SAS token resource (sr) must be "<host>/devices/<deviceId>[/modules/<moduleId>]"');
  }
  if (!deps.isOwnHostName(scope.host))
    return notAuthorized('SAS token resource (sr) names a different hub host');
  const target = {
    host: scope.host,
    deviceId: identity.deviceId,
    ...(identity.moduleId ? { moduleId: identity.moduleId } : {}),
  };
  if (!sasScopeCovers(scope, target)) {
    return notAuthorized(`SAS token resource (sr) does not cover ${describeIdentity(identity)}`);
  }
  // The key must be this identity's own: a module's keys are looked up above, so a device key (even
  // with a device-scoped sr that covers the module by prefix) never authenticates a module.
  const { primaryKey, secondaryKey } = view.authentication.symmetricKey;
  const signedWithOwnKey = [primaryKey, secondaryKey].some((key) => !!key && verifySasSignature(token, key));
  if (!signedWithOwnKey)
    return badCredentials(`SAS token signature does not match a key of ${describeIdentity(identity)}`);
  if (token.se < now) return badCredentials('SAS token has expired (se is in the past)');
  return { ok: true, identity, method: 'sas' };
}

function authenticateX509(
  identity: IdentityRef,
  view: IdentityView,
  certificate: ConnectAttempt['peerCertificate'],
): AuthenticationResult {
  const type = view.authentication.type;
  if (type === 'certificateAuthority') {
    // §2: the certificate must chain to a CA verified with the hub; this hub has no CA upload API yet.
    return notAuthorized(
      `${describeIdentity(identity)} uses certificateAuthority authentication, which the local hub does ` +
        'not support yet (no CA registration API); use selfSigned thumbprints or SAS',
    );
  }
  if (type !== 'selfSigned') {
    return badCredentials(`no password given, and ${describeIdentity(identity)} uses ${type} authentication`);
  }
  if (!certificate) return badCredentials('no password and no TLS client certificate presented');
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
    return badCredentials(
      `client certificate does not match the thumbprints of ${describeIdentity(identity)}`,
    );
  }
  return { ok: true, identity, method: 'x509' };
}

/** §2: hex, colons stripped, case-insensitive. */
export function normalizeThumbprint(thumbprint: string): string {
  return thumbprint.replaceAll(':', '').trim().toUpperCase();
}
