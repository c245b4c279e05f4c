/**
 * The single TLS port (docs/iot-hub-behaviour.md §3.9): HTTP and MQTT on one listener, TLS 1.2 and 1.3, clients that
 * send nothing or reset during the peek, and the regression guard for the dispatched http.Server's
 * timeouts and closeAllConnections (which rely on Node internals, §3.9 point 4).
 */
import * as assert from 'node:assert/strict';
import { once } from 'node:events';
import * as https from 'node:https';
import * as net from 'node:net';
import { after, before, describe, test } from 'node:test';
import * as tls from 'node:tls';
import * as mqtt from 'mqtt';
import { loadOrCreateTlsMaterial, type TlsMaterial } from '../../local-hub/tls/tls-material';
import { createDispatchedHttpServer } from '../../local-hub/transport/dispatched-http-server';
import { createTlsDispatcher, type DispatcherEvent } from '../../local-hub/transport/tls-dispatcher';
import { within } from '../support/runtime-wait';

interface Rig {
  port: number;
  events: DispatcherEvent[];
  close(): Promise<void>;
}

let material: TlsMaterial;

before(async () => {
  material = await loadOrCreateTlsMaterial({ dataDir: null });
});

/** A dispatcher over a real aedes broker and a real http.Server, on 127.0.0.1 port 0. */
async function startRig(
  o: {
    peekTimeoutMs?: number;
    headersTimeout?: number;
    checkEveryMs?: number;
    keepAliveTimeout?: number;
  } = {},
) {
  const { Aedes } = await import('aedes');
  const broker = await Aedes.createBroker();
  const http = createDispatchedHttpServer(
    (req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(`hello ${req.url}`);
    },
    {
      ...(o.headersTimeout !== undefined
        ? { headersTimeout: o.headersTimeout, requestTimeout: o.headersTimeout * 2 }
        : {}),
      ...(o.checkEveryMs !== undefined ? { connectionsCheckingInterval: o.checkEveryMs } : {}),
      ...(o.keepAliveTimeout !== undefined ? { keepAliveTimeout: o.keepAliveTimeout } : {}),
    },
  );
  const events: DispatcherEvent[] = [];
  const dispatcher = createTlsDispatcher({
    certificatePem: material.server.certificatePem,
    privateKeyPem: material.server.privateKeyPem,
    handleMqtt: (socket) => broker.handle(socket),
    httpServer: http.server,
    ...(o.peekTimeoutMs !== undefined ? { peekTimeoutMs: o.peekTimeoutMs } : {}),
    onEvent: (event) => events.push(event),
  });
  dispatcher.server.listen(0, '127.0.0.1');
  await within('the dispatcher to listen', once(dispatcher.server, 'listening'));
  const port = (dispatcher.server.address() as net.AddressInfo).port;
  const close = async () => {
    await new Promise<void>((resolve) => broker.close(() => resolve()));
    await http.close();
    await dispatcher.close();
  };
  return { port, events, close, http } satisfies Rig & { http: unknown };
}

function httpsGet(
  port: number,
  path: string,
  agent?: https.Agent,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get(
      { host: '127.0.0.1', port, path, ca: material.ca.certificatePem, ...(agent ? { agent } : {}) },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => {
          body += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
  });
}

function connectTls(port: number, extra: tls.ConnectionOptions = {}): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ca: material.ca.certificatePem, ...extra }, () =>
      resolve(socket),
    );
    socket.once('error', reject);
  });
}

