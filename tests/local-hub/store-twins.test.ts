import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createHubLogger } from '../../local-hub/hub-logger';
import type { DesiredChange } from '../../local-hub/hub-state';
import type { HubState } from '../../local-hub/store';
import { STORE_MODES, throwsHub, withStore } from '../support/store-fixture';

/** A clock the test advances by hand, so `$lastUpdated` values can be asserted exactly. */
function manualClock(start = Date.parse('2030-01-01T00:00:00.000Z')) {
  let t = start;
  const tick = () => {
    t += 1000;
    return new Date(t).toISOString();
  };
  return { now: () => new Date(t), tick };
}

interface TwinSetup {
  state: HubState;
  clock: ReturnType<typeof manualClock>;
  /** `$lastUpdated` of the fresh twins. */
  created: string;
  changes: DesiredChange[];
  logLines: string[];
}

function nested(depth: number): Record<string, unknown> {
  let doc: Record<string, unknown> = { leaf: 1 };
  for (let i = depth; i >= 1; i--) doc = { [`l${i}`]: doc };
  return doc;
}

for (const mode of STORE_MODES) {
  describe(`twin store (${mode})`, () => {
    /** A store on a manual clock with d1/m1 created, recording desired-change events and log lines. */
    function withSetup(fn: (s: TwinSetup) => void): void {
      const clock = manualClock();
      const created = clock.tick();
      const logLines: string[] = [];
      const logger = createHubLogger({ level: 'debug', write: (line) => logLines.push(line) });
      withStore(
        mode,
        (state) => {
          state.createDevice('d1', {});
          state.createModule('d1', 'm1', {});
          const changes: DesiredChange[] = [];
          state.onDesiredChange((c) => changes.push(c));
          fn({ state, clock, created, changes, logLines });
        },
        { now: clock.now, logger },
      );
    }

    test('a fresh twin: etag AAAAAAAAAAE=, versions 1, $metadata.$lastUpdated', () => {
      withSetup(({ state, created }) => {
        const twin = state.getTwin('d1', 'm1');
        assert.equal(twin.etag, 'AAAAAAAAAAE=');
        assert.equal(twin.version, 1);
        assert.equal(twin.moduleId, 'm1');
        assert.equal(twin.deviceEtag, state.getModule('d1', 'm1').etag);
        assert.equal(twin.tags, undefined, 'a twin without tags has no tags member (as IoT Hub)');
        const section = { $metadata: { $lastUpdated: created }, $version: 1 };
        assert.deepEqual(twin.properties, { desired: section, reported: section });
        assert.deepEqual(state.getTwin('d1', null).capabilities, { iotEdge: false });
      });
    });

    test('desired PATCH: versions, etag, metadata at every level touched, one event with patch + $version', () => {
      withSetup(({ state, clock, created, changes }) => {
        const t2 = clock.tick();
        const twin = state.patchTwin(
          'd1',
          'm1',
          { properties: { desired: { a: { b: 1, c: [1, 2] }, z: 'x' } } },
          '*',
        );
        assert.equal(twin.etag, 'AAAAAAAAAAI=');
        assert.equal(twin.version, 2);
        const stamp2 = { $lastUpdated: t2, $lastUpdatedVersion: 2 };
        assert.deepEqual(twin.properties.desired, {
          a: { b: 1, c: [1, 2] },
          z: 'x',
          $metadata: { ...stamp2, a: { ...stamp2, b: stamp2, c: stamp2 }, z: stamp2 },
          $version: 2,
        });
        assert.deepEqual(changes, [
          { deviceId: 'd1', moduleId: 'm1', patch: { a: { b: 1, c: [1, 2] }, z: 'x', $version: 2 } },
        ]);

        const t3 = clock.tick();
        const after = state.patchTwin(
          'd1',
          'm1',
          { properties: { desired: { a: { b: null } } } },
          'AAAAAAAAAAI=',
        );
        const stamp3 = { $lastUpdated: t3, $lastUpdatedVersion: 3 };
        assert.deepEqual(after.properties.desired, {
          a: { c: [1, 2] },
          z: 'x',
          // The parent of the deleted key carries the new stamp; untouched keys keep theirs.
          $metadata: { ...stamp3, a: { ...stamp3, c: stamp2 }, z: stamp2 },
          $version: 3,
        });
        assert.deepEqual(changes[1]!.patch, { a: { b: null }, $version: 3 });
        assert.deepEqual(after.properties.reported, { $metadata: { $lastUpdated: created }, $version: 1 });
      });
    });

    test('tag-only PATCH: root version and etag move, desired $version does not, no event', () => {
      withSetup(({ state, changes }) => {
        const twin = state.patchTwin('d1', null, { tags: { site: { room: 1 } } }, '*');
        assert.deepEqual(twin.tags, { site: { room: 1 } });
        assert.equal(twin.version, 2);
        assert.equal(twin.etag, 'AAAAAAAAAAI=');
        assert.equal(twin.properties.desired['$version'], 1);
        const merged = state.patchTwin('d1', null, { tags: { site: { floor: 2 }, other: true } }, twin.etag);
        assert.deepEqual(merged.tags, { site: { room: 1, floor: 2 }, other: true });
        assert.deepEqual(changes, []);
      });
    });

    test('stale If-Match is 412 and changes nothing; * always matches', () => {
      withSetup(({ state }) => {
        state.patchTwin('d1', 'm1', { tags: { a: 1 } }, '*');
        throwsHub(
          () => state.patchTwin('d1', 'm1', { tags: { a: 2 } }, 'AAAAAAAAAAE='),
          412,
          'PreconditionFailed',
        );
        throwsHub(
          () => state.replaceTwin('d1', 'm1', { tags: {} }, 'AAAAAAAAAAE='),
          412,
          'PreconditionFailed',
        );
        const twin = state.getTwin('d1', 'm1');
        assert.deepEqual(twin.tags, { a: 1 });
        assert.equal(twin.etag, 'AAAAAAAAAAI=');
      });
    });

    test('replace: tags and desired wholesale, read-only members ignored, whole desired doc as the event', () => {
      withSetup(({ state, clock, changes }) => {
        state.patchTwin(
          'd1',
          'm1',
          { tags: { old: 1 }, properties: { desired: { old: 1, keep: { x: 1 } } } },
          '*',
        );
        state.patchReported('d1', 'm1', { r: 1 });
        const read = state.getTwin('d1', 'm1');
        const t = clock.tick();
        const body = {
          ...read,
          tags: { fresh: true },
          properties: { desired: { keep: { y: 2 }, $metadata: {}, $version: 99 }, reported: { ignored: 1 } },
        };
        const twin = state.replaceTwin('d1', 'm1', body, read.etag);
        const stamp = { $lastUpdated: t, $lastUpdatedVersion: 3 };
        assert.deepEqual(twin.tags, { fresh: true });
        assert.deepEqual(twin.properties.desired, {
          keep: { y: 2 },
          $metadata: { ...stamp, keep: { ...stamp, y: stamp } },
          $version: 3,
        });
        assert.equal(twin.properties.reported['r'], 1, 'reported untouched');
        assert.deepEqual(changes.at(-1), {
          deviceId: 'd1',
          moduleId: 'm1',
          patch: { keep: { y: 2 }, $version: 3 },
        });
      });
    });

    test('bad twin input is 400 naming the path, and nothing is written', () => {
      withSetup(({ state }) => {
        const before = state.getTwin('d1', 'm1');
        throwsHub(
          () =>
            state.patchTwin(
              'd1',
              'm1',
              { tags: { ok: 1 }, properties: { desired: { 'a.b': 1, c: { $x: 1 } } } },
              '*',
            ),
          400,
          'ArgumentInvalid',
          'properties.desired["a.b"]',
          'properties.desired.c["$x"]',
        );
        throwsHub(
          () => state.patchTwin('d1', 'm1', { properties: { desired: nested(11) } }, '*'),
          400,
          'ArgumentInvalid',
          'l11',
        );
        throwsHub(
          () => state.patchTwin('d1', 'm1', { properties: { reported: { a: 1 } } }, '*'),
          400,
          'ArgumentInvalid',
          'properties.reported',
        );
        throwsHub(() => state.patchTwin('d1', 'm1', [], '*'), 400, 'ArgumentInvalid');
        assert.deepEqual(state.getTwin('d1', 'm1'), before);
        assert.equal(state.patchTwin('d1', 'm1', { properties: { desired: nested(10) } }, '*').version, 2);
      });
    });

    test('a patch that is valid alone but makes desired exceed 32 KB is refused as a whole', () => {
      withSetup(({ state }) => {
        const chunk = (n: number) =>
          Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`k${n}_${i}`, 'v'.repeat(3000)]));
        state.patchTwin('d1', 'm1', { properties: { desired: chunk(1) } }, '*');
        const before = state.getTwin('d1', 'm1');
        throwsHub(
          () => state.patchTwin('d1', 'm1', { properties: { desired: chunk(2) } }, '*'),
          400,
          'ArgumentInvalid',
          'properties.desired',
        );
        assert.deepEqual(state.getTwin('d1', 'm1'), before);
      });
    });

    test('reported PATCH from the device: own $version and $metadata without $lastUpdatedVersion', () => {
      withSetup(({ state, clock, changes }) => {
        const t = clock.tick();
        assert.equal(state.patchReported('d1', 'm1', { fw: { v: '1.0' } }), 2);
        const twin = state.getTwin('d1', 'm1');
        assert.deepEqual(twin.properties.reported, {
          fw: { v: '1.0' },
          $metadata: { $lastUpdated: t, fw: { $lastUpdated: t, v: { $lastUpdated: t } } },
          $version: 2,
        });
        assert.equal(twin.version, 1, 'root version counts tags and desired only');
        assert.equal(twin.etag, 'AAAAAAAAAAI=');
        assert.deepEqual(state.getDeviceFacingTwin('d1', 'm1'), {
          desired: { $version: 1 },
          reported: { fw: { v: '1.0' }, $version: 2 },
        });
        throwsHub(
          () => state.patchReported('d1', 'm1', { 'bad key': 1 }),
          400,
          'ArgumentInvalid',
          'reported["bad key"]',
        );
        assert.deepEqual(changes, []);
      });
    });

    test('twins of missing identities: DeviceNotFound / ModuleNotFound', () => {
      withSetup(({ state }) => {
        throwsHub(() => state.getTwin('nope', null), 404, 'DeviceNotFound');
        throwsHub(() => state.getTwin('d1', 'nope'), 404, 'ModuleNotFound');
        throwsHub(() => state.patchTwin('d1', 'nope', { tags: { a: 1 } }, '*'), 404, 'ModuleNotFound');
        throwsHub(() => state.getDeviceFacingTwin('nope', 'm1'), 404, 'DeviceNotFound');
      });
    });

    test('a failing desired-change listener does not undo the committed write', () => {
      withSetup(({ state, logLines }) => {
        state.onDesiredChange(() => {
          throw new Error('transport exploded');
        });
        const twin = state.patchTwin('d1', 'm1', { properties: { desired: { a: 1 } } }, '*');
        assert.equal(twin.properties.desired['a'], 1);
        assert.equal(state.getTwin('d1', 'm1').properties.desired['a'], 1);
        assert.ok(
          logLines.some(
            (l) => l.includes('desired-change listener failed') && l.includes('transport exploded'),
          ),
        );
      });
    });
  });
}
