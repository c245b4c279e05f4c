/**
 * The Configuration resource's `check` and `diff` (lib/configuration-rules.ts, lib/resource-configuration-state.ts):
 * IoT Hub's rules with path-precise failures, and which changes update in place or replace.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  CONFIGURATION_LIMITS,
  contentDesired,
  validateConfigurationCount,
} from '../../lib/configuration-rules';
import { UNKNOWN_INPUT } from '../../lib/resource-check-fields';
import {
  type ConfigurationInputs,
  type ConfigurationOutputs,
  checkConfigurationInputs,
  configurationBody,
  configurationOutputs,
  diffConfiguration,
} from '../../lib/resource-configuration-state';

const HUB = 'HostName=127.0.0.1:8443;SharedAccessKeyName=s;SharedAccessKey=a2V5';

const valid = {
  hubConnectionString: HUB,
  configurationId: 'ring0-telemetry',
  moduleContent: { 'properties.desired.telemetryInterval': 30 },
  targetCondition: 'FROM devices.modules WHERE tags.ring=0',
};

function failures(news: Record<string, unknown>) {
  return checkConfigurationInputs(news).failures.map((f) => `${f.property}: ${f.reason}`);
}

test('a valid configuration passes with defaults filled', () => {
  const { inputs, failures: none } = checkConfigurationInputs(valid);
  assert.deepEqual(none, []);
  assert.deepEqual(inputs, { ...valid, priority: 0, labels: {}, metrics: {} });
});

test('every rule fails with its path', () => {
  const found = failures({
    hubConnectionString: HUB,
    configurationId: 'Ring0 Telemetry',
    moduleContent: {
      'properties.reported.x': 1,
      'tags.site': 'a',
      'properties.desired.ok': { 'bad.key': 1 },
      'properties.desired.$version': 3,
      'properties.desired.gone': null,
      'properties.desired.a': { b: 1 },
      'properties.desired.a.b': 2,
    },
    targetCondition: 'tags.ring=0',
    priority: -1,
    labels: { $reserved: 'x', ok: 'has space' },
    metrics: { empty: '' },
    typo: 1,
  });
  const expected = [
    'typo: unknown property',
    'configurationId: "Ring0 Telemetry" is not a configuration id',
    'moduleContent["properties.reported.x"]: content keys are desired-property paths',
    'moduleContent["tags.site"]: content keys are desired-property paths',
    'moduleContent["properties.desired.ok"]["bad.key"]: ',
    'moduleContent["properties.desired.$version"]: ',
    'moduleContent["properties.desired.gone"]: null would delete the property',
    'moduleContent["properties.desired.a.b"]: overlaps "properties.desired.a"',
    'targetCondition: a moduleContent configuration targets module twins: "FROM devices.modules WHERE <condition>"',
    'priority: must be an integer from 0 to 2147483647',
    'labels["$reserved"]: label names are',
    'labels.ok: label values are',
    'metrics.empty: must be a non-empty string',
  ];
  for (const prefix of expected) {
    assert.ok(
      found.some((f) => f.startsWith(prefix)),
      `missing "${prefix}" in:\n${found.join('\n')}`,
    );
  }
  assert.match(
    found.find((f) => f.startsWith('configurationId'))!,
    /upper-case letters are not allowed: "ring0 telemetry"\?/,
  );
});

test('exactly one content; a device configuration takes the WHERE part only; the condition is required', () => {
  assert.ok(
    failures({ ...valid, deviceContent: { 'properties.desired.a': 1 } }).some((f) =>
      f.startsWith('moduleContent: a configuration has exactly one'),
    ),
  );
  const { moduleContent: _m, ...noContent } = valid;
  assert.ok(failures(noContent).some((f) => f.startsWith('deviceContent: a configuration has exactly one')));
  assert.ok(
    failures({
      ...noContent,
      deviceContent: { 'properties.desired.a': 1 },
      targetCondition: 'FROM devices WHERE x=1',
    }).some((f) => f.startsWith('targetCondition: a deviceContent configuration')),
  );
  const { targetCondition: _t, ...noCondition } = valid;
  assert.ok(failures(noCondition).some((f) => f.startsWith('targetCondition: is required')));
  assert.ok(failures({ ...valid, moduleContent: {} }).some((f) => f.startsWith('moduleContent: is empty')));
});

test('values still unknown at preview pass through; the count limit is checked per stack', () => {
  assert.deepEqual(failures({ ...valid, configurationId: UNKNOWN_INPUT, priority: UNKNOWN_INPUT }), []);
  assert.deepEqual(validateConfigurationCount(CONFIGURATION_LIMITS.perHub, 'configurations'), []);
  assert.match(validateConfigurationCount(101, 'configurations')[0]!.message, /at most 100/);
});

test('content becomes the desired document it applies; the body is what the hub takes', () => {
  assert.deepEqual(
    contentDesired({
      'properties.desired.a.b': 1,
      'properties.desired.c': { d: true },
      'properties.desired': { e: 2 },
    }),
    { a: { b: 1 }, c: { d: true }, e: 2 },
  );
  const inputs = checkConfigurationInputs({ ...valid, labels: { ring: '0' } })
    .inputs as unknown as ConfigurationInputs;
  assert.deepEqual(configurationBody(inputs, 'etag1'), {
    id: 'ring0-telemetry',
    schemaVersion: '1.0',
    labels: { ring: '0' },
    content: { moduleContent: valid.moduleContent },
    targetCondition: valid.targetCondition,
    priority: 0,
    metrics: { queries: {} },
    etag: 'etag1',
  });
});

test('outputs take the declared content kind even when the hub returns the other one empty', () => {
  const outs = configurationOutputs({ hubConnectionString: HUB }, 'deviceContent', {
    id: 'x',
    content: { deviceContent: { 'properties.desired.a': 1 }, moduleContent: {}, modulesContent: {} },
    targetCondition: '*',
    priority: 1,
    etag: 'e',
  });
  assert.deepEqual(outs.deviceContent, { 'properties.desired.a': 1 });
  assert.ok(!('moduleContent' in outs));
  assert.ok(!Object.values(outs).includes(undefined));
});

test('diff: condition, priority, labels, metrics update in place; id, hub and content replace (delete first)', () => {
  const inputs = checkConfigurationInputs(valid).inputs as unknown as ConfigurationInputs;
  const olds: ConfigurationOutputs = { ...inputs, etag: 'e' };
  assert.deepEqual(diffConfiguration(olds, inputs), {
    changes: false,
    replaces: [],
    deleteBeforeReplace: false,
  });
  // Key order in content does not matter.
  assert.equal(
    diffConfiguration(
      { ...olds, moduleContent: { a: { y: 1, x: 2 } } },
      { ...inputs, moduleContent: { a: { x: 2, y: 1 } } },
    ).changes,
    false,
  );
  for (const change of [
    { priority: 5 },
    { targetCondition: 'FROM devices.modules WHERE tags.ring=1' },
    { labels: { a: 'b' } },
    { metrics: { m: 'SELECT 1' } },
  ]) {
    assert.deepEqual(diffConfiguration(olds, { ...inputs, ...change }), {
      changes: true,
      replaces: [],
      deleteBeforeReplace: false,
    });
  }
  assert.deepEqual(
    diffConfiguration(olds, { ...inputs, moduleContent: { 'properties.desired.telemetryInterval': 31 } })
      .replaces,
    ['moduleContent'],
  );
  assert.deepEqual(diffConfiguration(olds, { ...inputs, configurationId: 'other' }).replaces, [
    'configurationId',
  ]);
  assert.deepEqual(
    diffConfiguration(olds, { ...inputs, hubConnectionString: HUB.replace('127.0.0.1', 'otherhub') })
      .replaces,
    ['hubConnectionString'],
  );
  assert.equal(
    diffConfiguration(olds, { ...inputs, priority: UNKNOWN_INPUT as unknown as number }).changes,
    true,
  );
});
