import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import type { JsonObject } from '../../lib/json-types';
import { applyMergePatch } from '../../lib/merge-patch';
import { formatProblems } from '../../lib/problems';
import {
  TWIN_LIMITS,
  twinDocumentSize,
  twinStringSize,
  validateMergedSectionSizes,
  validateTwinSection,
} from '../../lib/twin-document-rules';

/** `n` objects nested inside each other (each under key "k"), the innermost holding a leaf. */
function nestedObjects(n: number): JsonObject {
  return n === 1 ? { leaf: 1 } : { k: nestedObjects(n - 1) };
}

function messages(
  section: 'tags' | 'desired' | 'reported',
  doc: unknown,
  opts?: { isPatch?: boolean },
): string {
  return formatProblems(validateTwinSection(section, doc, 'twin', opts));
}

describe('twinDocumentSize (docs/iot-hub-behaviour.md §5 algorithm)', () => {
  const examples: Array<[string, JsonObject, number]> = [
    ['key plus string characters', { a: 'xyz' }, 1 + 3],
    ['numbers 8, booleans 4', { num: 1, flag: true, f: 2.5 }, 3 + 8 + 4 + 4 + 1 + 8],
    ['objects are the sum of their members', { nested: { k: 'v', n: 0 } }, 6 + (1 + 1) + (1 + 8)],
    ['C0, DEL and C1 controls are not counted', { s: 'a\u0000b\u007f\u0085c\n' }, 1 + 3],
    ['characters, not UTF-8 bytes', { é: 'ü😀' }, 1 + 2],
    ['arrays are the sum of their elements', { arr: [1, 'ab', { x: true }, []] }, 3 + 8 + 2 + (1 + 4)],
    ['read-only root members are excluded', { a: 1, $version: 3, $metadata: { $lastUpdated: 'x' } }, 1 + 8],
    ['empty document', {}, 0],
  ];
  for (const [name, doc, size] of examples) {
    test(name, () => assert.equal(twinDocumentSize(doc), size));
  }

  test('twinStringSize counts code points minus controls', () => {
    assert.equal(twinStringSize(''), 0);
    assert.equal(twinStringSize('\u0000\u001f\u0080\u009f'), 0);
    assert.equal(twinStringSize('\u00a0x'), 2);
  });

  test('is additive over members', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 5 }), (doc) => {
        const sum = Object.entries(doc).reduce(
          (acc, [k, v]) => acc + twinDocumentSize({ [k]: v } as JsonObject),
          0,
        );
        assert.equal(twinDocumentSize(doc as JsonObject), sum);
      }),
    );
  });
});

