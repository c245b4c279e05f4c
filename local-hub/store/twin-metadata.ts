/**
 * Twin `$metadata` bookkeeping (docs/iot-hub-behaviour.md §1.3, §6): every object level a write touches gets the
 * stamp (`$lastUpdated`, plus `$lastUpdatedVersion` for desired), so deletions stay traceable on
 * the parent. The metadata tree mirrors the document: leaves (arrays included) hold only the stamp.
 */
import { isJsonObject, type JsonObject, setOwnProperty } from '../../lib/json-types';

export interface MetadataStamp {
  $lastUpdated: string;
  /** Desired only. */
  $lastUpdatedVersion?: number;
}

function stampOf(stamp: MetadataStamp): JsonObject {
  const out: JsonObject = { $lastUpdated: stamp.$lastUpdated };
  if (stamp.$lastUpdatedVersion !== undefined) out['$lastUpdatedVersion'] = stamp.$lastUpdatedVersion;
  return out;
}

/** Metadata for a document written wholesale (create or replace): every level stamped. */
export function buildMetadata(doc: JsonObject, stamp: MetadataStamp): JsonObject {
  const meta = stampOf(stamp);
  for (const [key, value] of Object.entries(doc)) {
    setOwnProperty(meta, key, isJsonObject(value) ? buildMetadata(value, stamp) : stampOf(stamp));
  }
  return meta;
}

/**
 * Metadata after a merge patch, mirroring lib/merge-patch.ts: `null` drops the key's metadata,
 * objects recurse (over `{}` when the old value was not an object), anything else is a leaf.
 * Document keys never start with `$` (lib/twin-document-rules.ts), so they cannot clash with the stamp.
 * Like `applyMergePatchSharing`, only the levels the patch touches are new; the rest is shared with `meta`
 * (stored twins are never changed in place: row-cache.ts freezes them).
 */
export function patchMetadata(meta: JsonObject, patch: JsonObject, stamp: MetadataStamp): JsonObject {
  // Spread defines own properties, so a "__proto__" key stays data.
  const result: JsonObject = { ...meta, ...stampOf(stamp) };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) {
      delete result[key];
    } else if (isJsonObject(value)) {
      const base = Object.hasOwn(result, key) ? result[key] : undefined;
      setOwnProperty(result, key, patchMetadata(isJsonObject(base) ? base : {}, value, stamp));
    } else {
      setOwnProperty(result, key, stampOf(stamp));
    }
  }
  return result;
}
