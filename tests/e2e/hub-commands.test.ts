/**
 * `npm run hub -- <command>` as a user runs it: a child process (`scripts/hub.ts`, what `npm run hub`
 * runs) against an in-process local hub, the connection string in a file named by the environment and
 * never in argv. Identities are created by the official Registry; a device runtime (an azure-iot-device
 * ModuleClient) acknowledges desired properties, answers methods and sends telemetry.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type DeviceRuntime, startDeviceRuntime } from '../../device-runtime/index';
import { createHubClient } from '../../dynamic-providers/iothub-client';
import { parseServiceConnectionString } from '../../lib/connection-string';
import type { LocalHub } from '../../local-hub/index';
import { startTestHub } from '../support/local-hub-fixture';
import { waitFor, within } from '../support/runtime-wait';

const PROJECT_ROOT = path.resolve(__dirname, '..', '..');
/** A child starting through tsx on a loaded machine takes seconds; a minute bounds one that hangs. */
const COMMAND_MS = 60_000;

interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

let hub: LocalHub;
let otherHub: LocalHub;
let dir: string;
let env: Record<string, string>;
let runtime: DeviceRuntime;
let ownerKey: string;
let moduleKey: string;

/** Runs `npm run hub -- <args>` with `extraEnv` over an environment without any IOTHUB_* variable. */
async function hubCommand(args: string[], extraEnv: Record<string, string> = env): Promise<CommandResult> {
  const base = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith('IOTHUB_')),
  );
  const child = spawn(process.execPath, ['--import', 'tsx', path.join('scripts', 'hub.ts'), ...args], {
    cwd: PROJECT_ROOT,
    env: { ...base, ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const [code] = await within(
    () => `npm run hub -- ${args.join(' ')} to exit; its output so far:\n${stdout}${stderr}`,
    once(child, 'exit'),
    COMMAND_MS,
  ).catch((error: unknown) => {
    child.kill('SIGKILL');
    throw error;
  });
  const result = { code: code as number | null, stdout, stderr };
  for (const secret of [ownerKey, moduleKey]) {
    if (!args.includes('--show-keys')) {
      assert.ok(!`${stdout}${stderr}`.includes(secret), `a key appeared in the output of ${args.join(' ')}`);
    }
  }
  return result;
}

const described = (r: CommandResult) => `exit ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;

before(async () => {
  hub = await startTestHub();
  otherHub = await startTestHub();
  dir = mkdtempSync(path.join(tmpdir(), 'hub-commands-'));
  const connectionString = hub.serviceConnectionString('iothubowner');
  ownerKey = parseServiceConnectionString(connectionString).sharedAccessKey;
  writeFileSync(path.join(dir, 'owner.cs'), `${connectionString}\n`, { mode: 0o600 });
  writeFileSync(path.join(dir, 'ca.pem'), hub.caCertificatePem);
  writeFileSync(path.join(dir, 'other-ca.pem'), otherHub.caCertificatePem);
  env = {
    IOTHUB_CONNECTION_STRING_FILE: path.join(dir, 'owner.cs'),
    IOTHUB_CA_FILE: path.join(dir, 'ca.pem'),
  };

  const { registry } = createHubClient(hub.serviceConnectionString(), {
    caCertificate: hub.caCertificatePem,
  });
  await registry.create({ deviceId: 'dev-a' });
  await registry.create({ deviceId: 'dev-b' });
  await registry.addModule({ deviceId: 'dev-a', moduleId: 'mod-a' } as Parameters<
    typeof registry.addModule
  >[0]);
  const moduleConnectionString = hub.deviceConnectionString('dev-a', 'mod-a');
  moduleKey = /SharedAccessKey=([^;]+)/.exec(moduleConnectionString)![1]!;
  runtime = await startDeviceRuntime({
    connectionString: moduleConnectionString,
    ca: hub.caCertificatePem,
    env: {},
    config: { telemetryIntervalSeconds: 0.5 },
  });
  await within('the module runtime to connect', once(runtime, 'connected'));
});

after(async () => {
  await runtime?.stop();
  await hub?.close();
  await otherHub?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('npm run hub -- devices and modules', () => {
  test('devices list: a table, and --json rows of a stable shape', async () => {
    const table = await hubCommand(['devices', 'list']);
    assert.equal(table.code, 0, described(table));
    assert.match(table.stdout, /^DEVICE +STATUS +CONNECTION +AUTH +LAST ACTIVITY$/m);
    assert.match(table.stdout, /^dev-a +enabled +\S+ +sas +/m);
    assert.match(table.stdout, /^dev-b +enabled +Disconnected +sas +never$/m);

    const json = await hubCommand(['devices', 'list', '--json']);
    assert.equal(json.code, 0, described(json));
    const rows = JSON.parse(json.stdout) as Record<string, unknown>[];
    assert.deepEqual(
      rows.map((r) => r['deviceId']),
      ['dev-a', 'dev-b'],
    );
    assert.deepEqual(Object.keys(rows[1]!), [
      'deviceId',
      'status',
      'connectionState',
      'authenticationType',
      'lastActivityTime',
    ]);
  });

  test('devices show masks the keys; --show-keys shows them with a connection string that works', async () => {
    const masked = await hubCommand(['devices', 'show', 'dev-b']);
    assert.equal(masked.code, 0, described(masked));
    assert.match(masked.stdout, /primary key +<hidden> \(--show-keys shows it\)/);

    const shown = await hubCommand(['devices', 'show', 'dev-b', '--show-keys', '--json']);
    assert.equal(shown.code, 0, described(shown));
    const view = JSON.parse(shown.stdout) as {
      authentication: { primaryKey: string };
      connectionString: string;
    };
    assert.equal(view.connectionString, hub.deviceConnectionString('dev-b'));
    assert.ok(view.connectionString.endsWith(`SharedAccessKey=${view.authentication.primaryKey}`));
  });

  test('modules list and modules show (masked in --json too)', async () => {
    const list = await hubCommand(['modules', 'list', 'dev-a']);
    assert.equal(list.code, 0, described(list));
    assert.match(list.stdout, /^mod-a +Connected +sas +\S+ +-$/m);

    const show = await hubCommand(['modules', 'show', 'dev-a', 'mod-a', '--json']);
    assert.equal(show.code, 0, described(show));
    const view = JSON.parse(show.stdout) as Record<string, any>;
    assert.equal(view['moduleId'], 'mod-a');
    assert.equal(view['authentication'].primaryKey, '<hidden>');
    assert.equal(view['keysShown'], false);
    assert.equal(view['connectionString'], null);
  });
});

describe('npm run hub -- twin, query, invoke-method, telemetry tail', () => {
  test("twin set-desired changes a module's twin; twin show has the runtime's acks", async () => {
    const set = await hubCommand([
      'twin',
      'set-desired',
      'dev-a',
      'mod-a',
      '--patch',
      '{"telemetryInterval": 0.5, "color": "red"}',
    ]);
    assert.equal(set.code, 0, described(set));
    assert.match(set.stdout, /Desired properties written: desired \$version \d+/);
    const { registry } = createHubClient(hub.serviceConnectionString(), {
      caCertificate: hub.caCertificatePem,
    });
    const twin = (await registry.getModuleTwin('dev-a', 'mod-a')).responseBody;
    assert.equal(twin.properties.desired['color'], 'red');

    const shown = await waitFor('both acknowledgements in twin show', async () => {
      const result = await hubCommand(['twin', 'show', 'dev-a', 'mod-a', '--json']);
      assert.equal(result.code, 0, described(result));
      const summary = JSON.parse(result.stdout) as { properties: { name: string; state: string }[] };
      const states = Object.fromEntries(summary.properties.map((p) => [p.name, p.state]));
      return states['telemetryInterval'] === 'acknowledged' && states['color'] === 'rejected'
        ? summary
        : undefined;
    });
    assert.deepEqual(Object.keys(shown).sort(), [
      'connectionState',
      'desiredVersion',
      'deviceId',
      'etag',
      'moduleId',
      'properties',
      'reportedVersion',
      'tags',
      'twin',
    ]);
    const text = await hubCommand(['twin', 'show', 'dev-a', 'mod-a']);
    assert.match(text.stdout, /^telemetryInterval +0\.5 +0\.5 +acknowledged \(200 at v\d+\)$/m);
    assert.match(text.stdout, /^color +"red" +"red" +rejected \(404 at v\d+\): /m);
  });

  test('twin set-desired --patch-file on a device twin', async () => {
    const file = path.join(dir, 'patch.json');
    writeFileSync(file, '{"firmware": {"version": "1.2"}}');
    const set = await hubCommand(['twin', 'set-desired', 'dev-b', '--patch-file', file, '--json']);
    assert.equal(set.code, 0, described(set));
    const summary = JSON.parse(set.stdout) as {
      moduleId: unknown;
      properties: { name: string; desired: unknown }[];
    };
    assert.equal(summary.moduleId, null);
    assert.deepEqual(summary.properties, [
      {
        name: 'firmware',
        desired: { version: '1.2' },
        reported: null,
        ack: null,
        state: 'pending',
        reason: 'no acknowledgement reported yet',
      },
    ]);
  });

  test('query prints every result, as a table or --json', async () => {
    const sql = "SELECT * FROM devices.modules WHERE deviceId = 'dev-a'";
    const json = await hubCommand(['query', sql, '--json']);
    assert.equal(json.code, 0, described(json));
    const items = JSON.parse(json.stdout) as { moduleId: string }[];
    assert.deepEqual(
      items.map((i) => i.moduleId),
      ['mod-a'],
    );
    const table = await hubCommand(['query', 'SELECT * FROM devices']);
    assert.equal(table.code, 0, described(table));
    assert.match(table.stdout, /\(2 results\)$/m);
  });

  test('invoke-method calls the module, which answers through its ModuleClient', async () => {
    const result = await hubCommand([
      'invoke-method',
      '--device',
      'dev-a',
      '--module',
      'mod-a',
      '--method',
      'ping',
      '--payload',
      '{"n": 1}',
    ]);
    assert.equal(result.code, 0, described(result));
    const answer = JSON.parse(result.stdout) as { status: number; payload: { pong: boolean; echo: unknown } };
    assert.equal(answer.status, 200);
    assert.deepEqual([answer.payload.pong, answer.payload.echo], [true, { n: 1 }]);
  });

  test('telemetry tail --count prints the messages the module sent and exits', async () => {
    const json = await hubCommand(['telemetry', 'tail', 'dev-a', 'mod-a', '--count', '2', '--json']);
    assert.equal(json.code, 0, described(json));
    const lines = json.stdout.trim().split('\n');
    assert.equal(lines.length, 2, described(json));
    for (const line of lines) {
      const message = JSON.parse(line) as Record<string, any>;
      assert.equal(message['deviceId'], 'dev-a');
      assert.equal(message['moduleId'], 'mod-a');
      assert.equal(message['bodyEncoding'], 'json');
      assert.equal(typeof message['body'].sequence, 'number');
      assert.equal(message['properties']['$.on'], 'telemetry');
    }
    const text = await hubCommand(['telemetry', 'tail', '--count', '1', '--only-new']);
    assert.equal(text.code, 0, described(text));
    assert.match(text.stdout, /^\S+ {2}dev-a\/mod-a {2}#\d+ {2}\{"sequence":\d+,.*\[\$\.on=telemetry/m);
  });
});

describe('npm run hub -- errors', () => {
  test('not found names the id (exit 4)', async () => {
    const device = await hubCommand(['devices', 'show', 'nope']);
    assert.equal(device.code, 4, described(device));
    assert.match(device.stderr, /device "nope" does not exist on 127\.0\.0\.1:\d+ \(404 DeviceNotFound\)/);
    const module = await hubCommand(['twin', 'show', 'dev-a', 'nope']);
    assert.equal(module.code, 4, described(module));
    assert.match(module.stderr, /module "nope" of device "dev-a" does not exist/);
  });

  test('an unreachable hub: the address tried and how to start one (exit 5)', async () => {
    const port = await closedPort();
    const result = await hubCommand(['devices', 'list'], {
      IOTHUB_CONNECTION_STRING: hub
        .serviceConnectionString('iothubowner')
        .replace(/HostName=[^;]+/, `HostName=127.0.0.1:${port}`),
    });
    assert.equal(result.code, 5, described(result));
    assert.match(
      result.stderr,
      new RegExp(`cannot reach the hub at 127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\).*npm run hub`),
    );
  });

  test("an untrusted certificate says to pass --ca (exit 5), with no CA or another hub's", async () => {
    const cas: Record<string, string>[] = [{}, { IOTHUB_CA_FILE: path.join(dir, 'other-ca.pem') }];
    for (const ca of cas) {
      const result = await hubCommand(['modules', 'list', 'dev-a'], {
        IOTHUB_CONNECTION_STRING_FILE: path.join(dir, 'owner.cs'),
        ...ca,
      });
      assert.equal(result.code, 5, described(result));
      assert.match(result.stderr, /the hub's certificate is not trusted .*pass --ca <file>/);
    }
  });

  test('bad usage lists what is valid (exit 2)', async () => {
    const result = await hubCommand(['modules', 'show', 'dev-a', '--bogus']);
    assert.equal(result.code, 2, described(result));
    assert.match(
      result.stderr,
      /--bogus: unknown flag for "modules show"; valid flags: --json, --ca, --connection-string-file, --show-keys/,
    );
    assert.match(result.stderr, /modules show: needs <moduleId>/);
  });

  test('an unknown command word lists the commands (exit 2), and serves no hub', async () => {
    const result = await hubCommand(['device', 'list']);
    assert.equal(result.code, 2, described(result));
    assert.match(
      result.stderr,
      /unknown command "device"; commands: devices, modules, twin, query, invoke-method, telemetry/,
    );
  });
});

/** A port nothing listens on: bound, then closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}
