/**
 * Mutation operators for the fuzz suite, all driven by a seeded Random (reliability-random.ts) so a
 * failing run can be replayed from its printed seed. Byte-level operators break framing (lengths,
 * flags, truncation); value-level generators keep the framing valid but fill it with hostile
 * content (odd JSON, invalid UTF-8, huge strings), so both the parser and the rules behind it are hit.
 */
import type { Random } from './reliability-random';

/** Values that tend to sit on boundaries of length fields and flag bits. */
const INTERESTING_BYTES = [
  0x00, 0x01, 0x7f, 0x80, 0xff, 0x10, 0x20, 0x30, 0x32, 0x34, 0x82, 0xc0, 0xe0, 0xf0,
];

export type ByteMutator = (random: Random, input: Buffer) => Buffer;

/** MQTT 3.1.1 §2.2.3 variable-length "remaining length". */
export function encodeRemainingLength(length: number): Buffer {
  const bytes: number[] = [];
  let rest = length;
  do {
    let byte = rest % 128;
    rest = Math.floor(rest / 128);
    if (rest > 0) byte |= 0x80;
    bytes.push(byte);
  } while (rest > 0);
  return Buffer.from(bytes);
}

const flipBit: ByteMutator = (random, input) => {
  if (input.length === 0) return random.bytes(1);
  const out = Buffer.from(input);
  const at = random.int(out.length);
  out[at] = out[at]! ^ (1 << random.int(8));
  return out;
};

const setInterestingByte: ByteMutator = (random, input) => {
  if (input.length === 0) return Buffer.from([random.pick(INTERESTING_BYTES)]);
  const out = Buffer.from(input);
  out[random.int(out.length)] = random.chance(0.5) ? random.pick(INTERESTING_BYTES) : random.int(256);
  return out;
};

const truncate: ByteMutator = (random, input) => input.subarray(0, random.int(Math.max(1, input.length)));

const insertBytes: ByteMutator = (random, input) => {
  const at = random.int(input.length + 1);
  return Buffer.concat([input.subarray(0, at), random.bytes(random.between(1, 16)), input.subarray(at)]);
};

const deleteRange: ByteMutator = (random, input) => {
  if (input.length < 2) return input;
  const from = random.int(input.length);
  const to = Math.min(input.length, from + random.between(1, 8));
  return Buffer.concat([input.subarray(0, from), input.subarray(to)]);
};

const duplicateSlice: ByteMutator = (random, input) => {
  if (input.length === 0) return input;
  const from = random.int(input.length);
  const slice = input.subarray(from, from + random.between(1, 32));
  return Buffer.concat([input, slice]);
};

/** Header byte kept or changed, then a different remaining length (shorter, longer, or absurd). */
const rewriteLength: ByteMutator = (random, input) => {
  const header = input.length > 0 ? input[0]! : 0x30;
  let offset = 1;
  while (offset < input.length && offset < 5 && (input[offset]! & 0x80) !== 0) offset++;
  const body = input.subarray(Math.min(offset + 1, input.length));
  const lengths = [
    0,
    1,
    body.length - 1,
    body.length + 1,
    body.length * 2,
    127,
    128,
    16_383,
    16_384,
    2_097_151,
  ];
  const length = Math.max(0, random.chance(0.8) ? random.pick(lengths) : random.int(300_000));
  return Buffer.concat([Buffer.from([header]), encodeRemainingLength(length), body]);
};

/** A different packet type and/or flags in the first byte (reserved types 0 and 15 included). */
const rewriteHeader: ByteMutator = (random, input) => {
  const out = Buffer.from(input.length > 0 ? input : Buffer.from([0, 0]));
  out[0] = (random.int(16) << 4) | random.int(16);
  return out;
};

const appendGarbage: ByteMutator = (random, input) =>
  Buffer.concat([input, random.bytes(random.between(1, 64))]);