describe('validateTwinSection', () => {
  test('a valid document has no problems', () => {
    const doc = { a: 1, b: 'x', c: true, d: [1, 'two', { three: 3 }], e: { f: { g: -1.5 } } };
    for (const section of ['tags', 'desired', 'reported'] as const) {
      assert.deepEqual(validateTwinSection(section, doc, 'p'), []);
    }
  });

  test('the root must be an object', () => {
    for (const [doc, kind] of [
      [[], 'an array'],
      [null, 'null'],
      ['x', 'string'],
      [undefined, 'undefined'],
    ] as const) {
      assert.equal(messages('desired', doc), `twin: desired must be a JSON object; got ${kind}`);
    }
  });

  test('depth: ten nested objects then a leaf is valid, an eleventh object is not', () => {
    assert.deepEqual(validateTwinSection('tags', { top: nestedObjects(10) }, 'tags'), []);
    const problems = validateTwinSection('tags', { top: nestedObjects(11) }, 'tags');
    assert.deepEqual(problems, [
      {
        path: `tags.top${'.k'.repeat(10)}`,
        message: 'object nesting is 11 levels deep under the section; the maximum is 10',
      },
    ]);
  });

  test('depth: arrays add no level, objects inside them do', () => {
    assert.deepEqual(validateTwinSection('desired', { top: [[nestedObjects(10)]] }, 'd'), []);
    const [problem] = validateTwinSection('desired', { top: [[nestedObjects(11)]] }, 'd');
    assert.equal(problem?.path, `d.top[0][0]${'.k'.repeat(10)}`);
  });

  test('keys: empty, over 1 KB, or containing . $ space or controls', () => {
    const doc = {
      '': 1,
      'a.b': 1,
      $version: 1,
      'has space': 1,
      'ctl\u0001': 1,
      'c1\u0085': 1,
      [`${'k'.repeat(1025)}`]: 1,
      [`${'k'.repeat(1024)}`]: 1,
    };
    const problems = validateTwinSection('tags', doc, 't');
    assert.deepEqual(
      problems.map((p) => p.path),
      [
        't[""]',
        't["a.b"]',
        't["$version"]',
        't["has space"]',
        't["ctl\\u0001"]',
        't["c1\\u0085"]',
        `t.${'k'.repeat(1025)}`,
      ],
    );
    assert.match(
      problems[1]!.message,
      /contains "\."; names must not contain "\.", "\$", space or control characters/,
    );
    assert.match(problems[6]!.message, /property name is 1025 bytes; the maximum is 1024/);
  });

  test('nested keys are checked too', () => {
    assert.equal(messages('desired', { a: { 'b.c': 1 }, arr: [{ $x: 1 }] }).split('\n').length, 2);
  });

  test('integers within ±2^52, finite numbers only', () => {
    const ok = { max: TWIN_LIMITS.maxSafeInteger, min: TWIN_LIMITS.minSafeInteger, frac: 1e-300 };
    assert.deepEqual(validateTwinSection('reported', ok, 'r'), []);
    const bad = {
      over: TWIN_LIMITS.maxSafeInteger + 1,
      under: TWIN_LIMITS.minSafeInteger - 1,
      huge: 1e300,
      nan: Number.NaN,
      inf: Number.POSITIVE_INFINITY,
    };
    const problems = validateTwinSection('reported', bad, 'r');
    assert.deepEqual(
      problems.map((p) => p.path),
      ['r.over', 'r.under', 'r.huge', 'r.nan', 'r.inf'],
    );
    assert.match(
      problems[0]!.message,
      /out of range; valid integers are -4503599627370496 to 4503599627370495/,
    );
    assert.match(problems[3]!.message, /not a finite number/);
  });

  test('strings up to 4 KB; each top-level property up to 4 KB', () => {
    assert.deepEqual(validateTwinSection('desired', { a: 'x'.repeat(4095) }, 'd'), []);
    assert.match(messages('desired', { ab: 'x'.repeat(4095) }), /^twin\.ab: property is 4097 bytes/);
    assert.equal(
      messages('desired', { a: { b: 'x'.repeat(4097) } }),
      "twin.a.b: string is 4097 bytes; the maximum is 4096\ntwin.a: property is 4099 bytes (key plus value, IoT Hub's size rules); the maximum is 4096",
    );
  });

  test('section limits: tags 8 KB, desired and reported 32 KB', () => {
    const props = (n: number) =>
      Object.fromEntries(Array.from({ length: n }, (_, i) => [`p${i}`, 'x'.repeat(4000)]));
    assert.deepEqual(validateTwinSection('tags', props(2), 't'), []);
    assert.match(
      messages('tags', props(3)),
      /^twin: tags is 12006 bytes \(IoT Hub's size rules\); the maximum is 8192$/,
    );
    assert.deepEqual(validateTwinSection('desired', props(8), 'd'), []);
    assert.match(messages('desired', props(9)), /desired is 36018 bytes.*maximum is 32768/);
    assert.match(messages('reported', props(9)), /reported is 36018 bytes.*maximum is 32768/);
  });

  test('null only in patches, where it deletes; never inside arrays', () => {
    assert.equal(
      messages('desired', { a: null }),
      'twin.a: null is only allowed in a patch, where it deletes the property',
    );
    assert.deepEqual(validateTwinSection('desired', { a: null, b: { c: null } }, 'p', { isPatch: true }), []);
    assert.equal(
      messages('desired', { a: [1, null] }, { isPatch: true }),
      'twin.a[1]: null is not allowed inside arrays',
    );
  });

  test('non-JSON values are named', () => {
    const doc = { u: undefined, f: () => 1, d: new Date(0), b: BigInt(1) } as unknown;
    const problems = validateTwinSection('tags', doc, 't');
    assert.deepEqual(
      problems.map((p) => p.path),
      ['t.u', 't.f', 't.d', 't.b'],
    );
    assert.match(problems[0]!.message, /undefined is not a JSON value/);
  });

  test('reports every problem at once, each with its path', () => {
    const doc = { 'bad key': null, deep: { top: nestedObjects(11) }, n: Number.NaN, s: 'x'.repeat(5000) };
    const problems = validateTwinSection('desired', doc, 'devices[0].modules[1].desired');
    assert.deepEqual(
      problems.map((p) => p.path),
      [
        'devices[0].modules[1].desired["bad key"]',
        'devices[0].modules[1].desired["bad key"]',
        `devices[0].modules[1].desired.deep.top${'.k'.repeat(9)}`,
        'devices[0].modules[1].desired.n',
        'devices[0].modules[1].desired.s',
        'devices[0].modules[1].desired.s',
      ],
    );
  });

  test('a valid patch can still make the merged document too large: validate the merge again', () => {
    const current = Object.fromEntries(Array.from({ length: 2 }, (_, i) => [`p${i}`, 'x'.repeat(4000)]));
    const patch = { p2: 'y'.repeat(4000) };
    assert.deepEqual(validateTwinSection('tags', patch, 'patch', { isPatch: true }), []);
    assert.match(messages('tags', applyMergePatch(current, patch)), /tags is 12006 bytes/);
  });
});

describe('validateMergedSectionSizes (after a merge of valid inputs, only sizes can break)', () => {
  const key = fc.stringMatching(/^[a-z]{1,6}$/);
  const section = fc.dictionary(key, fc.jsonValue({ maxDepth: 3 }), { maxKeys: 6 });

  test('finds exactly what the full validation finds on the merge of a valid document and a valid patch', () => {
    fc.assert(
      fc.property(section, section, (doc, patch) => {
        fc.pre(validateTwinSection('reported', doc, 'r').length === 0);
        fc.pre(validateTwinSection('reported', patch, 'r', { isPatch: true }).length === 0);
        const merged = applyMergePatch(doc as JsonObject, patch as JsonObject);
        assert.deepEqual(
          validateMergedSectionSizes('reported', merged, 'r'),
          validateTwinSection('reported', merged, 'r'),
        );
      }),
    );
  });

  test("a patch's null inside an object inside an array is refused: a merge would keep it as data", () => {
    // The counterexample fast-check found for the property above before the patch rule covered it.
    assert.equal(
      formatProblems(validateTwinSection('reported', { a: [{ b: null }] }, 'r', { isPatch: true })),
      'r.a[0].b: null is not allowed inside arrays',
    );
    assert.deepEqual(validateTwinSection('reported', { a: { b: null } }, 'r', { isPatch: true }), []);
  });

  test('a property grown past 4 KB by a merge, and a section past its limit, are reported with their paths', () => {
    const half = 'x'.repeat(2100);
    const merged = applyMergePatch({ big: { a: half } }, { big: { b: half } });
    assert.match(
      formatProblems(validateMergedSectionSizes('reported', merged, 'properties.reported')),
      /properties\.reported\.big: property is 4205 bytes .* the maximum is 4096/,
    );
    const full = Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`k${i}`, 'y'.repeat(4000)]));
    assert.match(
      formatProblems(validateMergedSectionSizes('tags', full, 'tags')),
      /tags: tags is 36018 bytes .* the maximum is 8192/,
    );
  });
});
