/**
 * Tier 5 serialization guard: the `__provider` Pulumi writes into the state IN CLEAR (it is the
 * provider's source text, pulumi/pulumi#8265) must carry no connection string, no key and no CA
 * private material, for every dynamic resource kind the program declares; the connection string
 * must reach each provider as a secret input instead (docs/architecture.md "Dynamic provider rules").
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { WELL_KNOWN_POLICIES } from '../../lib/local-hub-defaults';
import { CA_KEY_FILE } from '../../local-hub/tls/tls-material';
import {
  type CapturedResource,
  captureDynamicResources,
  DYNAMIC_TYPES,
  localStackConfig,
  type ProgramHub,
  startProgramHub,
} from '../support/host-program';
import { isSecret } from '../support/host-secrets';

/** A key nobody uses, so finding it anywhere proves it was captured from this stack's config. */
const FAKE_KEY = Buffer.from('serialization-guard-fake-key-32b').toString('base64');
const FAKE_CONNECTION_STRING = `HostName=127.0.0.1:8443;SharedAccessKeyName=serviceAndRegistryReadWrite;SharedAccessKey=${FAKE_KEY}`;
const DEVICE_PRIMARY = Buffer.from('guard-device-primary-key-0123456').toString('base64');
const DEVICE_SECONDARY = Buffer.from('guard-device-secondary-key-01234').toString('base64');
const MODULE_PRIMARY = Buffer.from('guard-module-primary-key-0123456').toString('base64');

const DEVICES = [
  {
    deviceId: 'guard-device',
    auth: { type: 'sas', primaryKey: DEVICE_PRIMARY, secondaryKey: DEVICE_SECONDARY },
    twin: { desired: { mode: 'eco' }, tags: { site: 'lab' } },
    modules: [
      {
        moduleId: 'guard-module',
        auth: { type: 'sas', primaryKey: MODULE_PRIMARY },
        twin: { desired: { telemetryInterval: 122 } },
      },
    ],
  },
];

describe('serialization guard: what the program hands the provider host', () => {
  let target: ProgramHub;
  let resources: CapturedResource[];
  let caPrivateKeyBody: string;

  before(async () => {
    target = await startProgramHub({ onDisk: true });
    const caKeyPem = fs.readFileSync(path.join(target.hub.dataDir!, CA_KEY_FILE), 'utf8');
    // A line from the middle of the base64 body: PEM headers alone would prove little.
    caPrivateKeyBody = caKeyPem.split('\n')[2]!;
    const config = {
      ...localStackConfig({ connectionString: FAKE_CONNECTION_STRING, caPath: target.caPath }, DEVICES),
      'iothub-as-code:configurations': [
        {
          configurationId: 'guard-config',
          moduleContent: { 'properties.desired.telemetryInterval': 60 },
          targetCondition: "FROM devices.modules WHERE tags.ring='0'",
          priority: 1,
        },
      ],
    };
    resources = [...(await captureDynamicResources(config)).values()];
  });

  after(async () => {
    await target?.close();
  });

  test('the program declares every dynamic resource kind', () => {
    assert.deepEqual([...new Set(resources.map((r) => r.type))].sort(), Object.values(DYNAMIC_TYPES).sort());
  });

  test('no serialized provider holds a connection string, a key or CA private material', () => {
    const forbidden = [
      FAKE_CONNECTION_STRING,
      FAKE_KEY,
      target.connectionString,
      DEVICE_PRIMARY,
      DEVICE_SECONDARY,
      MODULE_PRIMARY,
      caPrivateKeyBody,
      ...WELL_KNOWN_POLICIES.flatMap((p) => [p.primaryKey, p.secondaryKey]),
    ];
    for (const resource of resources) {
      const provider = resource.inputs['__provider'];
      // Pulumi marks `__provider` secret when its closure captured a secret Output.
      assert.ok(!isSecret(provider), `${resource.name}: the serialized provider captured a secret`);
      assert.equal(typeof provider, 'string', `${resource.name}: no serialized __provider`);
      const text = provider as string;
      const leaked = forbidden.filter((value) => text.includes(value));
      assert.equal(
        leaked.length,
        0,
        `${resource.name}: __provider contains ${leaked.length} secret value(s)`,
      );
      assert.doesNotMatch(
        text,
        /SharedAccessKey=[A-Za-z0-9+/]/,
        `${resource.name}: a connection string literal`,
      );
      assert.doesNotMatch(text, /PRIVATE KEY-----/, `${resource.name}: PEM private key material`);
    }
  });

  test('no serialized provider captures a Set or Map (the serializer would copy it as an empty object)', () => {
    // Pulumi's closure serializer re-creates a captured Set/Map as a plain object that only borrows
    // `has`/`get` from the prototype: its entries are lost and the first call throws in the host.
    const pattern =
      /var __(\w+) = \{\};\nObject\.defineProperty\(__\1, "\w+", \{[^}]*global\.(Set|Map)\.prototype/g;
    const captured = new Set<string>();
    for (const resource of resources) {
      for (const match of (resource.inputs['__provider'] as string).matchAll(pattern)) {
        captured.add(`${match[1]} (a ${match[2]}, in ${resource.type.split(':').pop()})`);
      }
    }
    assert.deepEqual(
      [...captured],
      [],
      'module-level Set/Map captured by a provider: use an array or a function',
    );
  });

  test('the connection string reaches every provider as a secret input, and supplied keys too', () => {
    for (const resource of resources) {
      const connection = resource.inputs['hubConnectionString'];
      assert.ok(isSecret(connection), `${resource.name}: hubConnectionString is not a secret input`);
      assert.equal(connection.value, FAKE_CONNECTION_STRING);
    }
    const identities = resources.filter(
      (r) => r.type === DYNAMIC_TYPES.device || r.type === DYNAMIC_TYPES.module,
    );
    assert.equal(identities.length, 2);
    for (const identity of identities) {
      assert.ok(
        isSecret(identity.inputs['primaryKey']),
        `${identity.name}: primaryKey is not a secret input`,
      );
    }
  });
});
