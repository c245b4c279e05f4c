/**
 * Debian's chromium driven by playwright-core, for the web view's browser test. The hub's certificate is
 * trusted by pinning, not by turning verification off: the hub's server certificate is fetched over a
 * TLS connection that verifies it against the hub's CA (so the pin is for the certificate the CA
 * vouches for), and chromium is started with `--ignore-certificate-errors-spki-list=<sha256 of its SPKI>`.
 * Chromium then accepts that one key, and only it, in place of a trusted chain; any other certificate
 * (another site, a different key on this port) still fails as usual. The alternative, playwright's
 * `ignoreHTTPSErrors`, would accept every certificate for every origin the page reaches.
 * Chromium honours the flag only with `--user-data-dir`, which playwright always passes (a fresh
 * temporary profile per launch).
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import * as tls from 'node:tls';
import { type Browser, chromium } from 'playwright-core';
import type { LocalHub } from '../../local-hub/index';
import { within } from './runtime-wait';

export const CHROMIUM_PATH = '/usr/bin/chromium';

/** base64(sha256(SubjectPublicKeyInfo DER)) of the certificate the hub serves, verified against its CA. */
export function pinnedServerKey(hub: Pick<LocalHub, 'hostName' | 'caCertificatePem'>): Promise<string> {
  const [host, port] = hub.hostName.split(':');
  const pin = new Promise<string>((resolve, reject) => {
    const socket = tls.connect({ host, port: Number(port), ca: hub.caCertificatePem }, () => {
      const certificate = socket.getPeerX509Certificate();
      socket.destroy();
      if (!certificate) return reject(new Error('the hub presented no certificate'));
      const spki = certificate.publicKey.export({ type: 'spki', format: 'der' });
      resolve(createHash('sha256').update(spki).digest('base64'));
    });
    socket.on('error', reject);
  });
  return within(`a verified TLS connection to ${hub.hostName}`, pin);
}

/** Fails (never skips) when chromium is missing, saying how to install it. */
export async function launchPinnedChromium(spkiPin: string): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `chromium is not installed at ${CHROMIUM_PATH}: install Debian's package with ` +
        '`sudo apt-get install -y chromium` (.ci/run does it on fresh machines)',
    );
  }
  return within(
    'chromium to start',
    chromium.launch({
      executablePath: CHROMIUM_PATH,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        `--ignore-certificate-errors-spki-list=${spkiPin}`,
      ],
    }),
  );
}
