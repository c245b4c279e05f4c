/**
 * The hub's local CA and server certificate: SANs, files and modes in the data directory, reuse
 * across restarts, and re-issue (same CA) when the configured names change. Verified the way clients
 * verify: a real TLS handshake that trusts only the CA.
 */
import * as assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import * as tls from 'node:tls';
import { describeCertificate } from '../../local-hub/tls/certificates';
import { serverNames } from '../../local-hub/tls/subject-alt-names';
import { loadOrCreateTlsMaterial, type TlsMaterial } from '../../local-hub/tls/tls-material';
import { within } from '../support/runtime-wait';

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'hub-tls-'));
  dirs.push(dir);
  return dir;
}

/**
 * Handshakes with a TLS server using `material`, as a client that trusts only the CA and asks for
 * `servername` (SNI + identity check, like mqtt.js and https do). Resolves null on success.
 */
async function verifyAs(material: TlsMaterial, servername: string): Promise<Error | null> {
  const server = tls.createServer(
    { key: material.server.privateKeyPem, cert: material.server.certificatePem },
    (socket) => {
      socket.end();
    },
  );
  server.listen(0, '127.0.0.1');
  await within('the test server to listen', once(server, 'listening'));
  const { port } = server.address() as AddressInfo;
  try {
    return await new Promise<Error | null>((resolve) => {
      const socket = tls.connect(
        { host: '127.0.0.1', port, servername, ca: material.ca.certificatePem },
        () => {
          socket.destroy();
          resolve(null);
        },
      );
      socket.once('error', (error) => resolve(error));
    });
  } finally {
    server.close();
  }
}

/** Node's own identity check for IP literals (SNI carries no IPs, so the client checks `IP:` SANs). */
function checkIp(material: TlsMaterial, ip: string): Error | undefined {
  const certificate = new X509Certificate(material.server.certificatePem);
  return tls.checkServerIdentity(ip, certificate.toLegacyObject());
}

describe('server certificate names', () => {
  test('covers localhost, 127.0.0.1, ::1 and the configured extra names, nothing else', async () => {
    const material = await loadOrCreateTlsMaterial({
      dataDir: null,
      hostNames: ['myhub.local', '10.1.2.3:8443'],
    });
    assert.equal(material.caCertificatePath, null);
    assert.deepEqual(
      describeCertificate(material.server.certificatePem).names.map((n) => `${n.type}:${n.value}`),
      ['dns:localhost', 'ip:127.0.0.1', 'ip:::1', 'dns:myhub.local', 'ip:10.1.2.3'],
    );
    assert.equal(await verifyAs(material, 'localhost'), null);
    assert.equal(await verifyAs(material, 'myhub.local'), null);
    assert.equal(checkIp(material, '127.0.0.1'), undefined);
    assert.equal(checkIp(material, '::1'), undefined);
    assert.equal(checkIp(material, '10.1.2.3'), undefined);
    const wrongName = await verifyAs(material, 'other.example');
    assert.equal((wrongName as NodeJS.ErrnoException | null)?.code, 'ERR_TLS_CERT_ALTNAME_INVALID');
    assert.ok(checkIp(material, '10.9.9.9'), 'an IP that is not in the SANs must not verify');
  });

  test('the server certificate does not verify against a different CA', async () => {
    const one = await loadOrCreateTlsMaterial({ dataDir: null });
    const other = await loadOrCreateTlsMaterial({ dataDir: null });
    const mixed: TlsMaterial = { ...one, ca: other.ca };
    assert.ok(await verifyAs(mixed, 'localhost'));
  });

  test('bad host names are rejected with the value and the valid forms', () => {
    assert.throws(() => serverNames(['bad name!']), /Invalid hub host name "bad name!": expected a DNS name/);
  });
});

describe('TLS material in the data directory', () => {
  test('first start writes ca.pem, ca-key.pem, server.pem, server-key.pem, keys 0600', async () => {
    const dir = tempDir();
    const material = await loadOrCreateTlsMaterial({ dataDir: dir });
    assert.deepEqual(material.origin, { ca: 'created', server: 'created' });
    assert.equal(material.caCertificatePath, path.join(dir, 'ca.pem'));
    assert.equal(readFileSync(path.join(dir, 'ca.pem'), 'utf8'), material.ca.certificatePem);
    assert.equal(readFileSync(path.join(dir, 'server.pem'), 'utf8'), material.server.certificatePem);
    for (const keyFile of ['ca-key.pem', 'server-key.pem']) {
      assert.equal(statSync(path.join(dir, keyFile)).mode & 0o777, 0o600, `${keyFile} must be 0600`);
    }
    assert.equal(await verifyAs(material, 'localhost'), null);
  });

  test('a restart with the same names reuses the CA and the server certificate', async () => {
    const dir = tempDir();
    const first = await loadOrCreateTlsMaterial({ dataDir: dir, hostNames: ['myhub.local'] });
    const second = await loadOrCreateTlsMaterial({ dataDir: dir, hostNames: ['MyHub.local'] });
    assert.deepEqual(second.origin, { ca: 'reused', server: 'reused' });
    assert.equal(second.ca.certificatePem, first.ca.certificatePem);
    assert.equal(second.ca.privateKeyPem, first.ca.privateKeyPem);
    assert.equal(second.server.certificatePem, first.server.certificatePem);
  });

  test('names the CA still permits re-issue the server certificate from the same CA', async () => {
    const dir = tempDir();
    // The CA permits what it was made for (tls-ca-constraints.test.ts): start wide, then narrow.
    const first = await loadOrCreateTlsMaterial({ dataDir: dir, hostNames: ['gateway.lan', 'other.lan'] });
    const second = await loadOrCreateTlsMaterial({ dataDir: dir, hostNames: ['gateway.lan'] });
    assert.deepEqual(second.origin, { ca: 'reused', server: 'reissued' });
    assert.equal(
      second.ca.certificatePem,
      first.ca.certificatePem,
      'clients that trusted ca.pem keep working',
    );
    assert.notEqual(second.server.certificatePem, first.server.certificatePem);
    assert.equal(readFileSync(path.join(dir, 'server.pem'), 'utf8'), second.server.certificatePem);
    assert.equal(await verifyAs(second, 'gateway.lan'), null);
    // Trusting the first start's CA file is enough for the re-issued certificate.
    assert.equal(await verifyAs({ ...second, ca: first.ca }, 'gateway.lan'), null);
  });
});
