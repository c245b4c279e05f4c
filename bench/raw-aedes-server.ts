/**
 * The fan-out baseline's broker, run as its own process (as the hub is): plain aedes 1.x behind the
 * same TLS settings as the hub's dispatcher (same kind of certificate from the hub's TLS code, TLS ≥
 * 1.2, Nagle off per docs/iot-hub-behaviour.md §3.9.3), no IoT Hub rules, no store. On an IPC `publish` message it
 * hands each payload to its one client with `client.publish` (what the hub does for a desired patch,
 * §0.9), then answers `published`. A reported-properties PATCH from a client is answered `204` on
 * `$iothub/twin/res/204/?$rid=…` without being parsed or stored (bench/fleet-configuration.ts: the floor of
 * a module's acknowledgement landing; fan-out's clients never send one).
 *
 * Run by bench/fan-out.ts; prints one JSON line `{ "port": n, "caPem": "..." }` when listening.
 */
import { once } from 'node:events';
import * as tls from 'node:tls';
import { loadOrCreateTlsMaterial } from '../local-hub/tls/tls-material';

export interface RawPublish {
  clientId: string;
  topic: string;
  payload: string;
}

const REPORTED_PATCH = '$iothub/twin/PATCH/properties/reported/?';

export type RawServerMessage = { cmd: 'publish'; items: RawPublish[] } | { cmd: 'close' };

async function main(): Promise<void> {
  const { Aedes } = await import('aedes');
  const broker = await Aedes.createBroker({ maxClientsIdLength: 257 });
  const material = await loadOrCreateTlsMaterial({ dataDir: null });
  const server = tls.createServer(
    {
      key: material.server.privateKeyPem,
      cert: material.server.certificatePem,
      minVersion: 'TLSv1.2',
      requestCert: true,
      rejectUnauthorized: false,
      noDelay: true,
    },
    (socket) => broker.handle(socket),
  );
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  process.stdout.write(`${JSON.stringify({ port, caPem: material.ca.certificatePem })}\n`);
  // `broker.clients` and `client.publish` exist at runtime but not in aedes' typings (docs/iot-hub-behaviour.md §3.9).
  const clients = (
    broker as unknown as { clients: Record<string, { publish: (p: unknown, cb: () => void) => void }> }
  ).clients;

  let reportedVersion = 1;
  broker.on('publish', (packet, client) => {
    if (!client || !packet.topic.startsWith(REPORTED_PATCH)) return;
    const rid = new URLSearchParams(packet.topic.slice(REPORTED_PATCH.length)).get('$rid') ?? '';
    reportedVersion += 1;
    const reply = {
      cmd: 'publish',
      topic: `$iothub/twin/res/204/?$rid=${encodeURIComponent(rid)}&$version=${reportedVersion}`,
      payload: Buffer.alloc(0),
      qos: 0,
      retain: false,
      dup: false,
    };
    (client as unknown as { publish: (p: unknown, cb: () => void) => void }).publish(reply, () => undefined);
  });

  process.on('message', (message: RawServerMessage) => {
    if (message.cmd === 'close') {
      broker.close(() => server.close(() => process.exit(0)));
      return;
    }
    let missing = 0;
    for (const item of message.items) {
      const client = clients[item.clientId];
      if (!client) {
        missing++;
        continue;
      }
      const packet = {
        cmd: 'publish',
        topic: item.topic,
        payload: Buffer.from(item.payload),
        qos: 0,
        retain: false,
        dup: false,
      };
      client.publish(packet, () => undefined);
    }
    process.send!({ cmd: 'published', missing });
  });
}

main().catch((error) => {
  process.stderr.write(`${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
