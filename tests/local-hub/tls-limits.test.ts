/**
 * Resources a client holds before it has authenticated anything (issue #10 item 3): a TCP connection
 * that never completes the TLS handshake is closed at the handshake timeout, and connections are
 * capped in total and per remote address, with an event the hub logs. Clients dial 127.0.0.1 from
 * distinct loopback source addresses (127.0.0.2, 127.0.0.3) to act as different hosts.
 */
import * as assert from 'node:assert/strict';
import { once } from 'node:events';
import * as net from 'node:net';
import { after, before, describe, test } from 'node:test';
import * as tls from 'node:tls';
import { loadOrCreateTlsMaterial, type TlsMaterial } from '../../local-hub/tls/tls-material';
import { defaultConnectionLimits, openFileLimit } from '../../local-hub/transport/connection-limits';
import {
  createTlsDispatcher,
  type DispatcherEvent,
  type TlsDispatcherOptions,
} from '../../local-hub/transport/tls-dispatcher';
import { within } from '../support/runtime-wait';

let material: TlsMaterial;
before(async () => {
  material = await loadOrCreateTlsMaterial({ dataDir: null });
});

async function startDispatcher(extra: Partial<TlsDispatcherOptions>) {
  const events: DispatcherEvent[] = [];
  const dispatcher = createTlsDispatcher({
    certificatePem: material.server.certificatePem,
    privateKeyPem: material.server.privateKeyPem,
    handleMqtt: (socket) => socket.destroy(),
    httpServer: {
      emit: (_event, socket) => {
        socket.destroy();
        return true;
      },
    },
    onEvent: (event) => events.push(event),
    ...extra,
  });
  dispatcher.server.listen(0, '127.0.0.1');
  await within('the dispatcher to listen', once(dispatcher.server, 'listening'));
  const port = (dispatcher.server.address() as net.AddressInfo).port;
  return { dispatcher, events, port };
}

/** A plain TCP connection that sends nothing (no ClientHello), from `localAddress`. */
async function idleSocket(port: number, localAddress = '127.0.0.1'): Promise<net.Socket> {
  const socket = net.connect({ host: '127.0.0.1', port, localAddress });
  socket.on('error', () => {});
  await within('the socket to connect', once(socket, 'connect'));
  return socket;
}

/** True when the hub closed `socket` within `ms`. */
async function closedWithin(socket: net.Socket, ms: number): Promise<boolean> {
  if (socket.destroyed && socket.readyState === 'closed') return true;
  let timer: NodeJS.Timeout | undefined;
  const result = await Promise.race([
    once(socket, 'close').then(() => true),
    new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
    }),
  ]);
  clearTimeout(timer);
  return result;
}

function tlsHandshake(port: number, localAddress: string): Promise<'ok' | string> {
  return new Promise((resolve) => {
    const raw = net.connect({ host: '127.0.0.1', port, localAddress });
    raw.on('error', () => {});
    const socket = tls.connect({ socket: raw, servername: 'localhost', ca: material.ca.certificatePem });
    socket.once('secureConnect', () => {
      socket.destroy();
      resolve('ok');
    });
    socket.once('error', (error) => resolve(error.message));
    socket.once('close', () => resolve('closed before the handshake completed'));
  });
}

describe('handshake timeout (item 3)', () => {
  let rig: Awaited<ReturnType<typeof startDispatcher>>;
  before(async () => {
    rig = await startDispatcher({ handshakeTimeoutMs: 300 });
  });
  after(() => rig.dispatcher.close());

  test('a connection that never sends a ClientHello is closed at the handshake timeout', async () => {
    const socket = await idleSocket(rig.port);
    const closed = await closedWithin(socket, 10_000);
    socket.destroy();
    assert.ok(closed, 'the hub kept a connection open that never started TLS');
    assert.ok(
      rig.events.some((e) => e.kind === 'tls-error' && /timed out|timeout/i.test(e.message)),
      JSON.stringify(rig.events),
    );
  });
});

describe('connection caps (item 3)', () => {
  let rig: Awaited<ReturnType<typeof startDispatcher>>;
  const held: net.Socket[] = [];
  before(async () => {
    rig = await startDispatcher({
      handshakeTimeoutMs: 60_000,
      maxConnections: 5,
      maxConnectionsPerAddress: 3,
    });
  });
  after(async () => {
    for (const socket of held) socket.destroy();
    await rig.dispatcher.close();
  });

  test('one address gets at most its share; another address still completes TLS', async () => {
    for (let i = 0; i < 3; i++) held.push(await idleSocket(rig.port, '127.0.0.2'));
    const fourth = await idleSocket(rig.port, '127.0.0.2');
    held.push(fourth);
    assert.ok(await closedWithin(fourth, 10_000), 'a fourth connection from 127.0.0.2 stayed open');
    assert.equal(await tlsHandshake(rig.port, '127.0.0.3'), 'ok');
    const refused = rig.events.find((e) => e.kind === 'connection-refused');
    assert.deepEqual(refused && { ...refused }, {
      kind: 'connection-refused',
      remoteAddress: '127.0.0.2',
      limit: 'per-address',
      max: 3,
    });
  });

  test('the total is capped too', async () => {
    held.push(await idleSocket(rig.port, '127.0.0.3'));
    held.push(await idleSocket(rig.port, '127.0.0.4'));
    const over = await idleSocket(rig.port, '127.0.0.5');
    held.push(over);
    assert.ok(await closedWithin(over, 10_000), 'a sixth connection stayed open (total cap 5)');
    assert.ok(
      rig.events.some((e) => e.kind === 'connection-refused' && e.limit === 'total'),
      JSON.stringify(rig.events),
    );
  });
});

describe('default caps (item 3)', () => {
  test('the total stays under the open-file limit; one address may hold half of it', () => {
    const limits = (text: string) => defaultConnectionLimits(openFileLimit(() => text));
    const procLine = (soft: string) =>
      `Limit  Soft Limit  Hard Limit  Units\nMax open files  ${soft}  ${soft}  files\n`;
    assert.deepEqual(limits(procLine('1024')), { maxConnections: 768, maxConnectionsPerAddress: 384 });
    assert.deepEqual(limits(procLine('1048576')), { maxConnections: 4000, maxConnectionsPerAddress: 2000 });
    assert.deepEqual(limits(procLine('unlimited')), { maxConnections: 4000, maxConnectionsPerAddress: 2000 });
  });
});
