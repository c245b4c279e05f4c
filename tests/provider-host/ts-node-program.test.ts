/**
 * Tier 5 under ts-node: `pulumi up` compiles index.ts with ts-node (registered by
 * @pulumi/pulumi/cmd/run/run.js, type-checking by default), not with tsx/esbuild as the other tiers
 * do, and Pulumi serializes each dynamic provider from THAT compiled code. Here the local stack's
 * dynamic resources are captured in a plain-node child that registers ts-node exactly as run.js does
 * (tests/support/ts-node-register.cjs), and every resource kind then goes Check → Create → Read →
 * Update → Delete through the REAL provider host with the ts-node `__provider`, the effects observed
 * on a running local hub through the official service SDK.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Registry } from 'azure-iothub';
import { createHubClient } from '../../dynamic-providers/iothub-client';
import { WELL_KNOWN_POLICIES } from '../../lib/local-hub-defaults';
import { CA_KEY_FILE } from '../../local-hub/tls/tls-material';
import type { PlainObject } from '../support/host-grpc';
import { assertHubNotFound } from '../support/host-kind-fixture';
import {
  type CapturedResource,
  capturedNamed,
  DYNAMIC_TYPES,
  localStackConfig,
  localUrn,
  type ProgramHub,
  startProgramHub,
} from '../support/host-program';
import { isSecret, reveal } from '../support/host-secrets';
import { hubTwin, twinContent } from '../support/host-twins';
import { type ProviderHost, startProviderHost } from '../support/provider-host';
import { captureDynamicResourcesUnderTsNode } from '../support/ts-node-capture';
import type { CompilerReport } from '../support/ts-node-capture-child';

const DEVICE_ID = 'tsnode-device';
const MODULE_ID = 'tsnode-module';
const DEVICE = `device/${DEVICE_ID}`;
const MODULE = `module/${DEVICE_ID}/${MODULE_ID}`;
const DEVICE_TWIN = `device-twin/${DEVICE_ID}`;
const MODULE_TWIN = `module-twin/${DEVICE_ID}/${MODULE_ID}`;
const DEVICE_PRIMARY = Buffer.from('tsnode-device-primary-key-012345').toString('base64');
const DEVICE_SECONDARY = Buffer.from('tsnode-device-secondary-key-0123').toString('base64');

const DEVICES = [
  {
    deviceId: DEVICE_ID,
    auth: { type: 'sas', primaryKey: DEVICE_PRIMARY, secondaryKey: DEVICE_SECONDARY },
    twin: { desired: { firmware: '1.0.0' }, tags: { site: 'lab' } },
    modules: [{ moduleId: MODULE_ID, twin: { desired: { telemetryInterval: 122 } } }],
  },
];

/** Type-checking the whole program with ts-node on a shared 2-core machine takes tens of seconds. */
const SETUP_TIMEOUT_MS = 300_000;

