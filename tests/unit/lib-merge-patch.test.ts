import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { deepEqualJson, isJsonObject, type JsonObject, type JsonValue } from '../../lib/json-types';
import { applyMergePatch, applyMergePatchSharing, diffToMergePatch } from '../../lib/merge-patch';

/** JSON objects whose object members are never null (null in a merge patch means delete); arrays may hold null. */
const { doc } = fc.letrec<{ doc: JsonObject; value: JsonValue; arrayItem: JsonValue }>((tie) => ({
  doc: fc.dictionary(fc.oneof(fc.constantFrom('a', 'b', 'c', '__proto__'), fc.string()), tie('value'), {
    maxKeys: 4,
  }),
  value: fc.oneof(
    { depthSize: 'small' },
    fc.string(),
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }).filter((n) => !Object.is(n, -0)),
    fc.boolean(),
    fc.array(tie('arrayItem'), { maxLength: 3 }),
    tie('doc'),
  ),
  arrayItem: fc.oneof(tie('value'), fc.constant(null)),
}));

/** Two related docs (b often derived from a), so diffs exercise nested merges, not just replacement. */
const docPair = fc.oneof(
  fc.tuple(doc, doc),
  doc.chain((a) =>
    fc.tuple(
      fc.constant(a),
      doc.map((extra) => ({ ...a, ...extra })),
    ),
  ),
);

describe('applyMergePatch', () => {
  test('RFC 7386 as IoT Hub applies it: null deletes, objects merge, arrays replace', () => {
    const target = { a: 1, keep: 'x', nested: { x: 1, y: 2 }, list: [1, 2, 3], scalar: 5 };
    const patch = {
      a: null,
      nested: { y: null, z: 3 },
      list: [9],
      scalar: { deep: { v: null, w: 1 } },
      added: true,
    };
    assert.deepEqual(applyMergePatch(target, patch), {
      keep: 'x',
      nested: { x: 1, z: 3 },
      list: [9],
      scalar: { deep: { w: 1 } },
      added: true,
    });
  });

  test('deleting an absent key is a no-op; an empty patch changes nothing', () => {
    assert.deepEqual(applyMergePatch({ a: 1 }, { missing: null }), { a: 1 });
    assert.deepEqual(applyMergePatch({ a: { b: 1 } }, {}), { a: { b: 1 } });
  });

  test('a "__proto__" key is data, not a prototype change', () => {
    const patch = JSON.parse('{"__proto__": {"polluted": true}}') as JsonObject;
    const result = applyMergePatch({}, patch);
    assert.equal(Object.getPrototypeOf(result), Object.prototype);
    assert.deepEqual(Object.keys(result), ['__proto__']);
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
    assert.deepEqual(applyMergePatch(result, JSON.parse('{"__proto__": null}') as JsonObject), {});
  });

  test('never mutates its inputs and shares no structure with them', () => {
    fc.assert(
      fc.property(doc, doc, (target, patch) => {
        const before = structuredClone([target, patch]);
        const result = applyMergePatch(target, patch);
        assert.ok(deepEqualJson([target, patch], before), 'an input was mutated');
        mutateEverything(result);
        assert.ok(deepEqualJson([target, patch], before), 'the result aliases an input');
      }),
    );
  });
});

