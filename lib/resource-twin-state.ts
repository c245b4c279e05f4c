/**
 * Inputs and outputs of the ModuleTwin / DeviceTwin dynamic resources and the merge patches they send.
 * Ownership itself (which leaves a resource may write) is lib/owned-leaves.ts; this file only wraps
 * it in the twin PATCH body shape `{"tags":{…},"properties":{"desired":{…}}}` (docs/iot-hub-behaviour.md §1.2) and
 * turns a hub twin into outputs. Reported properties are never read into outputs: devices write them
 * constantly and they are not the resource's to diff (docs/twin-ownership.md).
 */
import { isJsonObject, type JsonObject } from './json-types';
import { leafPaths, ownedView, ownershipPatch, releasePatch } from './owned-leaves';
import type { HubConnectionInputs } from './resource-identity-state';

export interface WaitForAck {
  timeoutSeconds: number;
  onTimeout: 'fail' | 'warn';
}

export interface TwinInputs extends HubConnectionInputs {
  deviceId: string;
  /** Present for a module twin. */
  moduleId?: string;
  desired: JsonObject;
  tags: JsonObject;
  waitForAck?: WaitForAck;
}

export interface TwinOutputs extends TwinInputs {
  /** `properties.desired.$version` after the last write or read. */
  desiredVersion: number;
  /** The twin etag after the last write or read: the If-Match of the next write. */
  etag: string;
}

/** The parts of a service-side twin this project reads. */
export interface HubTwin {
  etag: string;
  tags: JsonObject;
  desired: JsonObject;
  reported: JsonObject;
}

export function twinResourceId(deviceId: string, moduleId?: string): string {
  return moduleId === undefined ? deviceId : `${deviceId}/${moduleId}`;
}

/** Plain JSON out of an SDK `Twin` (which also carries a registry reference). */
export function hubTwinFromSdk(twin: unknown): HubTwin {
  const t = typeof twin === 'object' && twin !== null ? (twin as Record<string, unknown>) : {};
  const properties = isJsonObject(t['properties']) ? t['properties'] : {};
  const section = (value: unknown): JsonObject => (isJsonObject(value) ? value : {});
  return {
    etag: typeof t['etag'] === 'string' ? t['etag'] : '*',
    tags: section(t['tags']),
    desired: section(properties['desired']),
    reported: section(properties['reported']),
  };
}

export interface TwinPatch {
  tags?: JsonObject;
  properties?: { desired: JsonObject };
}

function wrap(tags: JsonObject, desired: JsonObject): TwinPatch | null {
  const patch: TwinPatch = {};
  if (Object.keys(tags).length > 0) patch.tags = tags;
  if (Object.keys(desired).length > 0) patch.properties = { desired };
  return patch.tags || patch.properties ? patch : null;
}

/**
 * The write for a create (`previous` undefined) or an update: every declared leaf, plus nulls for
 * leaves owned before and dropped from config. `null` when there is nothing to send.
 */
export function twinWritePatch(
  previous: { desired: JsonObject; tags: JsonObject } | undefined,
  declared: { desired: JsonObject; tags: JsonObject },
): TwinPatch | null {
  return wrap(
    ownershipPatch(previous?.tags, declared.tags),
    ownershipPatch(previous?.desired, declared.desired),
  );
}

/** The write for a destroy: nulls for the owned leaves only. `null` when nothing is owned. */
export function twinReleasePatch(owned: { desired: JsonObject; tags: JsonObject }): TwinPatch | null {
  return wrap(releasePatch(owned.tags), releasePatch(owned.desired));
}

/** `$version` of the desired section; 0 when the hub sent none. */
export function desiredVersionOf(twin: HubTwin): number {
  const version = twin.desired['$version'];
  return typeof version === 'number' ? version : 0;
}

/**
 * Outputs: the inputs echoed (no `waitForAck` key when absent: outputs hold no `undefined`), with
 * `desired`/`tags` replaced by the hub's values at the owned leaf paths of `owned`.
 */
export function twinOutputs(
  inputs: TwinInputs,
  owned: { desired: JsonObject; tags: JsonObject },
  twin: HubTwin,
): TwinOutputs {
  const outputs: TwinOutputs = {
    hubConnectionString: inputs.hubConnectionString,
    deviceId: inputs.deviceId,
    desired: ownedView(twin.desired, leafPaths(owned.desired)),
    tags: ownedView(twin.tags, leafPaths(owned.tags)),
    desiredVersion: desiredVersionOf(twin),
    etag: twin.etag,
  };
  if (inputs.hubCaCertificate !== undefined) outputs.hubCaCertificate = inputs.hubCaCertificate;
  if (inputs.moduleId !== undefined) outputs.moduleId = inputs.moduleId;
  if (inputs.waitForAck !== undefined) outputs.waitForAck = inputs.waitForAck;
  return outputs;
}

/** The inputs `read` reports: the previous inputs with the hub's values at the owned leaves. */
export function twinInputsFromOutputs(outputs: TwinOutputs): TwinInputs {
  const { desiredVersion: _version, etag: _etag, ...inputs } = outputs;
  return inputs;
}
