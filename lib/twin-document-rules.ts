/**
 * Twin document limits (docs/iot-hub-behaviour.md §5 "Twin documents", current docs — not the older module-twin
 * limits) and the hub's size algorithm, shared by config validation, the local hub and the runtime.
 */
import { isJsonObject, type JsonObject } from './json-types';
import { childPath, type Problem } from './problems';

export const TWIN_LIMITS = {
  tagsBytes: 8192,
  desiredBytes: 32768,
  reportedBytes: 32768,
  propertyBytes: 4096,
  maxDepth: 10,
  keyBytes: 1024,
  minSafeInteger: -4503599627370496,
  maxSafeInteger: 4503599627370495,
} as const;

export type TwinSection = 'tags' | 'desired' | 'reported';

const SECTION_LIMIT: Record<TwinSection, number> = {
  tags: TWIN_LIMITS.tagsBytes,
  desired: TWIN_LIMITS.desiredBytes,
  reported: TWIN_LIMITS.reportedBytes,
};

/**
 * Read-only members the hub adds at a section's root; excluded from the size (§5). An array, not a
 * Set: captured Sets do not survive Pulumi's closure serialization (providers capture this module).
 */
const READ_ONLY_ROOT_KEYS: readonly string[] = ['$metadata', '$version', '$etag'];

/** Unicode general category Cc = C0 (U+0000–U+001F), DEL and C1 (U+0080–U+009F). */
const CONTROL_CHAR = /\p{Cc}/u;
/** Anything but U+0020–U+007E: the strings whose size needs the code-point walk. */
const BEYOND_PRINTABLE_ASCII = /[^\x20-\x7e]/;
/** A character some key rule is about (§5): the full check runs only for keys holding one. */
const KEY_RULE_CHAR = /[.$ \p{Cc}]/u;

/**
 * §5: strings (keys and values) count their characters (code points), excluding C0/C1 controls.
 * Every "KB" limit below (keys, strings, properties, sections) is measured this way, as the hub does.
 */
export function twinStringSize(s: string): number {
  // Printable ASCII only (nearly every key and value): one code point per UTF-16 unit, no controls.
  if (!BEYOND_PRINTABLE_ASCII.test(s)) return s.length;
  let count = 0;
  for (const ch of s) if (!CONTROL_CHAR.test(ch)) count++;
  return count;
}

/**
 * §5 size of one value: strings as above, numbers 8, booleans 4, objects the sum of their keys and
 * values. Arrays (not described by the docs) count the sum of their elements; `null` (only legal in
 * a patch, where it deletes) counts 0.
 */
export function twinValueSize(value: unknown): number {
  if (typeof value === 'string') return twinStringSize(value);
  if (typeof value === 'number') return 8;
  if (typeof value === 'boolean') return 4;
  if (Array.isArray(value)) return value.reduce((sum: number, item) => sum + twinValueSize(item), 0);
  if (isJsonObject(value)) {
    return Object.entries(value).reduce((sum, [k, v]) => sum + twinStringSize(k) + twinValueSize(v), 0);
  }
  return 0;
}

/** Size of a section (tags, desired or reported) as the hub computes it, without `$metadata`/`$version`/`$etag`. */
export function twinDocumentSize(doc: JsonObject): number {
  let size = 0;
  for (const [k, v] of Object.entries(doc)) {
    if (!READ_ONLY_ROOT_KEYS.includes(k)) size += twinStringSize(k) + twinValueSize(v);
  }
  return size;
}

/**
 * Every problem in one section document (or a patch of it), each with its path. Callers pass user
 * content only: `$metadata`/`$version` are invalid keys here (§5: `$` is forbidden in keys). After
 * applying a valid patch, call again on the merged document (without `isPatch`) to check its size.
 */
export function validateTwinSection(
  section: TwinSection,
  doc: unknown,
  path: string,
  opts: { isPatch?: boolean } = {},
): Problem[] {
  if (!isJsonObject(doc)) {
    return [{ path, message: `${section} must be a JSON object; got ${describe(doc)}` }];
  }
  const problems: Problem[] = [];
  const walk: Walk = { problems, isPatch: opts.isPatch === true };
  let total = 0;
  for (const [key, value] of Object.entries(doc)) {
    const keyPath = childPath(path, key);
    checkKey(walk, key, keyPath);
    checkValue(walk, value, keyPath, 0, true);
    const size = twinStringSize(key) + twinValueSize(value);
    // The section's size is twinDocumentSize's: read-only root keys (refused above) do not count.
    if (!READ_ONLY_ROOT_KEYS.includes(key)) total += size;
    if (size > TWIN_LIMITS.propertyBytes) {
      problems.push({
        path: keyPath,
        message: `property is ${size} bytes (key plus value, IoT Hub's size rules); the maximum is ${TWIN_LIMITS.propertyBytes}`,
      });
    }
  }
  if (total > SECTION_LIMIT[section]) {
    problems.push({
      path,
      message: `${section} is ${total} bytes (IoT Hub's size rules); the maximum is ${SECTION_LIMIT[section]}`,
    });
  }
  return problems;
}

