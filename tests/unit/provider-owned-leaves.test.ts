/**
 * Twin ownership by leaf path (lib/owned-leaves.ts, docs/twin-ownership.md), as properties over
 * arbitrary twins, previous ownership and declared config, applied with the project's real merge
 * patch (lib/merge-patch.ts, the rule the hub uses).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { deepEqualJson, isJsonObject, type JsonObject, type JsonValue } from '../../lib/json-types';
import { applyMergePatch } from '../../lib/merge-patch';
import {
  leafPaths,
  ownedLeafChanges,
  ownedTopLevelKeys,
  ownedView,
  ownershipPatch,
  pathsRelated,
  releasePatch,
  valueAt,
} from '../../lib/owned-leaves';

/** Few distinct keys so twins, previous ownership and config overlap often; `__proto__` is a legal twin key. */
const key = fc.constantFrom('a', 'b', 'c', 'd', '__proto__');
const { doc } = fc.letrec<{ doc: JsonObject; value: JsonValue }>((tie) => ({
  doc: fc.dictionary(key, tie('value'), { maxKeys: 4 }),
  value: fc.oneof(
    { depthSize: 'small' },
    fc.string({ maxLength: 3 }),
    fc.integer(),
    fc.boolean(),
    fc.array(fc.oneof(fc.integer(), fc.constant(null)), { maxLength: 2 }),
    tie('doc'),
  ),
}));

/** Every path in a document whose node is a leaf or an empty object (what a reader could observe). */
function observablePaths(d: JsonObject, prefix: string[] = []): string[][] {
  return Object.entries(d).flatMap(([k, v]) => {
    const path = [...prefix, k];
    return isJsonObject(v) && Object.keys(v).length > 0 ? observablePaths(v, path) : [path];
  });
}

function nullPaths(patch: JsonObject, prefix: string[] = []): string[][] {
  return Object.entries(patch).flatMap(([k, v]) => {
    const path = [...prefix, k];
    if (v === null) return [path];
    return isJsonObject(v) ? nullPaths(v, path) : [];
  });
}

/** A copy of `d` with the leaf at `path` removed (its parent stays, possibly empty). */
function withoutLeaf(d: JsonObject, path: readonly string[]): JsonObject {
  const copy = structuredClone(d);
  let node: JsonObject = copy;
  for (const k of path.slice(0, -1)) node = node[k] as JsonObject;
  delete node[path[path.length - 1]!];
  return copy;
}

describe('ownershipPatch', () => {
  test('after applying it to any twin, every declared leaf equals config', () => {
    fc.assert(
      fc.property(doc, doc, doc, (twin, previous, declared) => {
        const result = applyMergePatch(twin, ownershipPatch(previous, declared));
        for (const path of leafPaths(declared)) {
          assert.ok(deepEqualJson(valueAt(result, path), valueAt(declared, path)), `leaf ${path.join('.')}`);
        }
      }),
    );
  });

  test('keys written by anyone else are untouched', () => {
    fc.assert(
      fc.property(doc, doc, doc, (twin, previous, declared) => {
        const owned = [...leafPaths(previous), ...leafPaths(declared)];
        const result = applyMergePatch(twin, ownershipPatch(previous, declared));
        for (const path of observablePaths(twin)) {
          if (owned.some((o) => pathsRelated(o, path))) continue;
          assert.ok(deepEqualJson(valueAt(result, path), valueAt(twin, path)), `foreign ${path.join('.')}`);
        }
      }),
    );
  });

  test('removing one leaf from config yields a null for exactly that leaf', () => {
    const withLeaf = doc.filter((d) => leafPaths(d).length > 0);
    fc.assert(
      fc.property(withLeaf, fc.nat(), (config, pick) => {
        const leaves = leafPaths(config);
        const removed = leaves[pick % leaves.length]!;
        const patch = ownershipPatch(config, withoutLeaf(config, removed));
        assert.deepEqual(nullPaths(patch), [removed]);
        assert.deepEqual(ownedLeafChanges(config, withoutLeaf(config, removed)), [removed]);
      }),
    );
  });

  test('is idempotent and leaves nothing to change', () => {
    fc.assert(
      fc.property(doc, doc, doc, (twin, previous, declared) => {
        const patch = ownershipPatch(previous, declared);
        const once = applyMergePatch(twin, patch);
        assert.deepEqual(applyMergePatch(once, patch), once);
        assert.deepEqual(ownedLeafChanges(ownedView(once, leafPaths(declared)), declared), []);
        assert.deepEqual(ownedLeafChanges(declared, declared), []);
      }),
    );
  });

  test('a config that nests under a previously owned leaf rewrites it instead of nulling it', () => {
    const patch = ownershipPatch({ a: 5, b: { c: 1 } }, { a: { x: 1 }, b: 2 });
    assert.deepEqual(patch, { a: { x: 1 }, b: 2 });
  });
});

describe('releasePatch (destroy)', () => {
  test('removes every owned leaf and nothing else', () => {
    fc.assert(
      fc.property(doc, doc, (twin, owned) => {
        const result = applyMergePatch(twin, releasePatch(owned));
        for (const path of leafPaths(owned)) assert.equal(valueAt(result, path), undefined);
        for (const path of observablePaths(twin)) {
          if (leafPaths(owned).some((o) => pathsRelated(o, path))) continue;
          assert.ok(deepEqualJson(valueAt(result, path), valueAt(twin, path)), `foreign ${path.join('.')}`);
        }
      }),
    );
  });
});

describe('ownedView (drift)', () => {
  test('reports the hub value at each owned leaf and omits deleted ones', () => {
    const hub = { a: { b: 2, other: 'x' }, c: { d: { e: 1 } }, foreign: true };
    const view = ownedView(hub, [['a', 'b'], ['c', 'd'], ['gone']]);
    assert.deepEqual(view, { a: { b: 2 }, c: { d: { e: 1 } } });
    assert.deepEqual(ownedLeafChanges(view, { a: { b: 1 }, c: { d: 3 }, gone: 'back' }), [
      ['a', 'b'],
      ['c', 'd'],
      ['gone'],
    ]);
  });

  test('top-level keys are those owning at least one leaf', () => {
    assert.deepEqual(ownedTopLevelKeys({ a: { b: 1 }, e: {}, f: [1] }), ['a', 'f']);
  });
});
