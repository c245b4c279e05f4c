/**
 * Direct methods in the device runtime, against a local hub, called through the official service SDK
 * (`createServiceClient`) and through `npm run invoke-method` (scripts/invoke-method.ts): typed handlers
 * answer, an unknown name is answered 501 with the methods that exist, invalid payloads 400, a handler's
 * MethodError its own status, any other throw 500, and the runtime keeps answering and reconciling after
 * all of them. `npm run device` logs each call; the CLI never takes the connection string from argv.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Client as ServiceClient } from 'azure-iothub';
import {
  type DeviceRuntime,
  defineMethod,
  MethodError,
  type MethodHandlers,
  startDeviceRuntime,
} from '../../device-runtime/index';
import type { MethodEvent } from '../../device-runtime/runtime-events';
import { createHubClient, createServiceClient, type HubClient } from '../../dynamic-providers/iothub-client';
import type { LocalHub } from '../../local-hub/index';
import { EXIT, runInvokeMethod } from '../../scripts/invoke-method';
import { startTestHub } from '../support/local-hub-fixture';
import { spawnProjectScript, spawnRuntimeCli } from '../support/runtime-cli-process';
import { waitFor, within } from '../support/runtime-wait';

const DEVICE = 'methods-runtime-device';
const MODULE = 'methods-runtime-module';

let hub: LocalHub;
let service: HubClient;
let methods: ServiceClient;
let runtime: DeviceRuntime;
let dir: string;
const lines: string[] = [];
const events: MethodEvent[] = [];
let reboots = 0;

const custom: MethodHandlers = {
  reboot: defineMethod<{ delaySeconds: number }>({
    description: 'pretends to reboot after delaySeconds',
    validate: (payload) =>
      typeof payload === 'object' &&
      payload !== null &&
      !Array.isArray(payload) &&
      typeof payload['delaySeconds'] === 'number'
        ? undefined
        : `reboot expects {"delaySeconds": <number>}; got ${JSON.stringify(payload)}`,
    invoke: async ({ delaySeconds }) => {
      reboots += 1;
      return { status: 202, payload: { scheduledInSeconds: delaySeconds } };
    },
  }),
  busy: defineMethod({
    invoke: () => {
      throw new MethodError(409, 'a firmware update is in progress', 'Busy');
    },
  }),
  crash: defineMethod({
    invoke: async () => {
      throw new TypeError('cannot read properties of undefined (SharedAccessKey=c2VjcmV0)');
    },
  }),
  oddStatus: defineMethod({ invoke: () => ({ status: 42, payload: 'x' }) }),
  nothing: defineMethod({ invoke: () => undefined }),
};

async function invoke(methodName: string, payload: unknown = null) {
  const { result } = await within(
    `method ${methodName}`,
    methods.invokeDeviceMethod(DEVICE, MODULE, { methodName, payload, responseTimeoutInSeconds: 10 }),
  );
  return result as { status: number; payload: any };
}

before(async () => {
  hub = await startTestHub();
  service = createHubClient(hub.serviceConnectionString(), { caCertificate: hub.caCertificatePem });
  await service.registry.create({ deviceId: DEVICE });
  await service.registry.addModule({ deviceId: DEVICE, moduleId: MODULE } as any);
  methods = createServiceClient(hub.serviceConnectionString('service'), {
    caCertificate: hub.caCertificatePem,
  });
  runtime = await startDeviceRuntime({
    connectionString: hub.deviceConnectionString(DEVICE, MODULE),
    ca: hub.caCertificatePem,
    env: {},
    config: { operationTimeoutSeconds: 10, reconnectMinDelaySeconds: 0.1 },
    methods: custom,
    logger: { info: (line) => lines.push(line), warn: (line) => lines.push(`WARN ${line}`) },
  });
  runtime.on('method', (event) => events.push(event));
  await within('the runtime to connect', once(runtime, 'connected'));
  dir = mkdtempSync(path.join(tmpdir(), 'invoke-method-'));
});

after(async () => {
  await runtime?.stop();
  await hub?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('direct methods in the device runtime', () => {
  test('built-in ping and getState answer as soon as the runtime says connected', async () => {
    const ping = await invoke('ping', { hello: 1 });
    assert.equal(ping.status, 200);
    assert.equal(ping.payload.pong, true);
    assert.deepEqual(ping.payload.echo, { hello: 1 });
    await waitFor('the first reconcile', () => (runtime.current.version !== undefined ? true : undefined));
    const state = await invoke('getState');
    assert.equal(state.status, 200);
    assert.equal(state.payload.desiredVersion, runtime.current.version);
    assert.equal(typeof state.payload.telemetryIntervalSeconds, 'number');
  });

  test('a typed handler gets its validated payload and chooses its status', async () => {
    const answer = await invoke('reboot', { delaySeconds: 5 });
    assert.deepEqual(answer, { status: 202, payload: { scheduledInSeconds: 5 } });
    assert.equal(reboots, 1);
    const invalid = await invoke('reboot', 'now');
    assert.equal(invalid.status, 400);
    assert.equal(invalid.payload.error, 'InvalidPayload');
    assert.match(invalid.payload.message, /reboot expects \{"delaySeconds": <number>\}; got "now"/);
    assert.equal(reboots, 1, 'an invalid payload never reaches invoke');
  });

  test('an unknown method is answered 501 at once, naming the methods that exist', async () => {
    const started = Date.now();
    const answer = await invoke('selfDestruct', { now: true });
    assert.equal(answer.status, 501);
    assert.equal(answer.payload.error, 'NotImplemented');
    assert.equal(answer.payload.method, 'selfDestruct');
    assert.deepEqual(answer.payload.methods, [
      'busy',
      'crash',
      'getState',
      'nothing',
      'oddStatus',
      'ping',
      'reboot',
    ]);
    assert.match(answer.payload.message, /method "selfDestruct" is not implemented by this module/);
    assert.ok(Date.now() - started < 5000, 'not left to the hub timeout');
  });

  test('handler errors become status codes, secrets redacted, and the runtime goes on', async () => {
    const busy = await invoke('busy');
    assert.deepEqual(busy, {
      status: 409,
      payload: { error: 'Busy', message: 'a firmware update is in progress' },
    });
    const crash = await invoke('crash');
    assert.equal(crash.status, 500);
    assert.equal(crash.payload.error, 'HandlerFailed');
    assert.match(crash.payload.message, /TypeError: cannot read properties of undefined/);
    assert.doesNotMatch(crash.payload.message, /c2VjcmV0/);
    const odd = await invoke('oddStatus');
    assert.equal(odd.status, 500);
    assert.match(odd.payload.message, /answered status 42/);
    assert.deepEqual(await invoke('nothing'), { status: 200, payload: null });
    // Still connected, still answering, still reconciling desired properties.
    assert.equal((await invoke('ping')).status, 200);
    await service.registry.updateModuleTwin(
      DEVICE,
      MODULE,
      { properties: { desired: { telemetryInterval: 7 } } },
      '*',
    );
    await waitFor('the runtime to apply 7', () =>
      runtime.telemetryIntervalSeconds === 7 ? true : undefined,
    );
    assert.equal(runtime.current.connected, true);
  });

  test('every call is logged in one line and emitted as an event', async () => {
    const before = events.length;
    await invoke('busy');
    const event = await waitFor('the method event', () =>
      events.slice(before).find((e) => e.name === 'busy'),
    );
    assert.equal(event.status, 409);
    assert.ok(
      lines.some((line) =>
        new RegExp(
          `^Direct method received: busy \\(request ${event.requestId}\\), answered 409 in \\d+ ms$`,
        ).test(line),
      ),
      lines.join('\n'),
    );
  });
});

describe('npm run invoke-method', () => {
  function io() {
    const out: string[] = [];
    const err: string[] = [];
    return { out, err, io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) } };
  }

  function files() {
    const caFile = path.join(dir, 'ca.pem');
    writeFileSync(caFile, hub.caCertificatePem);
    const connectionFile = path.join(dir, 'service.txt');
    writeFileSync(connectionFile, `${hub.serviceConnectionString('service')}\n`);
    return { caFile, connectionFile };
  }

  test('calls a module method with the connection string from a file and prints the answer', async () => {
    const { caFile, connectionFile } = files();
    const { out, err, io: sink } = io();
    const code = await runInvokeMethod(
      [
        '--device',
        DEVICE,
        '--module',
        MODULE,
        '--method',
        'reboot',
        '--payload',
        '{"delaySeconds":3}',
        '--ca',
        caFile,
      ],
      { IOTHUB_CONNECTION_STRING_FILE: connectionFile },
      sink,
    );
    assert.equal(code, EXIT.ok, err.join('\n'));
    assert.deepEqual(JSON.parse(out.join('\n')), { status: 202, payload: { scheduledInSeconds: 3 } });
  });

  test('a status the device chose that is not 2xx exits 1; the hub refusing exits 3 with the reason', async () => {
    const { caFile } = files();
    const env = { IOTHUB_CONNECTION_STRING: hub.serviceConnectionString('service'), IOTHUB_CA_FILE: caFile };
    const busy = io();
    assert.equal(
      await runInvokeMethod(['--device', DEVICE, '--module', MODULE, '--method', 'busy'], env, busy.io),
      EXIT.deviceStatus,
    );
    assert.equal(JSON.parse(busy.out.join('\n')).status, 409);

    await service.registry.create({ deviceId: 'methods-offline' });
    const offline = io();
    assert.equal(
      await runInvokeMethod(['--device', 'methods-offline', '--method', 'ping'], env, offline.io),
      EXIT.failed,
    );
    assert.match(offline.err.join('\n'), /not connected \(404 DeviceNotOnline\)/);

    const rights = io();
    const noServiceConnect = {
      ...env,
      IOTHUB_CONNECTION_STRING: hub.serviceConnectionString('registryRead'),
    };
    assert.equal(
      await runInvokeMethod(
        ['--device', DEVICE, '--module', MODULE, '--method', 'ping'],
        noServiceConnect,
        rights.io,
      ),
      EXIT.failed,
    );
    assert.match(rights.err.join('\n'), /needs a policy with ServiceConnect/);
    assert.doesNotMatch(rights.err.join('\n'), /SharedAccessKey=/);
  });

  test('bad usage exits 2 with every problem; a connection string on argv is refused', async () => {
    const { err, io: sink } = io();
    const code = await runInvokeMethod(
      [
        '--connection-string',
        hub.serviceConnectionString('service'),
        '--response-timeout',
        '2',
        '--payload',
        '{x',
      ],
      {},
      sink,
    );
    assert.equal(code, EXIT.usage);
    const text = err.join('\n');
    assert.match(text, /--connection-string: not accepted/);
    assert.match(text, /--device: is required/);
    assert.match(text, /--method: is required/);
    assert.match(text, /--response-timeout: must be a whole number of seconds from 5 to 300; got "2"/);
    assert.doesNotMatch(text, /SharedAccessKey=/);
  });

  test('as a process (npm run invoke-method): prints the answer and exits', async (t) => {
    const { caFile, connectionFile } = files();
    const cli = spawnProjectScript(
      t,
      path.join('scripts', 'invoke-method.ts'),
      ['--device', DEVICE, '--module', MODULE, '--method', 'unknownOne'],
      { ...process.env, IOTHUB_CONNECTION_STRING_FILE: connectionFile, IOTHUB_CA_FILE: caFile },
    );
    const [code] = await within('the CLI to exit', cli.exited);
    const output = cli.output();
    assert.equal(code, EXIT.deviceStatus, output);
    assert.equal(JSON.parse(output).status, 501);
  });
});

test('npm run device logs each direct method call it answers', async (t) => {
  await service.registry.addModule({ deviceId: DEVICE, moduleId: 'cli-methods' } as any);
  const caFile = path.join(dir, 'cli-ca.pem');
  writeFileSync(caFile, hub.caCertificatePem);
  const { child, output, exited } = spawnRuntimeCli(
    t,
    hub.deviceConnectionString(DEVICE, 'cli-methods'),
    caFile,
  );
  await waitFor('the CLI runtime to connect', () => output().includes('Connected to the hub') || undefined);
  const { result } = await within(
    'ping through the CLI runtime',
    methods.invokeDeviceMethod(DEVICE, 'cli-methods', { methodName: 'ping', connectTimeoutInSeconds: 10 }),
  );
  assert.equal((result as { status: number }).status, 200);
  await methods.invokeDeviceMethod(DEVICE, 'cli-methods', { methodName: 'nope' });
  await waitFor('both log lines', () =>
    /Direct method received: ping \(request [0-9a-f]+\), answered 200 in \d+ ms/.test(output()) &&
    /Direct method received: nope \(request [0-9a-f]+\), answered 501 in \d+ ms/.test(output())
      ? true
      : undefined,
  );
  child.kill('SIGTERM');
  const [code] = await within('the CLI to exit', exited);
  assert.equal(code, 0, output());
});
