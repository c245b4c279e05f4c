/**
 * The aedes boundary: its types and the few runtime fields the hub needs that aedes' typings omit
 * (`broker.clients`, `client.subscriptions`; docs/iot-hub-behaviour.md §3.9), in one place.
 */
import type { TLSSocket } from 'node:tls';
import type { HubLogger } from '../hub-logger';

// aedes 1.x is ESM-only and this file is CommonJS: its types come through `import()` type queries
// (an `import type` statement would need an import attribute that biome cannot parse yet).
export type Aedes = import('aedes', { with: { 'resolution-mode': 'import' }}).Aedes;
export type Client = import('aedes', { with: { 'resolution-mode': 'import' }}).Client;
export type PublishPacket = import('aedes', { with: { 'resolution-mode': 'import' }}).PublishPacket;
export type Subscription = import('aedes', { with: { 'resolution-mode': 'import' }}).Subscription;
export type AedesPublishPacket = import('aedes', { with: { 'resolution-mode': 'import' }}).AedesPublishPacket;

/** `broker.clients` and `client.subscriptions` exist at runtime but not in aedes' typings (§3.9). */
export function clientsOf(broker: Aedes): Record<string, Client> {
  return (broker as unknown as { clients: Record<string, Client> }).clients;
}

export function subscriptionsOf(client: Client): Record<string, unknown> {
  return (client as unknown as { subscriptions: Record<string, unknown> }).subscriptions;
}

export function peerCertificateOf(client: Client): { fingerprint: string; fingerprint256: string } | null {
  const socket = client.conn as Partial<TLSSocket>;
  const certificate =
    typeof socket.getPeerCertificate === 'function' ? socket.getPeerCertificate() : undefined;
  if (!certificate?.fingerprint || !certificate.fingerprint256) return null;
  return { fingerprint: certificate.fingerprint, fingerprint256: certificate.fingerprint256 };
}

export function remoteOf(client: Client): string | undefined {
  return (client.conn as Partial<TLSSocket>).remoteAddress;
}

/** Delivers to this one connection only (never `broker.publish`, which would fan out: §0.9). */
export function publishTo(client: Client, logger: HubLogger, topic: string, payload: string): void {
  const packet = { cmd: 'publish', topic, payload: Buffer.from(payload), qos: 0, retain: false, dup: false };
  client.publish(packet as PublishPacket, (error) => {
    if (error) logger.debug('mqtt delivery failed', { clientId: client.id, error: error.message });
  });
}
