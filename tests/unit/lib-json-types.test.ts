import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import {
  cloneJson,
  deepEqualJson,
  isJsonObject,
  type JsonObject,
  setOwnProperty,
} from '../../lib/json-types';
import { childPath, formatProblems } from '../../lib/problems';

describe('isJsonObject', () => {
  test('plain and null-prototype objects only', () => {
    assert.equal(isJsonObject({}), true);
    assert.equal(isJsonObject(JSON.parse('{"a":1}')), true);
    assert.equal(isJsonObject(Object.create(null)), true);
    for (const v of [null, undefined, [], 'x', 1, true, new Date(), new Map(), Buffer.from('x'), () => 1]) {
      assert.equal(isJsonObject(v), false, String(v));
    }
  });
});

describe('deepEqualJson', () => {
  test('ignores key order, respects array order and types', () => {
    assert.equal(deepEqualJson({ a: 1, b: { c: [1, 2] } }, { b: { c: [1, 2] }, a: 1 }), true);
    assert.equal(deepEqualJson([1, 2], [2, 1]), false);
    assert.equal(deepEqualJson({ a: 1 }, { a: 1, b: 2 }), false);
    assert.equal(deepEqualJson({ a: undefined }, { b: undefined }), false);
    assert.equal(deepEqualJson({ a: 1 }, [1]), false);
    assert.equal(deepEqualJson(null, {}), false);
    assert.equal(deepEqualJson('1', 1), false);
    assert.equal(deepEqualJson([], {}), false);
  });

  test('agrees with node:util isDeepStrictEqual on JSON values (after a JSON round-trip, which folds -0)', () => {
    const roundTrip = (v: unknown) => JSON.parse(JSON.stringify(v));
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (a, b) => {
        assert.equal(deepEqualJson(a, roundTrip(a)), true);
        assert.equal(deepEqualJson(a, b), isDeepStrictEqual(roundTrip(a), roundTrip(b)));
      }),
    );
  });
});

describe('cloneJson and setOwnProperty', () => {
  test('clone is equal but shares nothing', () => {
    const original = { a: { b: [1, { c: 2 }] } };
    const copy = cloneJson(original);
    assert.deepEqual(copy, original);
    (copy.a.b[1] as JsonObject)['c'] = 3;
    assert.equal((original.a.b[1] as JsonObject)['c'], 2);
  });

  test('"__proto__" stays an own data key', () => {
    const target: JsonObject = {};
    setOwnProperty(target, '__proto__', { x: 1 });
    assert.equal(Object.getPrototypeOf(target), Object.prototype);
    assert.deepEqual(Object.keys(cloneJson(target)), ['__proto__']);
  });
});

describe('problems', () => {
  test('formatProblems prints one "<path>: <message>" line per problem', () => {
    const text = formatProblems([
      { path: 'devices[0].modules[1].desired.a', message: 'bad' },
      { path: '', message: 'root problem' },
    ]);
    assert.equal(text, 'devices[0].modules[1].desired.a: bad\n(root): root problem');
    assert.equal(formatProblems([]), '');
  });

  test('childPath joins keys and indexes, quoting keys that would read ambiguously', () => {
    assert.equal(childPath('', 'devices'), 'devices');
    assert.equal(childPath(childPath('devices', 0), 'desired'), 'devices[0].desired');
    assert.equal(childPath('desired', 'a.b'), 'desired["a.b"]');
    assert.equal(childPath('desired', ''), 'desired[""]');
    assert.equal(childPath('desired', 'has space'), 'desired["has space"]');
    assert.equal(childPath('desired', 'c\u0001\u007f\u0085'), 'desired["c\\u0001\\u007f\\u0085"]');
  });
});
