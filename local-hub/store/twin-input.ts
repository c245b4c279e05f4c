/**
 * Pure validation of twin write bodies (docs/iot-hub-behaviour.md §1.2 notes, §5 "Twin documents", §6). Patches are
 * checked as patches, and the merged result is checked again as a whole document (size limits), as
 * lib/twin-document-rules.ts prescribes.
 */
import { isJsonObject, type JsonObject } from '../../lib/json-types';
import type { Problem } from '../../lib/problems';
import {
  type TwinSection,
  validateMergedSectionSizes,
  validateTwinSection,
} from '../../lib/twin-document-rules';
import type { Parsed } from './identity-input';
import type { StoredTwin, TwinWrite } from './twin-records';

/** Non-empty patches only: an empty `{}` section patch changes nothing and bumps nothing. */
function nonEmpty(doc: JsonObject | undefined): JsonObject | undefined {
  return doc !== undefined && Object.keys(doc).length > 0 ? doc : undefined;
}

/** A service PATCH: the merge patches to apply, and whether `"desired": null` asked to clear desired. */
export interface TwinPatchWrite extends TwinWrite {
  clearDesired: boolean;
}

/**
 * Service PATCH body `{"tags":{…},"properties":{"desired":{…}}}` (docs/iot-hub-behaviour.md §1.2, §8.2).
 * A twin read back and edited is accepted as the Azure CLI sends it: its read-only parts (root members
 * such as deviceId, etag, status; desired `$metadata` / `$version`; a reported section as read back, with
 * its `$version` or `$metadata`) are ignored and only tags and desired are applied. A bare reported
 * section is still refused: that is an attempt to write what only the device writes.
 * `"desired": null` clears every desired property.
 */
export function parseTwinPatch(body: unknown): Parsed<TwinPatchWrite> {
  if (!isJsonObject(body)) return fail('', 'the twin patch must be a JSON object');
  const problems: Problem[] = [];
  const tags = body['tags'];
  if (tags !== undefined) problems.push(...validateTwinSection('tags', tags, 'tags', { isPatch: true }));
  const desired = withoutReadOnly(readDesired(body, problems, { rejectReported: true }));
  if (desired !== undefined && desired !== null) {
    problems.push(...validateTwinSection('desired', desired, 'properties.desired', { isPatch: true }));
  }
  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    value: {
      tags: nonEmpty(tags as JsonObject | undefined),
      desired: desired === null ? undefined : nonEmpty(desired as JsonObject | undefined),
      clearDesired: desired === null,
    },
  };
}

/** A read-back section's own `$metadata` and `$version` are read-only: dropped, not written. */
function withoutReadOnly(section: unknown): unknown {
  if (!isJsonObject(section)) return section;
  const { $metadata: _m, $version: _v, ...rest } = section;
  return rest;
}

/**
 * Service PUT (replace) body: usually a twin read back and edited, so the read-only root members
 * of desired (`$metadata`, `$version`) and `properties.reported` are ignored rather than rejected
 * (docs/iot-hub-behaviour.md §5: read-only members are excluded). Missing tags or desired replace with `{}`.
 */
export function parseTwinReplace(body: unknown): Parsed<Required<TwinWrite>> {
  if (!isJsonObject(body)) return fail('', 'the twin must be a JSON object');
  const problems: Problem[] = [];
  const tags = body['tags'] ?? {};
  problems.push(...validateTwinSection('tags', tags, 'tags'));
  const desired = withoutReadOnly(readDesired(body, problems, { rejectReported: false }) ?? {});
  problems.push(...validateTwinSection('desired', desired, 'properties.desired'));
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, value: { tags: tags as JsonObject, desired: desired as JsonObject } };
}

/** Device PATCH of reported properties (MQTT): a merge patch of the reported section itself. */
export function parseReportedPatch(body: unknown): Parsed<JsonObject> {
  const problems = validateTwinSection('reported', body, 'reported', { isPatch: true });
  return problems.length > 0 ? { ok: false, problems } : { ok: true, value: body as JsonObject };
}

const MERGED_SECTIONS: readonly { section: TwinSection; path: string; doc: (t: StoredTwin) => JsonObject }[] =
  [
    { section: 'tags', path: 'tags', doc: (t) => t.tags },
    { section: 'desired', path: 'properties.desired', doc: (t) => t.desired.doc },
    { section: 'reported', path: 'properties.reported', doc: (t) => t.reported.doc },
  ];

/**
 * After a write: each section it wrote must still fit its size limits (§5 "operations that would exceed
 * a limit are rejected"; the limits are per section). Its input was validated whole before the merge,
 * so only sizes are left to check (validateMergedSectionSizes); sections the write left alone were
 * checked when they were written.
 */
export function validateMergedTwin(twin: StoredTwin, written: readonly TwinSection[]): Problem[] {
  const problems: Problem[] = [];
  for (const { section, path, doc } of MERGED_SECTIONS) {
    if (written.includes(section)) problems.push(...validateMergedSectionSizes(section, doc(twin), path));
  }
  return problems;
}

function readDesired(
  body: JsonObject,
  problems: Problem[],
  o: { rejectReported: boolean },
): unknown | undefined {
  const properties = body['properties'];
  if (properties === undefined || properties === null) return undefined;
  if (!isJsonObject(properties)) {
    problems.push({ path: 'properties', message: 'properties must be an object like {"desired": {…}}' });
    return undefined;
  }
  const reported = properties['reported'];
  if (o.rejectReported && reported !== undefined && !isReadBack(reported)) {
    problems.push({
      path: 'properties.reported',
      message:
        'reported properties are written by the device only; the service can patch tags and properties.desired',
    });
  }
  // null is kept: on a PATCH it clears desired; a PUT treats it as an empty desired document.
  return properties['desired'];
}

/** A reported section as the hub rendered it carries its `$version` (and `$metadata`). */
function isReadBack(section: unknown): boolean {
  return isJsonObject(section) && (section['$version'] !== undefined || section['$metadata'] !== undefined);
}

function fail<T>(path: string, message: string): Parsed<T> {
  return { ok: false, problems: [{ path, message }] };
}