/** A run of a five-byte remaining length (invalid: at most four bytes, §2.2.3). */
const overlongLength: ByteMutator = (random, input) =>
  Buffer.concat([
    input.subarray(0, 1),
    Buffer.from([0xff, 0xff, 0xff, 0xff, random.int(256)]),
    input.subarray(2),
  ]);

export const BYTE_MUTATORS: readonly ByteMutator[] = [
  flipBit,
  flipBit,
  setInterestingByte,
  setInterestingByte,
  truncate,
  insertBytes,
  deleteRange,
  duplicateSlice,
  rewriteLength,
  rewriteHeader,
  appendGarbage,
  overlongLength,
];

/** One to three stacked byte mutations. */
export function mutateBytes(random: Random, input: Buffer): Buffer {
  let out = input;
  const rounds = random.between(1, 3);
  for (let i = 0; i < rounds; i++) out = random.pick(BYTE_MUTATORS)(random, out);
  return out;
}

const HOSTILE_STRINGS = [
  '',
  ' ',
  '$',
  '.',
  'a.b',
  '__proto__',
  'constructor',
  'prototype',
  '$metadata',
  '$version',
  '\u0000',
  '\u001f',
  '\ud800',
  '\u202e',
  '#',
  '+',
  '/',
  '%',
  '%ZZ',
  '../..',
  'null',
  '{"a":',
];

/** A random JSON-compatible value; `depth` bounds nesting, strings may hold any code unit. */
export function randomJsonValue(random: Random, depth: number): unknown {
  const kind = random.int(depth > 0 ? 9 : 6);
  switch (kind) {
    case 0:
      return null;
    case 1:
      return random.chance(0.5);
    case 2:
      return random.pick([0, -1, 1.5, 2 ** 53, -(2 ** 53), 1e308, -0, 4503599627370496]);
    case 3:
      return random.pick(HOSTILE_STRINGS);
    case 4:
      return 'x'.repeat(random.pick([1, 100, 4096, 4097, 40_000]));
    case 5:
      return String.fromCharCode(...Array.from({ length: random.between(1, 12) }, () => random.int(0x10000)));
    case 6:
      return Array.from({ length: random.between(0, 4) }, () => randomJsonValue(random, depth - 1));
    default: {
      const value: Record<string, unknown> = {};
      for (let i = random.between(0, 4); i > 0; i--) {
        const key = random.chance(0.5) ? random.pick(HOSTILE_STRINGS) : `k${random.int(1000)}`;
        Object.defineProperty(value, key, {
          value: randomJsonValue(random, depth - 1),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      return value;
    }
  }
}

/** `[[[[…]]]]` or `{"a":{"a":…}}` nested `depth` levels: hostile to recursive validators. */
export function deeplyNestedJson(depth: number, kind: 'array' | 'object'): string {
  return kind === 'array'
    ? `${'['.repeat(depth)}${']'.repeat(depth)}`
    : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

/** Invalid or unusual UTF-8 sequences: lone continuation, overlong, surrogate, truncated, BOMs. */
export const BAD_UTF8: readonly Buffer[] = [
  Buffer.from([0x80]),
  Buffer.from([0xc0, 0xaf]),
  Buffer.from([0xed, 0xa0, 0x80]),
  Buffer.from([0xf4, 0x90, 0x80, 0x80]),
  Buffer.from([0xe2, 0x82]),
  Buffer.from([0xff, 0xfe]),
  Buffer.from([0xef, 0xbb, 0xbf]),
  Buffer.from([0x00]),
];

/** A text (JSON, topic) with one of BAD_UTF8 spliced in at a random place. */
export function spliceBadUtf8(random: Random, text: string): Buffer {
  const bytes = Buffer.from(text, 'utf8');
  const at = random.int(bytes.length + 1);
  return Buffer.concat([bytes.subarray(0, at), random.pick(BAD_UTF8), bytes.subarray(at)]);
}
