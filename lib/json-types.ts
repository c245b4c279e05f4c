/**
 * JSON value types shared by twins, merge patches and validators, plus the two predicates every
 * runtime needs to agree on (what counts as a JSON object, when two JSON values are equal).
 */

export type JsonPrimitive = string | number | boolean | null;
export type JsonValue = JsonPrimitive | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

/**
 * A plain object (object literal, `JSON.parse` result or null-prototype object); not an array, not
 * null, not a class instance such as Date or Buffer, which JSON would silently reshape.
 */
export function isJsonObject(v: unknown): v is JsonObject {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** Structural equality as JSON sees it: key order is irrelevant, array order is significant. */
export function deepEqualJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, i) => deepEqualJson(item, b[i]));
  }
  if (isJsonObject(a)) {
    if (!isJsonObject(b)) return false;
    const aKeys = Object.keys(a);
    if (aKeys.length !== Object.keys(b).length) return false;
    return aKeys.every((k) => Object.hasOwn(b, k) && deepEqualJson(a[k], b[k]));
  }
  return false;
}

/**
 * Sets an own enumerable property even for the key "__proto__", which plain assignment would turn
 * into a prototype change (twin keys such as "__proto__" are legal in IoT Hub and arrive via JSON.parse).
 */
export function setOwnProperty(target: JsonObject, key: string, value: JsonValue): void {
  // defineProperty only where needed: it costs twice a clone's time on the hub's twin-write path.
  if (key === '__proto__') {
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    target[key] = value;
  }
}

/** A deep copy that shares nothing with its input (inputs to pure rules must never be aliased). */
export function cloneJson<T extends JsonValue>(value: T): T {
  if (Array.isArray(value)) return value.map((item) => cloneJson(item)) as T;
  if (isJsonObject(value)) {
    const copy: JsonObject = {};
    for (const [k, v] of Object.entries(value)) setOwnProperty(copy, k, cloneJson(v));
    return copy as T;
  }
  return value;
}
