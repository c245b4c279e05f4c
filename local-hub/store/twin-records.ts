/**
 * Pure twin versioning rules (docs/iot-hub-behaviour.md §1.3, §6): the stored twin, what each kind of write does to
 * its etag, versions and `$metadata`, and the wire views (service and device-facing).
 */
import { cloneJson, type JsonObject } from '../../lib/json-types';
import { applyMergePatchSharing } from '../../lib/merge-patch';
import type { DeviceFacingTwin } from '../hub-state';
import type { ServiceTwin } from './hub-state-types';
import type { ConnectionRuntime, StoredIdentity } from './identity-records';
import { buildMetadata, patchMetadata } from './twin-metadata';

export interface StoredSection {
  doc: JsonObject;
  metadata: JsonObject;
  /** The section's `$version`: +1 per write (docs/iot-hub-behaviour.md §6 "guaranteed to increase"). */
  version: number;
}

export interface StoredTwin {
  /** Source of the twin etag; +1 per successful write of any section. */
  etagCounter: number;
  /** Root `version`: counts tags + desired changes (docs/iot-hub-behaviour.md §1.3). */
  version: number;
  tags: JsonObject;
  desired: StoredSection;
  reported: StoredSection;
}

/** Twin etag = base64 of an 8-byte big-endian counter (docs/iot-hub-behaviour.md §1.3: `AAAAAAAAAAc=` → 7). */
export function twinEtag(counter: number): string {
  // allocUnsafe: all 8 bytes are written just below (it takes from Node's pool: cheaper per render).
  const buf = Buffer.allocUnsafe(8);
  // Two 32-bit halves rather than a BigInt: the counter is a safe integer, and this runs for every twin render.
  buf.writeUInt32BE(Math.floor(counter / 0x1_0000_0000), 0);
  buf.writeUInt32BE(counter >>> 0, 4);
  return buf.toString('base64');
}

/** A fresh twin: both sections `{"$metadata":{"$lastUpdated":…},"$version":1}`, etag `AAAAAAAAAAE=` (§6). */
export function freshTwin(now: string): StoredTwin {
  const section = (): StoredSection => ({ doc: {}, metadata: { $lastUpdated: now }, version: 1 });
  return { etagCounter: 1, version: 1, tags: {}, desired: section(), reported: section() };
}

/** What a service write asks for; `undefined` leaves that part untouched. Inputs are pre-validated. */
export interface TwinWrite {
  tags?: JsonObject;
  desired?: JsonObject;
}

/** Service PATCH: merge into tags and/or desired (null deletes, objects merge). */
export function patchServiceTwin(twin: StoredTwin, write: TwinWrite, now: string): StoredTwin {
  const next = cloneTwin(twin);
  if (write.tags) next.tags = applyMergePatchSharing(twin.tags, write.tags);
  if (write.desired) {
    const version = twin.desired.version + 1;
    next.desired = {
      doc: applyMergePatchSharing(twin.desired.doc, write.desired),
      metadata: patchMetadata(twin.desired.metadata, write.desired, {
        $lastUpdated: now,
        $lastUpdatedVersion: version,
      }),
      version,
    };
  }
  return bump(next, true);
}

/** Service PUT: tags and desired replaced wholesale (docs/iot-hub-behaviour.md §6). */
export function replaceServiceTwin(twin: StoredTwin, write: Required<TwinWrite>, now: string): StoredTwin {
  const version = twin.desired.version + 1;
  const next = cloneTwin(twin);
  next.tags = cloneJson(write.tags);
  next.desired = {
    doc: cloneJson(write.desired),
    metadata: buildMetadata(write.desired, { $lastUpdated: now, $lastUpdatedVersion: version }),
    version,
  };
  return bump(next, true);
}