describe('dynamic providers compiled by ts-node, as `pulumi up` compiles them', () => {
  let target: ProgramHub;
  let host: ProviderHost;
  let registry: Registry;
  let resources: Map<string, CapturedResource>;
  let compiler: CompilerReport;
  let caPrivateKeyBody: string;
  /** Last known state per resource name: what the engine would keep between steps. */
  const state = new Map<string, { id: string; properties: PlainObject; inputs: PlainObject }>();

  const resource = (name: string) => {
    const captured = capturedNamed(resources, name);
    return { ...captured, urn: localUrn(captured) };
  };
  const checked = async (name: string, changes: PlainObject = {}): Promise<PlainObject> => {
    const { urn, inputs } = resource(name);
    const result = await host.check(urn, {}, { ...inputs, ...changes });
    assert.deepEqual(result.failures, [], `Check of ${name} should pass`);
    return result.inputs;
  };
  const stateOf = (name: string) => {
    const known = state.get(name);
    if (!known) throw new Error(`${name} was not created by an earlier step`);
    return known;
  };

  before(
    async () => {
      target = await startProgramHub({ onDisk: true });
      const caKeyPem = fs.readFileSync(path.join(target.hub.dataDir!, CA_KEY_FILE), 'utf8');
      // A line from the middle of the base64 body: PEM headers alone would prove little.
      caPrivateKeyBody = caKeyPem.split('\n')[2]!;
      const capture = await captureDynamicResourcesUnderTsNode(localStackConfig(target, DEVICES), {
        redact: [target.connectionString, DEVICE_PRIMARY, DEVICE_SECONDARY],
      });
      resources = capture.resources;
      compiler = capture.compiler;
      host = await startProviderHost();
      registry = createHubClient(target.connectionString, {
        caCertificate: target.hub.caCertificatePem,
      }).registry;
    },
    { timeout: SETUP_TIMEOUT_MS },
  );

  after(async () => {
    await host?.close();
    await target?.close();
  });

  test('the program was compiled by ts-node as run.js registers it, type-checked, and not by tsx', () => {
    assert.equal(compiler.tsNodeVersion, require('ts-node/package.json').version);
    // run.js leaves transpileOnly undefined unless PULUMI_NODEJS_TRANSPILE_ONLY or noCheck is set.
    assert.equal(compiler.transpileOnly, false, 'ts-node type-checked the program');
    // The tsconfig's options win over run.js's defaults (ES2020 / nodenext).
    assert.deepEqual(
      { target: compiler.target, module: compiler.module },
      { target: 'ES2022', module: 'Node16' },
    );
    assert.deepEqual(compiler.tsxModules, [], 'no tsx module loaded in the child');
    assert.deepEqual(compiler.execArgv, [], 'no loader flags in the child');
    // The identity and twin kinds this test drives through the host (the Configuration's forwarder is the
    // same code, checked by the serialization guard).
    assert.deepEqual(
      [...new Set([...resources.values()].map((r) => r.type))].sort(),
      Object.values(DYNAMIC_TYPES)
        .filter((type) => type !== DYNAMIC_TYPES.configuration)
        .sort(),
    );
    assert.deepEqual([...resources.keys()].sort(), [DEVICE, DEVICE_TWIN, MODULE, MODULE_TWIN].sort());
  });

  test('every ts-node __provider is tsc output and holds no connection string, key or CA key', () => {
    const forbidden = [
      target.connectionString,
      DEVICE_PRIMARY,
      DEVICE_SECONDARY,
      caPrivateKeyBody,
      ...WELL_KNOWN_POLICIES.flatMap((p) => [p.primaryKey, p.secondaryKey]),
    ];
    for (const captured of resources.values()) {
      const provider = captured.inputs['__provider'];
      assert.ok(!isSecret(provider), `${captured.name}: the serialized provider captured a secret`);
      assert.equal(typeof provider, 'string', `${captured.name}: no serialized __provider`);
      const text = provider as string;
      // tsc's emit keeps the source's single quotes and its line comments; esbuild prints double quotes
      // and drops comments (the forwarder imports nothing, so there is no `(0, module_1.fn)` to look for).
      assert.match(text, /require\('node:path'\)/, `${captured.name}: not serialized from tsc's emit`);
      assert.match(text, /^\s*\/\/ /m, `${captured.name}: not serialized from tsc's emit`);
      assert.doesNotMatch(text, /\bimport_\w+\.\w+/, `${captured.name}: esbuild emit in the provider`);
      const leaked = forbidden.filter((value) => text.includes(value));
      assert.equal(
        leaked.length,
        0,
        `${captured.name}: __provider contains ${leaked.length} secret value(s)`,
      );
      assert.doesNotMatch(text, /SharedAccessKey=[A-Za-z0-9+/]/, `${captured.name}: a connection string`);
      assert.doesNotMatch(text, /PRIVATE KEY-----/, `${captured.name}: PEM private key material`);
      assert.ok(isSecret(captured.inputs['hubConnectionString']), `${captured.name}: connection not secret`);
    }
  });

  test('Check runs the ts-node providers: the declared inputs pass, a bad one fails with its path', async () => {
    for (const name of resources.keys()) await checked(name);
    const { urn, inputs } = resource(DEVICE);
    const { failures } = await host.check(urn, {}, { ...inputs, deviceId: 'bad id', status: 'paused' });
    assert.deepEqual(failures.map((f) => f.property).sort(), ['deviceId', 'status']);
  });

  test('DeviceIdentity: Create with the supplied keys, Read unchanged, Update disables it', async () => {
    const { urn } = resource(DEVICE);
    const inputs = await checked(DEVICE);
    const created = await host.create(urn, inputs);
    assert.equal(created.id, DEVICE_ID);
    const onHub = (await registry.get(DEVICE_ID)).responseBody;
    assert.equal(onHub.status, 'enabled');
    assert.equal(onHub.authentication?.symmetricKey?.primaryKey, DEVICE_PRIMARY);
    assert.ok(isSecret(created.properties['primaryKey']), 'the key output stays secret');

    const read = await host.read(created.id, urn, created.properties, inputs);
    assert.equal(read.id, DEVICE_ID);
    assert.equal((await host.diff(created.id, urn, read.properties, read.inputs!)).changes, 'none');

    const news = await checked(DEVICE, { status: 'disabled', statusReason: 'ts-node check' });
    const updated = await host.update(created.id, urn, read.properties, news, inputs);
    const disabled = (await registry.get(DEVICE_ID)).responseBody;
    assert.deepEqual([disabled.status, disabled.statusReason], ['disabled', 'ts-node check']);
    assert.equal(disabled.authentication?.symmetricKey?.primaryKey, DEVICE_PRIMARY, 'keys kept');
    assert.equal(updated.properties['status'], 'disabled');
    state.set(DEVICE, { id: created.id, properties: updated.properties, inputs: news });
  });

  test('ModuleIdentity: Create on the device, Read unchanged, Update sets managedBy', async () => {
    const { urn } = resource(MODULE);
    const inputs = await checked(MODULE);
    const created = await host.create(urn, inputs);
    assert.equal(created.id, `${DEVICE_ID}/${MODULE_ID}`);
    const onHub = (await registry.getModule(DEVICE_ID, MODULE_ID)).responseBody;
    const key = onHub.authentication?.symmetricKey?.primaryKey;
    assert.ok(key, 'the hub generated a key');
    assert.equal(reveal(created.properties)['primaryKey'], key);

    const read = await host.read(created.id, urn, created.properties, inputs);
    assert.equal(read.id, created.id);
    assert.equal((await host.diff(created.id, urn, read.properties, read.inputs!)).changes, 'none');

    const news = await checked(MODULE, { managedBy: 'IotEdge' });
    const updated = await host.update(created.id, urn, read.properties, news, inputs);
    const managed = (await registry.getModule(DEVICE_ID, MODULE_ID)).responseBody;
    assert.equal(managed.managedBy, 'IotEdge');
    assert.equal(managed.authentication?.symmetricKey?.primaryKey, key, 'keys kept');
    state.set(MODULE, { id: created.id, properties: updated.properties, inputs: news });
  });

  test('DeviceTwin: Create writes the declared leaves, Read sees drift, Update and Delete', async () => {
    const { urn } = resource(DEVICE_TWIN);
    const inputs = await checked(DEVICE_TWIN);
    const created = await host.create(urn, inputs);
    assert.equal(created.id, DEVICE_ID);
    let twin = await hubTwin(registry, DEVICE_ID);
    assert.deepEqual(
      [twinContent(twin.desired), twinContent(twin.tags)],
      [{ firmware: '1.0.0' }, { site: 'lab' }],
    );

    await registry.updateTwin(DEVICE_ID, { tags: { site: 'moved' } }, '*');
    const read = await host.read(created.id, urn, created.properties, inputs);
    assert.deepEqual(read.properties['tags'], { site: 'moved' });

    const news = await checked(DEVICE_TWIN, { desired: { firmware: '1.1.0' }, tags: { site: 'lab' } });
    const updated = await host.update(created.id, urn, read.properties, news, inputs);
    twin = await hubTwin(registry, DEVICE_ID);
    assert.deepEqual(
      [twinContent(twin.desired), twinContent(twin.tags)],
      [{ firmware: '1.1.0' }, { site: 'lab' }],
    );

    await host.delete(created.id, urn, updated.properties);
    twin = await hubTwin(registry, DEVICE_ID);
    assert.deepEqual([twinContent(twin.desired), twinContent(twin.tags)], [{}, {}]);
  });

  test('ModuleTwin: Create writes telemetryInterval 122, Read, Update to 60, Delete releases it', async () => {
    const { urn } = resource(MODULE_TWIN);
    const inputs = await checked(MODULE_TWIN);
    const created = await host.create(urn, inputs);
    assert.equal(created.id, `${DEVICE_ID}/${MODULE_ID}`);
    let twin = await hubTwin(registry, DEVICE_ID, MODULE_ID);
    assert.deepEqual(twinContent(twin.desired), { telemetryInterval: 122 });

    const read = await host.read(created.id, urn, created.properties, inputs);
    assert.equal(read.id, created.id);
    assert.deepEqual(read.properties['desired'], { telemetryInterval: 122 });

    const news = await checked(MODULE_TWIN, { desired: { telemetryInterval: 60 } });
    assert.equal((await host.diff(created.id, urn, read.properties, news, inputs)).changes, 'some');
    const updated = await host.update(created.id, urn, read.properties, news, inputs);
    twin = await hubTwin(registry, DEVICE_ID, MODULE_ID);
    assert.deepEqual(twinContent(twin.desired), { telemetryInterval: 60 });
    assert.deepEqual(updated.properties['desired'], { telemetryInterval: 60 });

    await host.delete(created.id, urn, updated.properties);
    twin = await hubTwin(registry, DEVICE_ID, MODULE_ID);
    assert.deepEqual(twinContent(twin.desired), {});
  });

  test('Delete removes the module, then the device; Read of each returns no id', async () => {
    for (const [name, gone] of [
      [MODULE, () => registry.getModule(DEVICE_ID, MODULE_ID)],
      [DEVICE, () => registry.get(DEVICE_ID)],
    ] as const) {
      const { urn } = resource(name);
      const { id, properties, inputs } = stateOf(name);
      await host.delete(id, urn, properties);
      await assertHubNotFound(gone(), `deleted ${name}`);
      assert.equal((await host.read(id, urn, properties, inputs)).id, undefined);
    }
  });
});