/**
 * The limits a merge can break in a section whose every input was already valid (validateTwinSection on
 * the patch or replacement): keys, values, nulls and depth of the merged document come from valid inputs
 * (a merged object sits at the same depth as the objects it came from; a patch's nulls are refused inside
 * arrays, the one place a merge would keep them), so only sizes can grow, per
 * top-level property and for the whole section. Walking keys and values again on every write (each
 * device ack is one) would cost time and find nothing.
 */
export function validateMergedSectionSizes(section: TwinSection, doc: JsonObject, path: string): Problem[] {
  const problems: Problem[] = [];
  let total = 0;
  for (const [key, value] of Object.entries(doc)) {
    if (READ_ONLY_ROOT_KEYS.includes(key)) continue;
    const size = twinStringSize(key) + twinValueSize(value);
    total += size;
    if (size > TWIN_LIMITS.propertyBytes) {
      problems.push({
        path: childPath(path, key),
        message: `property is ${size} bytes (key plus value, IoT Hub's size rules); the maximum is ${TWIN_LIMITS.propertyBytes}`,
      });
    }
  }
  if (total > SECTION_LIMIT[section]) {
    problems.push({
      path,
      message: `${section} is ${total} bytes (IoT Hub's size rules); the maximum is ${SECTION_LIMIT[section]}`,
    });
  }
  return problems;
}

interface Walk {
  problems: Problem[];
  isPatch: boolean;
  /** Under an array: a merge patch replaces arrays whole, so a null there is data, never a delete. */
  inArray?: boolean;
}

/** §5 keys: non-empty, ≤ 1 KB, no `.`, `$`, space or C0/C1 control characters. */
function checkKey(walk: Walk, key: string, path: string): void {
  if (key === '') say(walk, path, 'property name is empty');
  const size = twinStringSize(key);
  if (size > TWIN_LIMITS.keyBytes)
    say(walk, path, `property name is ${size} bytes; the maximum is ${TWIN_LIMITS.keyBytes}`);
  if (!KEY_RULE_CHAR.test(key)) return;
  const bad = [
    key.includes('.') ? '"."' : '',
    key.includes('$') ? '"$"' : '',
    key.includes(' ') ? 'space' : '',
    CONTROL_CHAR.test(key) ? 'control characters' : '',
  ].filter((b) => b !== '');
  if (bad.length > 0) {
    say(
      walk,
      path,
      `property name contains ${bad.join(', ')}; names must not contain ".", "$", space or control characters`,
    );
  }
}

/**
 * Depth (§5): the number of objects nested under the section root, so `tags.l1.….l10 = leaf` (ten
 * nested objects, the docs' example) is valid and an eleventh object is not. `level` is the level of
 * the object that holds `value` (0 = the section root). Arrays add no level; objects inside them do.
 * `isMember` tells an object member (where a patch may use null to delete) from an array element.
 */
function checkValue(walk: Walk, value: unknown, path: string, level: number, isMember: boolean): void {
  if (value === null) {
    if (!isMember || walk.inArray) say(walk, path, 'null is not allowed inside arrays');
    else if (!walk.isPatch) say(walk, path, 'null is only allowed in a patch, where it deletes the property');
  } else if (typeof value === 'string') {
    const size = twinStringSize(value);
    if (size > TWIN_LIMITS.propertyBytes)
      say(walk, path, `string is ${size} bytes; the maximum is ${TWIN_LIMITS.propertyBytes}`);
  } else if (typeof value === 'number') {
    const problem = numberProblem(value);
    if (problem) say(walk, path, problem);
  } else if (Array.isArray(value)) {
    const inArray = walk.inArray ? walk : { ...walk, inArray: true };
    for (const [i, item] of value.entries()) checkValue(inArray, item, childPath(path, i), level, false);
  } else if (isJsonObject(value)) {
    checkObject(walk, value, path, level + 1);
  } else if (typeof value !== 'boolean') {
    say(walk, path, `${describe(value)} is not a JSON value; use a string, number, boolean, object or array`);
  }
}

function checkObject(walk: Walk, value: JsonObject, path: string, level: number): void {
  if (level === TWIN_LIMITS.maxDepth + 1) {
    // Reported once, at the first object too deep; its contents are still checked below.
    walk.problems.push({
      path,
      message: `object nesting is ${level} levels deep under the section; the maximum is ${TWIN_LIMITS.maxDepth}`,
    });
  }
  for (const [k, v] of Object.entries(value)) {
    const keyPath = childPath(path, k);
    checkKey(walk, k, keyPath);
    checkValue(walk, v, keyPath, level, true);
  }
}

function numberProblem(value: number): string | undefined {
  if (!Number.isFinite(value)) return `${value} is not a finite number; JSON has no NaN or Infinity`;
  if (Number.isInteger(value) && (value < TWIN_LIMITS.minSafeInteger || value > TWIN_LIMITS.maxSafeInteger)) {
    return `integer ${value} is out of range; valid integers are ${TWIN_LIMITS.minSafeInteger} to ${TWIN_LIMITS.maxSafeInteger}`;
  }
  return undefined;
}

/**
 * A plain function, not a closure per call: the walk runs for every key of every twin write (each device
 * ack), and a closure made per visited value was a measurable part of it.
 */
function say(walk: Walk, path: string, message: string): void {
  walk.problems.push({ path, message });
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value;
}
