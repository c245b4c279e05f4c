/**
 * JSON merge patch (RFC 7386) as IoT Hub applies it to tags, desired and reported properties
 * (docs/iot-hub-behaviour.md §6): `null` deletes a key, objects merge recursively, every other value — arrays
 * included — replaces the old one wholesale.
 */
import { cloneJson, deepEqualJson, isJsonObject, type JsonObject, setOwnProperty } from './json-types';

/** Returns the patched document; neither input is mutated and the result shares no structure with them. */
export function applyMergePatch(target: JsonObject, patch: JsonObject): JsonObject {
  // Sharing with a private copy of the target is sharing with nothing the caller holds.
  return applyMergePatchSharing(cloneJson(target), patch);
}

/**
 * `applyMergePatch` for documents nobody changes in place (the local hub's stored twins, which it freezes):
 * the same result, but only the objects on the patched paths are new; every subtree the patch leaves alone
 * is shared with `target`, and the patch's values are copied. A device's ack then costs the size of the ack,
 * not of its whole reported section. `target` is not mutated.
 */
export function applyMergePatchSharing(target: JsonObject, patch: JsonObject): JsonObject {
  // Spread defines own properties, so a "__proto__" key stays data (as setOwnProperty does).
  const result: JsonObject = { ...target };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) {
      delete result[key];
    } else if (isJsonObject(value)) {
      // RFC 7386 §2: a patch object over a non-object starts from {}, which also drops nested nulls.
      const base = Object.hasOwn(result, key) ? result[key] : undefined;
      setOwnProperty(result, key, applyMergePatchSharing(isJsonObject(base) ? base : {}, value));
    } else {
      setOwnProperty(result, key, cloneJson(value));
    }
  }
  return result;
}

/**
 * The smallest patch turning `from` into `to`: removed keys become `null`, changed nested objects
 * recurse, anything else changed is copied from `to`. `diffToMergePatch(a, a)` is `{}`.
 * A merge patch cannot express a `null` value inside `to`'s objects (null means delete), so such
 * keys end up deleted; nulls inside arrays are fine (arrays are replaced whole).
 */
export function diffToMergePatch(from: JsonObject, to: JsonObject): JsonObject {
  const patch: JsonObject = {};
  for (const key of Object.keys(from)) {
    if (!Object.hasOwn(to, key)) setOwnProperty(patch, key, null);
  }
  for (const [key, toValue] of Object.entries(to)) {
    const fromValue = Object.hasOwn(from, key) ? from[key] : undefined;
    if (isJsonObject(fromValue) && isJsonObject(toValue)) {
      const nested = diffToMergePatch(fromValue, toValue);
      if (Object.keys(nested).length > 0) setOwnProperty(patch, key, nested);
    } else if (fromValue === undefined || !deepEqualJson(fromValue, toValue)) {
      setOwnProperty(patch, key, cloneJson(toValue));
    }
  }
  return patch;
}
