/**
 * IoT Hub's rules for automatic device and module configurations (docs/iot-hub-behaviour.md §8.4), pure, for the
 * Configuration provider's `check` and the stack config: the id, the content (each key a desired-property path,
 * each value checked by the twin document rules), the target condition, the priority, labels and metric
 * queries. Every problem at once, each with its path (`moduleContent["properties.desired.a"].b`).
 */
import { isJsonObject, type JsonObject, type JsonValue } from './json-types';
import { pathsRelated } from './owned-leaves';
import { childPath, type Problem } from './problems';
import { TWIN_LIMITS, twinDocumentSize, validateTwinSection } from './twin-document-rules';

export const CONFIGURATION_LIMITS = {
  /** §8.4: at most 100 configurations per hub. */
  perHub: 100,
  idLength: 128,
  /** Priority is a 32-bit signed integer on the wire; the hub refuses negatives. */
  maxPriority: 2_147_483_647,
} as const;

/** §8.4: lower-case ASCII letters, digits and `- : + % _ # * ? ! ( ) , = @ ; $ '`, 1–128 characters. */
export const CONFIGURATION_ID = /^[a-z0-9\-:+%_#*?!(),=@;$']{1,128}$/;

export type ConfigurationContentKind = 'deviceContent' | 'moduleContent';

const DESIRED_ROOT = 'properties.desired';
const MODULE_TARGET = /^\s*from\s+devices\.modules\s+where\s+\S/i;

export function validateConfigurationId(id: unknown, path: string): Problem[] {
  if (typeof id !== 'string') return [{ path, message: 'must be a string' }];
  if (CONFIGURATION_ID.test(id)) return [];
  const hint = /[A-Z]/.test(id) ? ` (upper-case letters are not allowed: "${id.toLowerCase()}"?)` : '';
  return [
    {
      path,
      message: `${JSON.stringify(id)} is not a configuration id: 1–${CONFIGURATION_LIMITS.idLength} of lower-case letters, digits and - : + % _ # * ? ! ( ) , = @ ; $ '${hint}`,
    },
  ];
}

/** `properties.desired.a.b` → ['a', 'b']; `properties.desired` → []; anything else → undefined. */
export function desiredPathSegments(key: string): string[] | undefined {
  if (key === DESIRED_ROOT) return [];
  if (!key.startsWith(`${DESIRED_ROOT}.`)) return undefined;
  return key.slice(DESIRED_ROOT.length + 1).split('.');
}

/** The merge patch one content entry applies to a targeted twin's desired properties. */
export function contentEntryPatch(segments: readonly string[], value: JsonValue): JsonObject {
  if (segments.length === 0) return isJsonObject(value) ? value : {};
  let patch: JsonValue = value;
  for (const key of [...segments].reverse()) patch = { [key]: patch };
  return patch as JsonObject;
}

/** The desired document a content applies (entries merged in key order). */
export function contentDesired(content: JsonObject): JsonObject {
  const merged: JsonObject = {};
  for (const [key, value] of Object.entries(content)) {
    const segments = desiredPathSegments(key);
    if (segments) mergeInto(merged, contentEntryPatch(segments, value));
  }
  return merged;
}

function mergeInto(target: JsonObject, patch: JsonObject): void {
  for (const [key, value] of Object.entries(patch)) {
    const current = target[key];
    if (isJsonObject(value) && isJsonObject(current)) mergeInto(current, value);
    else target[key] = value;
  }
}

/** Every problem of a `deviceContent` / `moduleContent` map, with paths under `field`. */
export function validateConfigurationContent(content: unknown, field: string): Problem[] {
  if (!isJsonObject(content)) {
    return [
      {
        path: field,
        message: `must be an object of desired-property paths, e.g. {"properties.desired.telemetryInterval": 30}`,
      },
    ];
  }
  const problems: Problem[] = [];
  const entries = Object.entries(content);
  if (entries.length === 0) {
    problems.push({ path: field, message: 'is empty; a configuration sets at least one desired property' });
  }
  const valid: { key: string; segments: string[] }[] = [];
  for (const [key, value] of entries) {
    const path = childPath(field, key);
    const segments = desiredPathSegments(key);
    if (segments === undefined) {
      problems.push({
        path,
        message: `content keys are desired-property paths "properties.desired" or "properties.desired.<name>[.<name>…]"; tags and reported properties cannot be set by a configuration`,
      });
      continue;
    }
    if (segments.length === 0 && !isJsonObject(value)) {
      problems.push({ path, message: 'the whole desired section must be set to an object' });
      continue;
    }
    problems.push(...entryProblems(segments, value, path));
    valid.push({ key, segments });
  }
  for (let i = 0; i < valid.length; i++) {
    for (let j = i + 1; j < valid.length; j++) {
      if (pathsRelated(valid[i]!.segments, valid[j]!.segments)) {
        problems.push({
          path: childPath(field, valid[j]!.key),
          message: `overlaps ${JSON.stringify(valid[i]!.key)}: one path contains the other, so which value wins would depend on key order`,
        });
      }
    }
  }
  if (problems.length === 0) {
    const size = twinDocumentSize(contentDesired(content));
    if (size > TWIN_LIMITS.desiredBytes) {
      problems.push({
        path: field,
        message: `sets ${size} bytes of desired properties (IoT Hub's size rules); a twin's desired section holds at most ${TWIN_LIMITS.desiredBytes}`,
      });
    }
  }
  return problems;
}

/**
 * The twin rules for one entry (key characters, depth, sizes, integers, no null), checked on the patch it
 * applies, with each problem's path moved under the content key that caused it.
 */
function entryProblems(segments: string[], value: unknown, path: string): Problem[] {
  if (value === null) {
    return [{ path, message: 'null would delete the property; a configuration can only set values' }];
  }
  const patch = contentEntryPatch(segments, value as JsonValue);
  const prefix = segments.reduce((p, key) => childPath(p, key), '');
  return validateTwinSection('desired', patch, '').map((problem) => {
    if (prefix !== '' && problem.path.startsWith(prefix)) {
      return { path: `${path}${problem.path.slice(prefix.length)}`, message: problem.message };
    }
    // A problem with a path segment itself (a key with "$", a space, …): name the content key.
    return { path, message: `${problem.path === '' ? '' : `${problem.path}: `}${problem.message}` };
  });
}

export function validateTargetCondition(
  value: unknown,
  kind: ConfigurationContentKind,
  path: string,
): Problem[] {
  if (typeof value !== 'string' || value.trim() === '') {
    const example =
      kind === 'moduleContent'
        ? `"FROM devices.modules WHERE moduleId='telemetry' AND tags.ring='0'"`
        : `"tags.environment='prod'"`;
    return [{ path, message: `is required: a condition over twins such as ${example}, or "*" for all` }];
  }
  if (kind === 'moduleContent' && !MODULE_TARGET.test(value)) {
    return [
      {
        path,
        message: `a moduleContent configuration targets module twins: "FROM devices.modules WHERE <condition>"; got ${JSON.stringify(value)}`,
      },
    ];
  }
  if (kind === 'deviceContent' && /^\s*from\b/i.test(value)) {
    return [
      {
        path,
        message: `a deviceContent configuration's condition is the WHERE part only (e.g. "tags.site='a'"); got ${JSON.stringify(value)}`,
      },
    ];
  }
  return [];
}

export function validatePriority(value: unknown, path: string): Problem[] {
  if (
    typeof value === 'number' &&
    Number.isInteger(value) &&
    value >= 0 &&
    value <= CONFIGURATION_LIMITS.maxPriority
  ) {
    return [];
  }
  return [
    {
      path,
      message: `must be an integer from 0 to ${CONFIGURATION_LIMITS.maxPriority} (the highest wins on a twin two configurations target); got ${JSON.stringify(value)}`,
    },
  ];
}

/** Label keys and values (the service SDK's Configuration docs): 1–128 ASCII letters, digits and these symbols; `$` is reserved. */
const LABEL = /^[A-Za-z0-9\-:.+%_#*?!(),=@;']{1,128}$/;

export function validateLabels(value: unknown, path: string): Problem[] {
  if (!isJsonObject(value)) return [{ path, message: 'must be an object of strings' }];
  const problems: Problem[] = [];
  const rule = "1–128 ASCII letters, digits and - : . + % _ # * ? ! ( ) , = @ ; ' ($ is reserved)";
  for (const [key, entry] of Object.entries(value)) {
    const entryPath = childPath(path, key);
    if (!LABEL.test(key)) problems.push({ path: entryPath, message: `label names are ${rule}` });
    if (typeof entry !== 'string' || !LABEL.test(entry)) {
      problems.push({
        path: entryPath,
        message: `label values are strings of ${rule}; got ${JSON.stringify(entry)}`,
      });
    }
  }
  return problems;
}

/** `metrics` (query name → query): objects of non-empty strings. */
export function validateStringMap(value: unknown, path: string, what: string): Problem[] {
  if (!isJsonObject(value)) return [{ path, message: `must be an object of ${what}` }];
  const problems: Problem[] = [];
  for (const [key, entry] of Object.entries(value)) {
    if (typeof entry !== 'string' || entry.trim() === '') {
      problems.push({ path: childPath(path, key), message: `must be a non-empty string (${what})` });
    }
  }
  return problems;
}

/** The configuration count limit, for a stack that declares them all (the provider sees one at a time). */
export function validateConfigurationCount(count: number, path: string): Problem[] {
  return count > CONFIGURATION_LIMITS.perHub
    ? [
        {
          path,
          message: `declares ${count} configurations; an IoT hub holds at most ${CONFIGURATION_LIMITS.perHub} (docs/iot-hub-behaviour.md §8.4)`,
        },
      ]
    : [];
}
