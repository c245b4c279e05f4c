/**
 * Tier 4: `protect` and `retainOnDelete` of devices and modules reach the identity and twin resources as
 * Pulumi resource options (docs/safe-destroys.md): adopted identities are retained by default, modules
 * follow their device unless they say otherwise, twins follow their identity. The mock API passes no
 * options on, so the registration requests are read where the mock monitor receives them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type ProgramRun, runProgramUnderMocks } from '../support/program-under-mocks';
import { createTempCa, type TempCa } from './stack-fixtures';

interface Options {
  protect: boolean | undefined;
  retainOnDelete: boolean | undefined;
}

/** `<name>` -> the options of its registration request; unset options are undefined, as the engine sees them. */
const seen = new Map<string, Options>();

/** Wraps the mock monitor's registerResource (program-under-mocks wraps the instance, which calls this). */
function recordOptions(): () => void {
  const { MockMonitor } = require('@pulumi/pulumi/runtime/mocks') as {
    MockMonitor: { prototype: { registerResource(req: any, callback: unknown): unknown } };
  };
  const original = MockMonitor.prototype.registerResource;
  MockMonitor.prototype.registerResource = function (this: unknown, req: any, callback: unknown) {
    seen.set(req.getName(), {
      protect: req.hasProtect() ? req.getProtect() : undefined,
      retainOnDelete: req.hasRetainondelete() ? req.getRetainondelete() : undefined,
    });
    return original.call(this, req, callback);
  };
  return () => {
    MockMonitor.prototype.registerResource = original;
  };
}

function options(name: string): Options {
  const found = seen.get(name);
  assert.ok(found, `no registration of ${name}; have: ${[...seen.keys()].join(', ')}`);
  return found;
}

const DEVICES = [
  // Created by the stack: Pulumi's defaults.
  {
    deviceId: 'plain',
    twin: { desired: { a: 1 } },
    modules: [{ moduleId: 'm', twin: { desired: { a: 1 } } }],
  },
  // Protected: its module and both twins with it; a module may opt out.
  {
    deviceId: 'guarded',
    protect: true,
    twin: { tags: { site: 'a' } },
    modules: [
      { moduleId: 'm', twin: { desired: { a: 1 } } },
      { moduleId: 'free', protect: false },
    ],
  },
  // Adopted: retained by default, twin too; its created module is not (adoption is per identity).
  {
    deviceId: 'adopted',
    adopt: true,
    tags: { site: 'b' },
    modules: [{ moduleId: 'made' }, { moduleId: 'found', adopt: true, tags: { x: '1' } }],
  },
  // Adopted, but the stack may delete it.
  { deviceId: 'adopted-deletable', adopt: true, retainOnDelete: false },
  // Retained explicitly: its module with it.
  { deviceId: 'kept', retainOnDelete: true, modules: [{ moduleId: 'm', twin: { desired: { a: 1 } } }] },
];

describe('safe destroys: resource options under mocks', () => {
  let ca: TempCa;
  let restore: () => void;
  let run: ProgramRun;

  before(async () => {
    ca = await createTempCa();
    restore = recordOptions();
    run = await runProgramUnderMocks({
      stack: 'local',
      config: { hub: { mode: 'local', local: { caCertificatePath: ca.caPath } }, devices: DEVICES },
    });
  });
  after(() => {
    restore();
    ca.remove();
  });

  test('every identity and twin was registered', () => {
    assert.equal(run.resources.filter((r) => r.type.includes(':dynamic/')).length, seen.size);
  });

  test('a created device, its module and twins keep Pulumi defaults (deleted, unprotected)', () => {
    for (const name of ['device/plain', 'device-twin/plain', 'module/plain/m', 'module-twin/plain/m']) {
      assert.deepEqual(options(name), { protect: undefined, retainOnDelete: undefined }, name);
    }
  });

  test('protect: the device, its twin, its module and the module twin; a module may say protect: false', () => {
    for (const name of [
      'device/guarded',
      'device-twin/guarded',
      'module/guarded/m',
      'module-twin/guarded/m',
    ]) {
      assert.deepEqual(options(name), { protect: true, retainOnDelete: undefined }, name);
    }
    assert.deepEqual(options('module/guarded/free'), { protect: false, retainOnDelete: undefined });
    // The recorded registration (program-under-mocks) agrees on the engine-visible flag.
    assert.equal(run.resources.find((r) => r.name === 'device/guarded')?.protect, true);
  });

  test('adopted identities and their twins are retained; a module the stack created on them is not', () => {
    for (const name of [
      'device/adopted',
      'device-twin/adopted',
      'module/adopted/found',
      'module-twin/adopted/found',
    ]) {
      assert.deepEqual(options(name), { protect: undefined, retainOnDelete: true }, name);
    }
    assert.deepEqual(options('module/adopted/made'), { protect: undefined, retainOnDelete: undefined });
  });

  test('retainOnDelete: false overrides adoption', () => {
    assert.deepEqual(options('device/adopted-deletable'), { protect: undefined, retainOnDelete: false });
  });

  test('an explicitly retained device retains its module and twins', () => {
    for (const name of ['device/kept', 'module/kept/m', 'module-twin/kept/m']) {
      assert.deepEqual(options(name), { protect: undefined, retainOnDelete: true }, name);
    }
  });
});
