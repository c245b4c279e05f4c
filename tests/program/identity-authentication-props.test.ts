/**
 * How an identity resource registers its authentication (dynamic-providers/resource-props.ts), for
 * both forms a program can pass: a plain value (split at once, no Output) and an Output (split when
 * it resolves). Either way supplied keys are secret inputs, never part of the clear `authentication`,
 * and hub-generated keys register no key input that carries a value.
 */
import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import * as pulumi from '@pulumi/pulumi';
import { DeviceIdentity } from '../../dynamic-providers';
import { runUnderMocks, settled } from '../support/host-capture';
import { isSecret } from '../support/host-secrets';

const KEY = Buffer.alloc(32, 7).toString('base64');
const CONNECTION = 'HostName=h.example;SharedAccessKeyName=p;SharedAccessKey=a2V5';

async function registeredInputs(authentication: pulumi.Input<unknown> | undefined) {
  const [device] = await runUnderMocks(async () => {
    const resource = new DeviceIdentity('d', {
      hubConnectionString: CONNECTION,
      deviceId: 'd',
      ...(authentication === undefined ? {} : { authentication: authentication as never }),
    });
    await settled(resource);
  });
  return device!.inputs;
}

/** A secret's value whichever way the mocks wrap it, or the value itself. */
function unwrapped(input: unknown): unknown {
  return isSecret(input) ? (input as { value: unknown }).value : input;
}

for (const form of ['plain', 'output'] as const) {
  const wrap = (value: unknown) => (form === 'plain' ? value : pulumi.output(value));

  test(`${form} authentication with supplied keys: keys are secret inputs, authentication stays clear`, async () => {
    const inputs = await registeredInputs(wrap({ type: 'sas', primaryKey: KEY, secondaryKey: KEY }));
    assert.deepEqual(unwrapped(inputs['authentication']), { type: 'sas' });
    assert.ok(!isSecret(inputs['authentication']), 'authentication (type, thumbprints) is readable in diffs');
    for (const name of ['primaryKey', 'secondaryKey']) {
      assert.ok(isSecret(inputs[name]), `${name} is not a secret input`);
      assert.equal(unwrapped(inputs[name]), KEY);
    }
  });

  test(`${form} authentication without keys: no key input carries a value`, async () => {
    const inputs = await registeredInputs(wrap({ type: 'sas' }));
    assert.deepEqual(unwrapped(inputs['authentication']), { type: 'sas' });
    for (const name of ['primaryKey', 'secondaryKey']) {
      assert.ok(
        unwrapped(inputs[name]) === undefined || unwrapped(inputs[name]) === null,
        `${name} has a value`,
      );
    }
  });
}

test('no authentication given: SAS with hub-generated keys', async () => {
  const inputs = await registeredInputs(undefined);
  assert.deepEqual(unwrapped(inputs['authentication']), { type: 'sas' });
  assert.equal(unwrapped(inputs['primaryKey']) ?? null, null);
});
