/**
 * Twin ownership by leaf path (docs/twin-ownership.md, as the community Terraform provider and
 * Ansible manage only the twin keys they declare). A twin resource owns exactly the leaves its config
 * declares — a leaf is a path to a non-object value (string, number, boolean, array); empty objects
 * declare nothing. Every other key belongs to someone else (the device, another tool, a person) and is
 * never written. All writes are JSON merge patches (docs/iot-hub-behaviour.md §6), so ownership is expressed as:
 * set every declared leaf, `null` every previously owned leaf that is no longer declared.
 *
 * Pure: shared by the dynamic providers (serialized into Pulumi state) and their tests.
 */
import {
  cloneJson,
  deepEqualJson,
  isJsonObject,
  type JsonObject,
  type JsonValue,
  setOwnProperty,
} from './json-types';

export type LeafPath = readonly string[];

/** Paths to every leaf of `doc`, depth first, in key order. Arrays are leaves; `{}` declares nothing. */
export function leafPaths(doc: JsonObject): string[][] {
  const paths: string[][] = [];
  const walk = (node: JsonObject, prefix: string[]): void => {
    for (const [key, value] of Object.entries(node)) {
      const path = [...prefix, key];
      if (isJsonObject(value)) walk(value, path);
      else paths.push(path);
    }
  };
  walk(doc, []);
  return paths;
}

/** The value at `path`, or `undefined` when any step is missing or not an object. */
export function valueAt(doc: unknown, path: LeafPath): JsonValue | undefined {
  let node: unknown = doc;
  for (const key of path) {
    if (!isJsonObject(node) || !Object.hasOwn(node, key)) return undefined;
    node = node[key];
  }
  return node as JsonValue;
}

/** Sets `value` at `path`, creating (or replacing non-object) intermediate objects. Mutates `doc`. */
function setAt(doc: JsonObject, path: LeafPath, value: JsonValue): void {
  let node = doc;
  for (const key of path.slice(0, -1)) {
    const next = Object.hasOwn(node, key) ? node[key] : undefined;
    if (isJsonObject(next)) {
      node = next;
    } else {
      const created: JsonObject = {};
      setOwnProperty(node, key, created);
      node = created;
    }
  }
  setOwnProperty(node, path[path.length - 1]!, value);
}

function isPrefix(prefix: LeafPath, path: LeafPath): boolean {
  return prefix.length <= path.length && prefix.every((key, i) => path[i] === key);
}

/** Two paths are related when one is a prefix of the other: writing one rewrites the other. */
export function pathsRelated(a: LeafPath, b: LeafPath): boolean {
  return isPrefix(a, b) || isPrefix(b, a);
}

/**
 * The merge patch that makes the twin section match `declared` on every owned leaf: each declared
 * leaf is set, and each leaf owned before (`previous`) that is no longer declared is nulled — unless
 * a declared leaf now sits on a related path (the patch already rewrites that spot). Nothing else is
 * in the patch, so keys written by others survive (§6: merge patches touch only the keys they name).
 */
export function ownershipPatch(previous: JsonObject | undefined, declared: JsonObject): JsonObject {
  const patch: JsonObject = {};
  const declaredPaths = leafPaths(declared);
  for (const path of declaredPaths) setAt(patch, path, cloneJson(valueAt(declared, path)!));
  for (const path of leafPaths(previous ?? {})) {
    if (!declaredPaths.some((declaredPath) => pathsRelated(declaredPath, path))) setAt(patch, path, null);
  }
  return patch;
}

/** The merge patch a destroy sends: `null` for every owned leaf, nothing else. */
export function releasePatch(owned: JsonObject): JsonObject {
  return ownershipPatch(owned, {});
}

/**
 * The owned part of a twin section as the hub holds it: for each owned path, the hub's value at
 * that path (whatever it is now, an object included), in the declared shape. Paths the hub no longer
 * has are omitted, so a deleted leaf reads as drift. Reported properties are never passed here.
 */
export function ownedView(section: unknown, ownedPaths: readonly LeafPath[]): JsonObject {
  const view: JsonObject = {};
  for (const path of ownedPaths) {
    const value = valueAt(section, path);
    if (value !== undefined && value !== null) setAt(view, path, cloneJson(value));
  }
  return view;
}

/**
 * Owned leaves whose declared value differs from the last known hub view, plus leaves owned before
 * and no longer declared (they will be nulled). Empty when an update would not change the twin.
 */
export function ownedLeafChanges(previousView: JsonObject, declared: JsonObject): string[][] {
  const declaredPaths = leafPaths(declared);
  const changed = declaredPaths.filter(
    (path) => !deepEqualJson(valueAt(previousView, path), valueAt(declared, path)),
  );
  const released = leafPaths(previousView).filter(
    (path) => !declaredPaths.some((declaredPath) => pathsRelated(declaredPath, path)),
  );
  return [...changed, ...released];
}

/** Top-level keys that own at least one leaf (what an IoT Plug and Play acknowledgement is keyed by). */
export function ownedTopLevelKeys(declared: JsonObject): string[] {
  return [...new Set(leafPaths(declared).map((path) => path[0]!))];
}
