/**
 * startLocalHub as a whole: the one address and its connection strings, the CA kept in the data
 * directory across in-process restarts, a clear failure when the port is taken, and close() ending
 * every kind of connection (HTTP keep-alive, MQTT, TLS-but-silent) before it resolves.
 */
import * as assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as https from 'node:https';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import * as tls from 'node:tls';
import { createHubClient } from '../../dynamic-providers/iothub-client';
import { PROGRAM_POLICY_NAME, WELL_KNOWN_POLICIES } from '../../lib/local-hub-defaults';
import { connectRawMqtt, deviceSasToken, startTestHub } from '../support/local-hub-fixture';
import { within } from '../support/runtime-wait';

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('addressing', () => {
  test('one HostName=127.0.0.1:<port> for every policy; the default is the program policy', async () => {
    const hub = await startTestHub();
    try {
      assert.equal(hub.hostName, `127.0.0.1:${hub.port}`);
      assert.deepEqual(
        Object.keys(hub.connectionStrings).sort(),
        WELL_KNOWN_POLICIES.map((p) => p.keyName).sort(),
      );
      const owner = WELL_KNOWN_POLICIES.find((p) => p.keyName === 'iothubowner')!;
      assert.equal(
        hub.connectionStrings['iothubowner'],
        `HostName=${hub.hostName};SharedAccessKeyName=iothubowner;SharedAccessKey=${owner.primaryKey}`,
      );
      assert.equal(hub.serviceConnectionString(), hub.connectionStrings[PROGRAM_POLICY_NAME]);
      assert.throws(
        () => hub.serviceConnectionString('nope'),
        /Unknown policy "nope"; this hub's policies: iothubowner/,
      );
      assert.throws(() => hub.deviceConnectionString('ghost'), /Device "ghost" is not registered/);
    } finally {
      await hub.close();
    }
  });

  test('HostName=localhost:<port> works too (SAN localhost, sr=localhost:<port> is this hub)', async () => {
    const hub = await startTestHub();
    try {
      const cs = hub.serviceConnectionString().replace('127.0.0.1', 'localhost');
      const { registry } = createHubClient(cs, { caCertificate: hub.caCertificatePem });
      assert.equal(
        (await registry.create({ deviceId: 'via-localhost' })).responseBody.deviceId,
        'via-localhost',
      );
    } finally {
      await hub.close();
    }
  });

  test('a taken port fails the start with a message that says what to do', async () => {
    const first = await startTestHub();
    try {
      await assert.rejects(
        startTestHub({ port: first.port }),
        /Port \d+ on 127\.0\.0\.1 is already in use; .*--port/,
      );
    } finally {
      await first.close();
    }
  });

  test('invalid options are all reported at once', async () => {
    await assert.rejects(
      startTestHub({ port: 70000, logLevel: 'loud' as never, dataDir: '/tmp/x', inMemory: true }),
      (error: Error) =>
        /port: 70000/.test(error.message) &&
        /logLevel: "loud"/.test(error.message) &&
        /inMemory and dataDir/.test(error.message),
    );
  });
});

describe('data directory', () => {
  test('the CA is written once and reused by the next start on the same directory', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'hub-ca-'));
    dirs.push(dataDir);
    // A name the CA was made for: a new name outside its constraints would regenerate it (item 13).
    const first = await startTestHub({ dataDir, hostNames: ['hub.example.test'] });
    const firstCa = first.caCertificatePem;
    assert.equal(first.caCertificatePath, path.join(dataDir, 'ca.pem'));
    assert.equal(readFileSync(first.caCertificatePath!, 'utf8'), firstCa);
    await first.close();

    const second = await startTestHub({ dataDir, hostNames: ['hub.example.test'] });
    try {
      assert.equal(second.caCertificatePem, firstCa);
      const { registry } = createHubClient(second.serviceConnectionString(), { caCertificate: firstCa });
      await registry.create({ deviceId: 'after-restart' });
    } finally {
      await second.close();
    }
  });
});

describe('close()', () => {
  test('ends keep-alive HTTPS, MQTT and silent TLS connections, then resolves', {
    timeout: 10_000,
  }, async () => {
    const hub = await startTestHub();
    hub.state.createDevice('closer', { deviceId: 'closer' });
    const agent = new https.Agent({ keepAlive: true });
    await new Promise<void>((resolve, reject) =>
      https
        .get(
          {
            host: '127.0.0.1',
            port: hub.port,
            path: '/devices?api-version=2021-04-12',
            ca: hub.caCertificatePem,
            agent,
          },
          (res) => {
            res.resume();
            res.on('end', resolve);
          },
        )
        .on('error', reject),
    );
    const httpSocket = Object.values(agent.freeSockets).flat()[0]!;
    const key = hub.state.findIdentity('closer', null)!.authentication.symmetricKey.primaryKey!;
    const mqttClient = (
      await connectRawMqtt(hub, {
        clientId: 'closer',
        password: deviceSasToken({ hostName: hub.hostName, deviceId: 'closer', key }),
      })
    ).client!;
    const silent = tls.connect({ host: '127.0.0.1', port: hub.port, ca: hub.caCertificatePem });
    await within('the idle TLS client to connect', once(silent, 'secureConnect'));

    // The hub resets what it ends: only the 'close' matters here, not the client-side error.
    const closed = (emitter: NodeJS.EventEmitter) =>
      new Promise((resolve) => emitter.on('error', () => {}).once('close', resolve));
    const allClosed = Promise.all([closed(httpSocket), closed(mqttClient), closed(silent)]);
    await hub.close();
    await within('every connection to be closed by hub.close()', allClosed);
    mqttClient.end(true);
    agent.destroy();
    assert.throws(() => hub.state.getDevice('closer'), /closed/, 'the store is closed too');
  });
});
