/**
 * Certificate generation for the local hub: a local CA, the hub's server certificate, and self-signed
 * client certificates (X.509 devices/modules in tests and local setups).
 *
 * Why @peculiar/x509 on Node's WebCrypto: no openssl binary is needed and an ECDSA P-256 CA + server
 * certificate takes ~25 ms (docs/iot-hub-behaviour.md §3.9). `reflect-metadata` must be imported first: x509 2.x uses
 * tsyringe decorators and no longer loads it itself.
 */
import 'reflect-metadata';
import { X509Certificate as NodeX509Certificate, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { encodeNameConstraints, NAME_CONSTRAINTS_OID, permittedSubtrees } from './name-constraints';
import { type SubjectAltName, sanEntriesToJson, serverNames } from './subject-alt-names';

// The project compiles without DOM typings, so WebCrypto types come from node:crypto; x509's
// declarations name the DOM ones (any-typed here), hence the casts at this boundary only.
type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;
x509.cryptoProvider.set(webcrypto as any);

const EC_KEY: webcrypto.EcKeyGenParams = { name: 'ECDSA', namedCurve: 'P-256' };
const SIGNING: webcrypto.EcdsaParams = { name: 'ECDSA', hash: 'SHA-256' };
const DAY_MS = 24 * 60 * 60 * 1000;
/**
 * Two years: a CA people may add to a trust store should not outlive its use by a decade (issue #10
 * item 13). The hub regenerates it before it expires (tls-material.ts), and the start log says so.
 */
export const CA_VALIDITY_DAYS = 730;
/** Leaf certificates: 397 days, the longest lifetime browsers and TLS stacks accept for a leaf. */
const LEAF_VALIDITY_DAYS = 397;

export interface PemKeyPair {
  certificatePem: string;
  privateKeyPem: string;
}

async function generateKeys(): Promise<CryptoKeyPair> {
  return webcrypto.subtle.generateKey(EC_KEY, true, ['sign', 'verify']);
}

async function privateKeyToPem(key: CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

async function privateKeyFromPem(pem: string): Promise<CryptoKey> {
  const der = x509.PemConverter.decode(pem)[0];
  if (!der)
    throw new Error('The CA private key file holds no PEM block; expected "-----BEGIN PRIVATE KEY-----"');
  return webcrypto.subtle.importKey('pkcs8', der, EC_KEY, false, ['sign']);
}

function validity(days: number): { notBefore: Date; notAfter: Date } {
  // Backdate one hour so a client whose clock is slightly behind still accepts a fresh certificate.
  const now = Date.now();
  return { notBefore: new Date(now - 60 * 60 * 1000), notAfter: new Date(now + days * DAY_MS) };
}

/** A certificate must not outlive the CA that signed it (clients would reject it after the CA expires). */
function withinCa(range: { notBefore: Date; notAfter: Date }, caNotAfter: Date) {
  return { notBefore: range.notBefore, notAfter: range.notAfter > caNotAfter ? caNotAfter : range.notAfter };
}

function randomSerial(): string {
  // Positive 16-byte serial (RFC 5280 §4.1.2.2: positive, at most 20 octets, unique per CA).
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return Buffer.from(bytes).toString('hex');
}

/**
 * A new self-signed CA (basicConstraints CA:true, keyCertSign) for the hub's data directory, able to
 * vouch only for `names` and loopback (critical nameConstraints, RFC 5280 §4.2.1.10).
 */
export async function createCertificateAuthority(
  commonName = 'Local IoT Hub CA',
  names: readonly SubjectAltName[] = serverNames(),
): Promise<PemKeyPair> {
  const keys = await generateKeys();
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: `CN=${commonName}`,
    ...validity(CA_VALIDITY_DAYS),
    keys,
    signingAlgorithm: SIGNING,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      new x509.Extension(NAME_CONSTRAINTS_OID, true, encodeNameConstraints(permittedSubtrees(names))),
    ],
  });
  return {
    certificatePem: certificate.toString('pem'),
    privateKeyPem: await privateKeyToPem(keys.privateKey),
  };
}

/** The hub's TLS server certificate, signed by `ca`, valid for exactly `names`. */
export async function issueServerCertificate(
  ca: PemKeyPair,
  names: readonly SubjectAltName[],
): Promise<PemKeyPair> {
  if (names.length === 0) throw new Error('A server certificate needs at least one subject alternative name');
  const caCertificate = new x509.X509Certificate(ca.certificatePem);
  const caKey = await privateKeyFromPem(ca.privateKeyPem);
  const keys = await generateKeys();
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: `CN=${names[0]!.value}`,
    issuer: caCertificate.subject,
    ...withinCa(validity(LEAF_VALIDITY_DAYS), caCertificate.notAfter),
    publicKey: keys.publicKey,
    signingKey: caKey,
    signingAlgorithm: SIGNING,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      // RFC 6125: clients match the host against the SAN list, never the CN.
      new x509.SubjectAlternativeNameExtension(sanEntriesToJson(names)),
      await x509.AuthorityKeyIdentifierExtension.create(caCertificate.publicKey),
    ],
  });
  return {
    certificatePem: certificate.toString('pem'),
    privateKeyPem: await privateKeyToPem(keys.privateKey),
  };
}

/**
 * A self-signed client certificate, as an X.509 device or module presents it (identity type
 * `selfSigned`: the hub compares its fingerprint with the registered thumbprint, docs/iot-hub-behaviour.md §2).
 */
export async function createSelfSignedClientCertificate(commonName: string): Promise<PemKeyPair> {
  const keys = await generateKeys();
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: [{ CN: [commonName] }],
    ...validity(LEAF_VALIDITY_DAYS),
    keys,
    signingAlgorithm: SIGNING,
    extensions: [
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
    ],
  });
  return {
    certificatePem: certificate.toString('pem'),
    privateKeyPem: await privateKeyToPem(keys.privateKey),
  };
}

/** The SAN entries, name constraints and expiry of a PEM certificate (to decide whether to re-issue it). */
export function describeCertificate(pem: string): {
  names: SubjectAltName[];
  notAfter: Date;
  issuer: string;
  subject: string;
  /** The nameConstraints extension's DER, or null when the certificate has none. */
  nameConstraints: ArrayBuffer | null;
} {
  const certificate = new x509.X509Certificate(pem);
  const san = certificate.getExtension(x509.SubjectAlternativeNameExtension);
  const names: SubjectAltName[] = [];
  for (const item of san?.names.items ?? []) {
    if (item.type === 'dns' || item.type === 'ip') names.push({ type: item.type, value: item.value });
  }
  const constraints = certificate.getExtension(NAME_CONSTRAINTS_OID);
  return {
    names,
    notAfter: certificate.notAfter,
    issuer: certificate.issuer,
    subject: certificate.subject,
    nameConstraints: constraints ? constraints.value : null,
  };
}

/** SHA-1 and SHA-256 fingerprints as upper-case hex without colons (the hub's thumbprint format). */
export function certificateThumbprints(pem: string): { sha1: string; sha256: string } {
  const certificate = new NodeX509Certificate(pem);
  const strip = (fingerprint: string) => fingerprint.replaceAll(':', '').toUpperCase();
  return { sha1: strip(certificate.fingerprint), sha256: strip(certificate.fingerprint256) };
}
