/**
 * The generated local CA may be added to an OS trust store, so it must only vouch for the names the
 * hub serves and must not live for a decade (issue #10 item 13): name constraints (checked here with a
 * real TLS handshake, as clients check them), a lifetime of at most two years, and regeneration when
 * it nears expiry, when the served names are no longer permitted, or when an older hub made it
 * without constraints.
 */
import 'reflect-metadata';
import * as assert from 'node:assert/strict';
import { webcrypto } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import * as tls from 'node:tls';
import * as x509 from '@peculiar/x509';
import { issueServerCertificate, type PemKeyPair } from '../../local-hub/tls/certificates';
import { decodeNameConstraints, NAME_CONSTRAINTS_OID } from '../../local-hub/tls/name-constraints';
import { loadOrCreateTlsMaterial } from '../../local-hub/tls/tls-material';
import { within } from '../support/runtime-wait';

const DAY_MS = 24 * 60 * 60 * 1000;
const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'hub-ca-'));
  dirs.push(dir);
  return dir;
}

/** A TLS handshake to a server presenting `server`, trusting only `caPem`, asking for `servername`. */
async function handshake(server: PemKeyPair, caPem: string, servername: string): Promise<Error | null> {
  const listener = tls.createServer({ key: server.privateKeyPem, cert: server.certificatePem }, (s) =>
    s.end(),
  );
  listener.listen(0, '127.0.0.1');
  await within('the test listener to listen', once(listener, 'listening'));
  const { port } = listener.address() as AddressInfo;
  try {
    return await new Promise<Error | null>((resolve) => {
      const socket = tls.connect({ host: '127.0.0.1', port, servername, ca: caPem }, () => {
        socket.destroy();
        resolve(null);
      });
      socket.once('error', resolve);
    });
  } finally {
    listener.close();
  }
}

/** What an older hub wrote: a ten-year CA without name constraints (or one expiring soon). */
async function writeOldStyleCa(dir: string, days: number): Promise<string> {
  x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
  const keys = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, [
    'sign',
    'verify',
  ]);
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: 'CN=Local IoT Hub CA',
    notBefore: new Date(Date.now() - DAY_MS),
    notAfter: new Date(Date.now() + days * DAY_MS),
    keys: keys as unknown as Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[0]['keys'],
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    ],
  });
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  const pem = certificate.toString('pem');
  writeFileSync(path.join(dir, 'ca.pem'), pem);
  writeFileSync(path.join(dir, 'ca-key.pem'), x509.PemConverter.encode(pkcs8, 'PRIVATE KEY'), {
    mode: 0o600,
  });
  return pem;
}

describe('the local CA is name-constrained and short-lived (item 13)', () => {
  test('it permits exactly the served names and loopback, and lives at most two years', async () => {
    const material = await loadOrCreateTlsMaterial({ dataDir: null, hostNames: ['myhub.lan', '10.1.2.3'] });
    const ca = new x509.X509Certificate(material.ca.certificatePem);
    const extension = ca.getExtension(NAME_CONSTRAINTS_OID);
    assert.ok(extension, 'the CA has no name constraints extension');
    assert.equal(extension.critical, true);
    const permitted = decodeNameConstraints(extension.value).map((s) =>
      s.type === 'dns' ? `dns:${s.value}` : `ip:${s.address.join('.')}/${s.mask.toString('hex')}`,
    );
    assert.deepEqual(permitted.sort(), [
      'dns:localhost',
      'dns:myhub.lan',
      'ip:0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1/ffffffffffffffffffffffffffffffff',
      'ip:10.1.2.3/ffffffff',
      'ip:127.0.0.0/ff000000',
    ]);
    const lifetimeDays = (ca.notAfter.getTime() - ca.notBefore.getTime()) / DAY_MS;
    assert.ok(lifetimeDays <= 2 * 366, `the CA lives ${Math.round(lifetimeDays)} days`);
    const server = new x509.X509Certificate(material.server.certificatePem);
    assert.ok(server.notAfter <= ca.notAfter, 'the server certificate outlives its CA');
  });

  test('a certificate the CA key signs for another name is refused by a client that trusts the CA', async () => {
    const material = await loadOrCreateTlsMaterial({ dataDir: null });
    assert.equal(await handshake(material.server, material.ca.certificatePem, 'localhost'), null);
    // What a thief of ca-key.pem could do: sign a certificate for someone else's site.
    const forged = await issueServerCertificate(material.ca, [{ type: 'dns', value: 'bank.example.com' }]);
    const error = await handshake(forged, material.ca.certificatePem, 'bank.example.com');
    assert.ok(error, 'the forged certificate for bank.example.com was accepted');
    assert.match(error.message, /subtree|constraint/i);
  });
});

describe('the CA is regenerated when it no longer fits (item 13)', () => {
  test('an unconstrained CA left by an older hub is replaced, and the new one verifies', async () => {
    const dir = tempDir();
    const old = await writeOldStyleCa(dir, 3650);
    const material = await loadOrCreateTlsMaterial({ dataDir: dir });
    assert.equal(material.origin.ca, 'regenerated');
    assert.match(material.caRegeneratedBecause ?? '', /name constraints/);
    assert.notEqual(readFileSync(path.join(dir, 'ca.pem'), 'utf8'), old);
    assert.equal(await handshake(material.server, material.ca.certificatePem, 'localhost'), null);
  });

  test('a CA that expires within 60 days is replaced', async () => {
    const dir = tempDir();
    await loadOrCreateTlsMaterial({ dataDir: dir });
    await writeOldStyleCa(dir, 20);
    const material = await loadOrCreateTlsMaterial({ dataDir: dir });
    assert.equal(material.origin.ca, 'regenerated');
  });

  test('a new served name outside the constraints regenerates it; dropping a name keeps it', async () => {
    const dir = tempDir();
    const first = await loadOrCreateTlsMaterial({ dataDir: dir, hostNames: ['gateway.lan'] });
    const fewer = await loadOrCreateTlsMaterial({ dataDir: dir });
    assert.deepEqual(fewer.origin, { ca: 'reused', server: 'reissued' });
    assert.equal(fewer.ca.certificatePem, first.ca.certificatePem);
    const more = await loadOrCreateTlsMaterial({ dataDir: dir, hostNames: ['other.lan'] });
    assert.equal(more.origin.ca, 'regenerated');
    assert.match(more.caRegeneratedBecause ?? '', /other\.lan/);
    assert.equal(await handshake(more.server, more.ca.certificatePem, 'other.lan'), null);
  });
});
