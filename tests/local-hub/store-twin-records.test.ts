/**
 * Pure twin rules (local-hub/store/twin-records.ts): etags are base64 of the 8-byte big-endian write counter
 * (docs/iot-hub-behaviour.md §1.3); a twin rendered only to be matched (`copy: false`) reads as the full render.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { openHubState } from '../../local-hub/store';
import type { ConnectionRuntime } from '../../local-hub/store/identity-records';
import { SqliteRegistry } from '../../local-hub/store/sqlite-registry';
import { renderServiceTwin, twinEtag } from '../../local-hub/store/twin-records';

test('the documented example and the 32-bit boundary', () => {
  assert.equal(twinEtag(7), 'AAAAAAAAAAc=');
  assert.equal(twinEtag(2 ** 32 - 1), 'AAAAAP////8=');
  assert.equal(twinEtag(2 ** 32 + 1), 'AAAAAQAAAAE=');
});

test('every safe counter gives the bytes of its 64-bit big-endian value', () => {
  fc.assert(
    fc.property(fc.maxSafeNat(), (counter) => {
      const expected = Buffer.alloc(8);
      expected.writeBigUInt64BE(BigInt(counter));
      assert.equal(twinEtag(counter), expected.toString('base64'));
    }),
  );
});

test('a twin rendered to be matched reads and serializes as the full render; its sections are built once', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hub-twin-render-'));
  try {
    const state = openHubState({ dataDir: dir });
    state.createDevice('d', {});
    state.createModule('d', 'm', {});
    state.patchTwin('d', 'm', { tags: { ring: '0' }, properties: { desired: { a: { b: 1 } } } }, '*');
    state.patchReported('d', 'm', { r: [1, 2] });
    state.close();
    const db = SqliteRegistry.open({ dataDir: dir });
    try {
      const device = db.get('d', null)!;
      const module = db.get('d', 'm')!;
      const runtime: ConnectionRuntime = {
        connectionState: 'Connected',
        connectionStateUpdatedTime: '2030-01-01T00:00:00.000Z',
        lastActivityTime: '2030-01-01T00:00:00.000Z',
      };
      const render = (copy: boolean) =>
        renderServiceTwin(device.identity, module.identity, module.twin, runtime, { copy });
      const matched = render(false);
      assert.deepEqual(JSON.parse(JSON.stringify(matched)), JSON.parse(JSON.stringify(render(true))));
      assert.deepEqual(matched.properties.desired['a'], { b: 1 });
      assert.ok(Object.hasOwn(matched.properties, 'reported'), 'own properties, as a query looks them up');
      assert.equal(
        matched.properties.desired,
        matched.properties.desired,
        'built once, then the same object',
      );
    } finally {
      db.close();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