describe('one TLS port for HTTPS and MQTT', () => {
  let rig: Awaited<ReturnType<typeof startRig>>;
  before(async () => {
    rig = await startRig();
  });
  after(() => rig.close());

  test('an HTTPS request is served by the http.Server', async () => {
    const response = await httpsGet(rig.port, '/ping');
    assert.equal(response.status, 200);
    assert.equal(response.body, 'hello /ping');
    assert.ok(rig.events.some((e) => e.kind === 'dispatched' && e.protocol === 'http'));
  });

  test('an MQTT client on the same port connects, subscribes and receives', async () => {
    const client = mqtt.connect(`mqtts://127.0.0.1:${rig.port}`, {
      ca: material.ca.certificatePem,
      clientId: 'dispatcher-test',
      reconnectPeriod: 0,
    });
    try {
      await within('the MQTT client to connect', once(client, 'connect'));
      await new Promise<void>((resolve, reject) =>
        client.subscribe('t/1', { qos: 0 }, (error) => (error ? reject(error) : resolve())),
      );
      const received = once(client, 'message');
      client.publish('t/1', 'payload-1');
      const [topic, payload] = (await within('the published message', received)) as [string, Buffer];
      assert.equal(topic, 't/1');
      assert.equal(payload.toString(), 'payload-1');
      assert.ok(rig.events.some((e) => e.kind === 'dispatched' && e.protocol === 'mqtt'));
    } finally {
      client.end(true);
    }
  });

  for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
    test(`${version} is accepted`, async () => {
      const socket = await connectTls(rig.port, { minVersion: version, maxVersion: version });
      try {
        assert.equal(socket.getProtocol(), version);
        assert.equal(socket.authorized, true, 'the client verified the hub certificate against the local CA');
      } finally {
        socket.destroy();
      }
    });
  }

  test('a client without the local CA is refused by its own verification (nothing is disabled)', async () => {
    await assert.rejects(
      new Promise((resolve, reject) => {
        const socket = tls.connect({ host: '127.0.0.1', port: rig.port }, () => resolve(socket));
        socket.once('error', reject);
      }),
      (error: NodeJS.ErrnoException) =>
        /certificate/i.test(error.message) || error.code === 'SELF_SIGNED_CERT_IN_CHAIN',
    );
  });
});

describe('the dispatcher survives misbehaving clients', () => {
  let rig: Awaited<ReturnType<typeof startRig>>;
  before(async () => {
    rig = await startRig({ peekTimeoutMs: 100 });
  });
  after(() => rig.close());

  test('a client that completes TLS and sends nothing is dropped after the peek timeout', async () => {
    const socket = await connectTls(rig.port);
    socket.on('error', () => {});
    await within('the socket to close', once(socket, 'close'));
    assert.ok(rig.events.some((e) => e.kind === 'peek-timeout'));
    assert.equal((await httpsGet(rig.port, '/after-idle')).status, 200);
  });

  test('a client that resets during the peek does not crash the hub', async () => {
    const raw = net.connect(rig.port, '127.0.0.1');
    const socket = tls.connect({ socket: raw, host: '127.0.0.1', ca: material.ca.certificatePem });
    socket.on('error', () => {});
    // A TLS 1.3 server sends its session ticket only after it has processed the client's Finished,
    // so once the ticket arrives the server side is past the handshake and waiting in the peek.
    await within('a TLS session ticket', once(socket, 'session'));
    const closed = once(raw, 'close');
    raw.resetAndDestroy();
    await closed;
    assert.equal((await httpsGet(rig.port, '/after-reset')).body, 'hello /after-reset');
    assert.ok(
      rig.events.some((e) => e.kind === 'peek-error'),
      'the reset reached the peek error handler',
    );
  });

  test('a client that closes before sending anything does not crash the hub', async () => {
    const socket = await connectTls(rig.port);
    socket.end();
    await within('the socket to close', once(socket, 'close'));
    assert.equal((await httpsGet(rig.port, '/after-end')).status, 200);
  });
});

describe('regression: the dispatched http.Server keeps its connection tracking', () => {
  test('headersTimeout is enforced on a dispatched connection (slow headers get 408)', {
    timeout: 10_000,
  }, async () => {
    const rig = await startRig({ headersTimeout: 200, checkEveryMs: 50 });
    try {
      const socket = await connectTls(rig.port);
      let received = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk) => {
        received += chunk;
      });
      socket.write('GET /slow HTTP/1.1\r\nHost: 127.0.0.1\r\n'); // headers never finished
      await within('the socket to close', once(socket, 'close'));
      assert.match(received, /^HTTP\/1\.1 408 /);
    } finally {
      await rig.close();
    }
  });

  test('closing ends idle keep-alive connections and resolves', { timeout: 10_000 }, async () => {
    // The keep-alive timeout is far beyond the test timeout: only closeAllConnections can end the socket.
    const rig = await startRig({ keepAliveTimeout: 600_000 });
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      assert.equal((await httpsGet(rig.port, '/keep', agent)).status, 200);
      const sockets = Object.values(agent.freeSockets).flat();
      assert.equal(sockets.length, 1, 'the agent kept the connection open');
      const closed = once(sockets[0]!, 'close');
      await rig.http.close(); // closeAllConnections() must see the dispatched socket
      await closed;
    } finally {
      agent.destroy();
      await rig.close();
    }
  });
});