/** Device PATCH of reported: same merge rules; reported `$metadata` has only `$lastUpdated` (§1.3). */
export function patchReported(twin: StoredTwin, patch: JsonObject, now: string): StoredTwin {
  const next = cloneTwin(twin);
  next.reported = {
    doc: applyMergePatchSharing(twin.reported.doc, patch),
    metadata: patchMetadata(twin.reported.metadata, patch, { $lastUpdated: now }),
    version: twin.reported.version + 1,
  };
  return bump(next, false);
}

function bump(twin: StoredTwin, countsForRootVersion: boolean): StoredTwin {
  twin.etagCounter += 1;
  if (countsForRootVersion) twin.version += 1;
  return twin;
}

function cloneTwin(twin: StoredTwin): StoredTwin {
  return {
    etagCounter: twin.etagCounter,
    version: twin.version,
    tags: twin.tags,
    desired: twin.desired,
    reported: twin.reported,
  };
}

/** The wire section: the document, then `$metadata` and `$version` (document keys never start with `$`, §5). */
function sectionView(section: StoredSection, copy: boolean): JsonObject {
  if (!copy) return { ...section.doc, $metadata: section.metadata, $version: section.version };
  const view = cloneJson(section.doc);
  view['$metadata'] = cloneJson(section.metadata);
  view['$version'] = section.version;
  return view;
}

/**
 * A matched-only twin's sections, each built when first read: a target or metric on tags (the usual
 * configuration) reads neither, and building both was half the cost of rendering a twin to match it.
 */
function lazySectionViews(twin: StoredTwin): ServiceTwin['properties'] {
  let desired: JsonObject | undefined;
  let reported: JsonObject | undefined;
  return {
    get desired() {
      desired ??= sectionView(twin.desired, false);
      return desired;
    },
    get reported() {
      reported ??= sectionView(twin.reported, false);
      return reported;
    },
  };
}

/**
 * The service twin. `device` supplies status (a module twin shows its device's,
 * docs/iot-hub-behaviour.md §1.3); `own` is the identity the twin belongs to. `copy: false` shares the
 * stored documents instead of copying them: for a view that is only matched against a query and dropped
 * (a configuration's counts and targets over every twin), never one that is returned or kept.
 */
export function renderServiceTwin(
  device: StoredIdentity,
  own: StoredIdentity,
  twin: StoredTwin,
  rt: ConnectionRuntime,
  { copy = true }: { copy?: boolean } = {},
): ServiceTwin {
  const out: ServiceTwin = {
    deviceId: own.deviceId,
    ...(own.moduleId !== null ? { moduleId: own.moduleId } : {}),
    etag: twinEtag(twin.etagCounter),
    deviceEtag: own.etag,
    version: twin.version,
    status: device.status,
    statusReason: device.statusReason,
    statusUpdateTime: device.statusUpdatedTime,
    connectionState: rt.connectionState,
    lastActivityTime: rt.lastActivityTime,
    cloudToDeviceMessageCount: 0,
    authenticationType: own.authentication.type,
    x509Thumbprint: { ...own.authentication.x509Thumbprint },
    modelId: '',
    // IoT Hub leaves `tags` out of a twin that has none (docs/iot-hub-behaviour.md §8.2).
    ...(Object.keys(twin.tags).length > 0 ? { tags: copy ? cloneJson(twin.tags) : twin.tags } : {}),
    properties: copy
      ? { desired: sectionView(twin.desired, true), reported: sectionView(twin.reported, true) }
      : lazySectionViews(twin),
  };
  if (own.moduleId === null) out.capabilities = { iotEdge: own.iotEdge };
  return out;
}

/** MQTT GET body: no `properties` wrapper, no `$metadata` (docs/iot-hub-behaviour.md §3.3, docs' example). */
export function renderDeviceFacingTwin(twin: StoredTwin): DeviceFacingTwin {
  return {
    desired: { ...cloneJson(twin.desired.doc), $version: twin.desired.version },
    reported: { ...cloneJson(twin.reported.doc), $version: twin.reported.version },
  };
}
