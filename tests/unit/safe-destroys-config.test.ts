/**
 * `protect` and `retainOnDelete` in the stack config: validated with every other problem at its path,
 * and turned into resource options by infra/destroy-options.ts (docs/safe-destroys.md).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { deviceDestroyOptions, moduleDestroyOptions, twinDestroyOptions } from '../../infra/destroy-options';
import { type RawStackConfig, validateStackConfig } from '../../infra/stack-config';

function problems(raw: RawStackConfig): Map<string, string> {
  const result = validateStackConfig(raw);
  assert.equal(result.ok, false, 'expected the config to be rejected');
  return result.ok ? new Map() : new Map(result.problems.map((p) => [p.path, p.message]));
}

function devicesOf(devices: unknown[]) {
  const result = validateStackConfig({ hub: { mode: 'local' }, devices });
  assert.ok(result.ok, result.ok ? '' : JSON.stringify(result.problems));
  return result.config.devices;
}

describe('protect and retainOnDelete: validation', () => {
  test('booleans on devices and modules are accepted', () => {
    const [device] = devicesOf([
      { deviceId: 'd', protect: true, retainOnDelete: true, modules: [{ moduleId: 'm', protect: false }] },
    ]);
    assert.equal(device?.protect, true);
    assert.equal(device?.modules[0]?.protect, false);
  });

  test('anything else is reported at its path, together with the other problems', () => {
    const found = problems({
      hub: { mode: 'local' },
      devices: [
        { deviceId: 'd', protect: 'yes', modules: [{ moduleId: 'm', retainOnDelete: 1 }] },
        { deviceId: 'bad id', retainOnDelete: null },
      ],
    });
    assert.deepEqual([...found.keys()].sort(), [
      'devices[0].modules[0].retainOnDelete',
      'devices[0].protect',
      'devices[1].deviceId',
      'devices[1].retainOnDelete',
    ]);
    assert.match(found.get('devices[0].protect') ?? '', /expected boolean/);
  });

  test('a retained module on a device that is deleted is refused: the hub deletes modules with their device', () => {
    for (const device of [{ deviceId: 'd' }, { deviceId: 'd', adopt: true, retainOnDelete: false }]) {
      const found = problems({
        hub: { mode: 'local' },
        devices: [{ ...device, modules: [{ moduleId: 'ok' }, { moduleId: 'm', retainOnDelete: true }] }],
      });
      assert.deepEqual([...found.keys()], ['devices[0].modules[1].retainOnDelete']);
      assert.match(
        found.get('devices[0].modules[1].retainOnDelete') ?? '',
        /set retainOnDelete \(or adopt\) on the device/,
      );
    }
    // Retained or adopted devices may retain their modules; an adopted module keeps its default quietly.
    devicesOf([
      { deviceId: 'a', adopt: true, modules: [{ moduleId: 'm', retainOnDelete: true }] },
      { deviceId: 'b', retainOnDelete: true, modules: [{ moduleId: 'm', retainOnDelete: true }] },
      { deviceId: 'c', modules: [{ moduleId: 'm', adopt: true }] },
    ]);
  });
});

describe('protect and retainOnDelete: resource options', () => {
  const [plain, adopted, guarded, kept] = devicesOf([
    { deviceId: 'plain', modules: [{ moduleId: 'm' }, { moduleId: 'found', adopt: true }] },
    { deviceId: 'adopted', adopt: true, modules: [{ moduleId: 'made' }] },
    {
      deviceId: 'guarded',
      protect: true,
      modules: [{ moduleId: 'm' }, { moduleId: 'free', protect: false }],
    },
    {
      deviceId: 'kept',
      retainOnDelete: true,
      modules: [{ moduleId: 'm' }, { moduleId: 'gone', retainOnDelete: false }],
    },
  ]);

  test('nothing set: no option, so Pulumi defaults apply and removing a flag undoes it', () => {
    assert.deepEqual(deviceDestroyOptions(plain!), {});
    assert.deepEqual(moduleDestroyOptions(plain!, plain!.modules[0]!), {});
  });

  test('adoption retains the adopted identity only', () => {
    assert.deepEqual(deviceDestroyOptions(adopted!), { retainOnDelete: true });
    assert.deepEqual(moduleDestroyOptions(adopted!, adopted!.modules[0]!), {});
    assert.deepEqual(moduleDestroyOptions(plain!, plain!.modules[1]!), { retainOnDelete: true });
  });

  test('modules follow their device protect and explicit retainOnDelete unless they set their own', () => {
    assert.deepEqual(moduleDestroyOptions(guarded!, guarded!.modules[0]!), { protect: true });
    assert.deepEqual(moduleDestroyOptions(guarded!, guarded!.modules[1]!), { protect: false });
    assert.deepEqual(moduleDestroyOptions(kept!, kept!.modules[0]!), { retainOnDelete: true });
    assert.deepEqual(moduleDestroyOptions(kept!, kept!.modules[1]!), { retainOnDelete: false });
  });

  test('twins take their identity options', () => {
    assert.deepEqual(twinDestroyOptions({ protect: true, retainOnDelete: true }), {
      protect: true,
      retainOnDelete: true,
    });
    assert.deepEqual(twinDestroyOptions({}), {});
  });
});
