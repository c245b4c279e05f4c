/**
 * Bulk registry operations, POST /devices (docs/iot-hub-behaviour.md §1.2 notes, §1.3 "Bulk result", §5: ≤ 100
 * entries, each identity once). A malformed request as a whole is one 400 and writes nothing; a
 * well-formed request applies each entry on its own (an entry's failure rolls back only that entry)
 * and reports failures in BulkRegistryOperationResult, as the REST reference describes
 * (docs/iot-hub-behaviour.md §1.3).
 */
import { isJsonObject, type JsonObject } from '../../lib/json-types';
import { childPath, type Problem } from '../../lib/problems';
import { isHubError } from '../errors';
import type { BulkRegistryError, BulkRegistryOperationResult } from './hub-state-types';
import {
  createDevice,
  createModule,
  deleteDevice,
  deleteModule,
  updateDevice,
  updateModule,
} from './identity-operations';
import { invalid, type StoreContext } from './store-context';
import { replaceTwin } from './twin-operations';

export const BULK_MAX_ENTRIES = 100;

/**
 * The bulk modes of the REST reference (docs/iot-hub-behaviour.md §1.2) this hub implements (updateTwin* are not
 * supported yet).
 */
const IMPORT_MODES = ['create', 'update', 'updateIfMatchETag', 'delete', 'deleteIfMatchETag'] as const;
type ImportMode = (typeof IMPORT_MODES)[number];

interface BulkEntry {
  deviceId: string;
  moduleId: string | null;
  mode: ImportMode;
  /** `eTag` per the schema, `etag` as the Node SDK sends it (docs/iot-hub-behaviour.md §1.2). */
  etag: string | undefined;
  body: JsonObject;
}

export function parseBulkRequest(body: unknown): BulkEntry[] {
  if (!Array.isArray(body)) throw invalid([{ path: '', message: 'the body must be an array of devices' }]);
  const problems: Problem[] = [];
  if (body.length === 0 || body.length > BULK_MAX_ENTRIES) {
    problems.push({ path: '', message: `${body.length} entries; send 1 to ${BULK_MAX_ENTRIES}` });
  }
  const seen = new Set<string>();
  const entries: BulkEntry[] = [];
  for (const [i, raw] of body.entries()) {
    const entry = parseEntry(raw, childPath('', i), problems);
    if (!entry) continue;
    const key = `${entry.deviceId}\u0000${entry.moduleId ?? ''}`;
    if (seen.has(key)) {
      problems.push({
        path: childPath('', i),
        message: 'this identity appears more than once; list each once',
      });
    }
    seen.add(key);
    entries.push(entry);
  }
  if (problems.length > 0) throw invalid(problems);
  return entries;
}

function parseEntry(raw: unknown, path: string, problems: Problem[]): BulkEntry | undefined {
  if (!isJsonObject(raw)) {
    problems.push({
      path,
      message: 'each entry must be an object like {"id": "...", "importMode": "create"}',
    });
    return undefined;
  }
  const deviceId = raw['id'] ?? raw['deviceId'];
  const moduleId = raw['moduleId'] ?? null;
  const modeText = raw['importMode'];
  const mode = IMPORT_MODES.find(
    (m) => typeof modeText === 'string' && m.toLowerCase() === modeText.toLowerCase(),
  );
  const etag = raw['eTag'] ?? raw['etag'];
  const before = problems.length;
  if (typeof deviceId !== 'string')
    problems.push({ path: childPath(path, 'id'), message: 'id must be a string' });
  if (moduleId !== null && typeof moduleId !== 'string') {
    problems.push({ path: childPath(path, 'moduleId'), message: 'moduleId must be a string or absent' });
  }
  if (!mode) {
    problems.push({
      path: childPath(path, 'importMode'),
      message: `importMode ${JSON.stringify(modeText)} is not supported; valid: ${IMPORT_MODES.join(', ')}`,
    });
  }
  if (etag !== undefined && etag !== null && typeof etag !== 'string') {
    problems.push({ path: childPath(path, 'eTag'), message: 'eTag must be a string' });
  }
  if (problems.length > before) return undefined;
  return {
    deviceId: deviceId as string,
    moduleId: moduleId as string | null,
    mode: mode!,
    etag: typeof etag === 'string' && etag !== '' ? unquote(etag) : undefined,
    body: raw,
  };
}

function unquote(etag: string): string {
  return etag.replace(/^"(.*)"$/, '$1');
}

/** Applies parsed entries; the caller wraps the whole call in one transaction. */
export function applyBulk(ctx: StoreContext, entries: readonly BulkEntry[]): BulkRegistryOperationResult {
  const errors: BulkRegistryError[] = [];
  for (const entry of entries) {
    const mark = ctx.events.mark();
    try {
      ctx.db.transaction(() => applyEntry(ctx, entry));
    } catch (err) {
      if (!isHubError(err)) throw err;
      ctx.events.discardSince(mark);
      errors.push({
        deviceId: entry.deviceId,
        ...(entry.moduleId !== null ? { moduleId: entry.moduleId } : {}),
        errorCode: err.code,
        errorStatus: err.message,
        operation: entry.mode,
      });
    }
  }
  return { isSuccessful: errors.length === 0, errors, warnings: [] };
}

function applyEntry(ctx: StoreContext, e: BulkEntry): void {
  const { deviceId, moduleId } = e;
  const body = { ...e.body, deviceId, ...(moduleId !== null ? { moduleId } : {}) };
  const ifMatch = e.mode.endsWith('IfMatchETag') ? requireEtag(e) : '*';
  const twin = twinContent(e.body);
  if (twin && e.mode !== 'create') {
    throw invalid([
      { path: 'tags', message: 'twin content (tags, properties) is only supported with importMode create' },
    ]);
  }
  switch (e.mode) {
    case 'create':
      if (moduleId === null) createDevice(ctx, deviceId, body);
      else createModule(ctx, deviceId, moduleId, body);
      if (twin) replaceTwin(ctx, deviceId, moduleId, twin, '*');
      return;
    case 'update':
    case 'updateIfMatchETag':
      // Inference: "update" does not create a missing identity (ImportMode docs: overwrites an existing device).
      if (moduleId === null) updateDevice(ctx, deviceId, body, ifMatch);
      else updateModule(ctx, deviceId, moduleId, body, ifMatch);
      return;
    case 'delete':
    case 'deleteIfMatchETag':
      if (moduleId === null) deleteDevice(ctx, deviceId, ifMatch);
      else deleteModule(ctx, deviceId, moduleId, ifMatch);
      return;
  }
}

function requireEtag(e: BulkEntry): string {
  if (e.etag === undefined) {
    throw invalid([{ path: 'eTag', message: `importMode ${e.mode} needs the identity's eTag` }]);
  }
  return e.etag;
}

function twinContent(entry: JsonObject): JsonObject | undefined {
  const tags = entry['tags'];
  const properties = entry['properties'];
  if ((tags === undefined || tags === null) && (properties === undefined || properties === null))
    return undefined;
  return { tags: tags ?? {}, properties: properties ?? {} };
}