describe("applyMergePatchSharing (the local hub's frozen twins)", () => {
  /** A patch: a random document, or the diff between two related ones (so with nulls that delete). */
  const targetAndPatch = fc.oneof(
    fc.tuple(doc, doc),
    docPair.map(([a, b]) => [a, diffToMergePatch(a, b)] as [JsonObject, JsonObject]),
  );

  test('gives what applyMergePatch gives, on a frozen target, sharing only what the patch left alone', () => {
    fc.assert(
      fc.property(targetAndPatch, ([target, patch]) => {
        const expected = applyMergePatch(target, patch);
        const patchCopy = structuredClone(patch);
        // Frozen, as the hub's cached rows are: any change of the target in place would throw.
        const result = applyMergePatchSharing(deepFreeze(structuredClone(target)), patch);
        assert.ok(deepEqualJson(result, expected), 'a different result than applyMergePatch');
        assert.ok(deepEqualJson(patch, patchCopy), 'the patch was mutated');
        const patchObjects = objectsIn(patch);
        for (const o of objectsIn(result)) assert.ok(!patchObjects.has(o), 'the result aliases the patch');
      }),
    );
  });

  test('a subtree the patch does not touch is the same object; touched levels are new', () => {
    const target = deepFreeze({ keep: { deep: [1, 2] }, edit: { x: 1, inner: { y: 2 } } } as JsonObject);
    const result = applyMergePatchSharing(target, { edit: { x: 2 } });
    assert.equal(result['keep'], target['keep']);
    assert.notEqual(result['edit'], target['edit']);
    assert.equal((result['edit'] as JsonObject)['inner'], (target['edit'] as JsonObject)['inner']);
    assert.deepEqual(result, { keep: { deep: [1, 2] }, edit: { x: 2, inner: { y: 2 } } });
  });

  test('a "__proto__" key is data here too', () => {
    const result = applyMergePatchSharing({}, JSON.parse('{"__proto__": {"polluted": true}}') as JsonObject);
    assert.equal(Object.getPrototypeOf(result), Object.prototype);
    assert.deepEqual(Object.keys(result), ['__proto__']);
    const copied = applyMergePatchSharing(result, { other: 1 });
    assert.deepEqual(Object.keys(copied), ['__proto__', 'other']);
    assert.equal(Object.getPrototypeOf(copied), Object.prototype);
  });
});

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

function objectsIn(value: unknown, into = new Set<object>()): Set<object> {
  if (typeof value === 'object' && value !== null) {
    into.add(value);
    for (const child of Object.values(value)) objectsIn(child, into);
  }
  return into;
}

describe('diffToMergePatch', () => {
  test('minimal patch: only what changed, removed keys as null', () => {
    const from = { same: 1, gone: 'x', nested: { keep: 1, change: 1 }, list: [1, 2], toObject: 3 };
    const to = { same: 1, nested: { keep: 1, change: 2 }, list: [1, 2, 3], toObject: { a: 1 }, added: [] };
    assert.deepEqual(diffToMergePatch(from, to), {
      gone: null,
      nested: { change: 2 },
      list: [1, 2, 3],
      toObject: { a: 1 },
      added: [],
    });
  });

  test('an object emptied becomes an explicit {} only when it was not an object before', () => {
    assert.deepEqual(diffToMergePatch({ a: { x: 1 } }, { a: {} }), { a: { x: null } });
    assert.deepEqual(diffToMergePatch({ a: 'text' }, { a: {} }), { a: {} });
    assert.deepEqual(diffToMergePatch({ a: {} }, { a: {} }), {});
  });

  test('apply(a, diff(a, b)) deep-equals b', () => {
    fc.assert(
      fc.property(docPair, ([a, b]) => {
        assert.ok(deepEqualJson(applyMergePatch(a, diffToMergePatch(a, b)), b));
      }),
      { numRuns: 300 },
    );
  });

  test('diff(a, a) is {} and never mutates', () => {
    fc.assert(
      fc.property(doc, (a) => {
        const before = structuredClone(a);
        assert.deepEqual(diffToMergePatch(a, structuredClone(a)), {});
        assert.deepEqual(diffToMergePatch(a, a), {});
        assert.ok(deepEqualJson(a, before));
      }),
    );
  });

  test('the patch is minimal: every key it sets differs from the source', () => {
    fc.assert(
      fc.property(docPair, ([a, b]) => {
        const patch = diffToMergePatch(a, b);
        for (const [key, value] of Object.entries(patch)) {
          if (value === null) assert.ok(Object.hasOwn(a, key) && !Object.hasOwn(b, key));
          else assert.ok(!Object.hasOwn(a, key) || !deepEqualJson(a[key], b[key]), `key ${key} is unchanged`);
        }
      }),
    );
  });
});

function mutateEverything(value: JsonValue): void {
  if (Array.isArray(value)) {
    for (const item of value) mutateEverything(item);
    value.push('mutated');
  } else if (isJsonObject(value)) {
    for (const item of Object.values(value)) mutateEverything(item);
    value['mutated-key'] = 1;
  }
}
