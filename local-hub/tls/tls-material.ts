/**
 * The hub's TLS material: a local CA (what clients trust) and a server certificate it signed.
 *
 * Kept in the data directory so clients that trusted `ca.pem` keep working across restarts
 * (docs/architecture.md: "TLS with a generated local CA, kept in the hub's data directory"). The server
 * certificate is re-issued by the same CA when the configured names change or it nears expiry, so
 * trust survives both. In-memory hubs get a fresh CA that is never written anywhere.
 */
import { X509Certificate as NodeX509Certificate } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { LOCAL_HUB_CA_FILE } from '../../lib/local-hub-defaults';
import { ensurePrivateDirectory, PRIVATE_FILE_MODE } from '../private-files';
import {
  createCertificateAuthority,
  describeCertificate,
  issueServerCertificate,
  type PemKeyPair,
} from './certificates';
import { decodeNameConstraints, isPermitted } from './name-constraints';
import { type SubjectAltName, sameNames, serverNames } from './subject-alt-names';

export const CA_KEY_FILE = 'ca-key.pem';
export const SERVER_CERT_FILE = 'server.pem';
export const SERVER_KEY_FILE = 'server-key.pem';

/** Re-issue the server certificate when it has less than this left. */
const RENEW_BEFORE_MS = 30 * 24 * 60 * 60 * 1000;
/** Regenerate the CA when it has less than this left, so clients can move to the new ca.pem in time. */
const CA_RENEW_BEFORE_MS = 60 * 24 * 60 * 60 * 1000;

export interface TlsMaterial {
  ca: PemKeyPair;
  server: PemKeyPair;
  /** `<dataDir>/ca.pem`, or null for an in-memory hub. */
  caCertificatePath: string | null;
  /** What happened at load: useful in the startup log line and in tests. */
  origin: { ca: 'created' | 'reused' | 'regenerated'; server: 'created' | 'reused' | 'reissued' };
  /** Why an existing CA was replaced (clients must trust the new ca.pem), when it was. */
  caRegeneratedBecause?: string;
  names: SubjectAltName[];
}

export interface TlsMaterialOptions {
  /** Where the PEM files live; null = generate in memory only. */
  dataDir: string | null;
  /** Names beyond localhost/127.0.0.1/::1 that the server certificate must cover. */
  hostNames?: readonly string[];
}

export async function loadOrCreateTlsMaterial(options: TlsMaterialOptions): Promise<TlsMaterial> {
  const names = serverNames(options.hostNames);
  if (options.dataDir === null) {
    const ca = await createCertificateAuthority(undefined, names);
    const server = await issueServerCertificate(ca, names);
    return { ca, server, caCertificatePath: null, origin: { ca: 'created', server: 'created' }, names };
  }
  const dir = options.dataDir;
  ensurePrivateDirectory(dir);
  const files = {
    caCert: path.join(dir, LOCAL_HUB_CA_FILE),
    caKey: path.join(dir, CA_KEY_FILE),
    serverCert: path.join(dir, SERVER_CERT_FILE),
    serverKey: path.join(dir, SERVER_KEY_FILE),
  };

  let ca = readPair(files.caCert, files.caKey);
  // Item 13: a CA that cannot vouch for the served names, has (almost) expired, or was made by an
  // older hub without name constraints is replaced; the start log tells clients to trust the new one.
  const caRegeneratedBecause = ca ? caProblem(ca, names) : undefined;
  const caOrigin = !ca ? 'created' : caRegeneratedBecause ? 'regenerated' : 'reused';
  if (!ca || caRegeneratedBecause) {
    ca = await createCertificateAuthority(undefined, names);
    writePair(files.caCert, files.caKey, ca);
  }
  const why = caRegeneratedBecause ? { caRegeneratedBecause } : {};

  const existing = caOrigin === 'reused' ? readPair(files.serverCert, files.serverKey) : undefined;
  if (existing && serverCertificateStillFits(existing, ca, names)) {
    return {
      ca,
      server: existing,
      caCertificatePath: files.caCert,
      origin: { ca: caOrigin, server: 'reused' },
      names,
      ...why,
    };
  }
  const server = await issueServerCertificate(ca, names);
  writePair(files.serverCert, files.serverKey, server);
  return {
    ca,
    server,
    caCertificatePath: files.caCert,
    origin: { ca: caOrigin, server: existing ? 'reissued' : 'created' },
    names,
    ...why,
  };
}

/** Why `ca` cannot serve `names` any more, or undefined when it still can. */
function caProblem(ca: PemKeyPair, names: readonly SubjectAltName[]): string | undefined {
  let described: ReturnType<typeof describeCertificate>;
  try {
    described = describeCertificate(ca.certificatePem);
  } catch {
    return 'ca.pem could not be read as a certificate';
  }
  if (described.notAfter.getTime() - Date.now() < CA_RENEW_BEFORE_MS) {
    return `it expires on ${described.notAfter.toISOString().slice(0, 10)}`;
  }
  if (!described.nameConstraints) return 'it has no name constraints (made by an older hub)';
  const permitted = decodeNameConstraints(described.nameConstraints);
  const outside = names.filter((name) => !isPermitted(name, permitted)).map((name) => name.value);
  return outside.length > 0 ? `its name constraints do not permit ${outside.join(', ')}` : undefined;
}

function serverCertificateStillFits(
  server: PemKeyPair,
  ca: PemKeyPair,
  names: readonly SubjectAltName[],
): boolean {
  try {
    const current = describeCertificate(server.certificatePem);
    const caSubject = describeCertificate(ca.certificatePem);
    return (
      current.issuer === caSubject.subject &&
      // Same subject is not enough: a regenerated CA keeps its name but has a new key.
      new NodeX509Certificate(server.certificatePem).verify(
        new NodeX509Certificate(ca.certificatePem).publicKey,
      ) &&
      current.notAfter.getTime() - Date.now() > RENEW_BEFORE_MS &&
      sameNames(current.names, names)
    );
  } catch {
    // An unreadable certificate is replaced rather than failing the start.
    return false;
  }
}

/** Both files or nothing: a half-written pair (crash between writes) counts as absent. */
function readPair(certPath: string, keyPath: string): PemKeyPair | undefined {
  if (!existsSync(certPath) || !existsSync(keyPath)) return undefined;
  return { certificatePem: readFileSync(certPath, 'utf8'), privateKeyPem: readFileSync(keyPath, 'utf8') };
}

function writePair(certPath: string, keyPath: string, pair: PemKeyPair): void {
  // Key first, certificate last: readPair only trusts a pair whose certificate exists, and each
  // file is replaced atomically (write + rename) so a kill -9 never leaves a truncated PEM.
  // Certificates are public, but everything in the data directory is private (issue #10 item 11).
  writeAtomically(keyPath, pair.privateKeyPem, PRIVATE_FILE_MODE);
  writeAtomically(certPath, pair.certificatePem, PRIVATE_FILE_MODE);
}

function writeAtomically(file: string, content: string, mode: number): void {
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, content, { mode });
  chmodSync(temporary, mode); // the umask may have narrowed or widened `mode` on create
  renameSync(temporary, file);
}
