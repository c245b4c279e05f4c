/**
 * Create / read / update / delete of the owned part of a device or module twin, shared by the
 * DeviceTwin and ModuleTwin providers. Ownership is by leaf path (lib/owned-leaves.ts,
 * docs/twin-ownership.md): only declared leaves are written, dropped ones are nulled, destroy nulls
 * the owned leaves, and nobody else's keys are ever sent.
 *
 * Writes are merge patches with If-Match = the etag of the last write/read (stored in outputs), so a
 * write needs no GET first; on 412 (someone else wrote meanwhile) re-read for the fresh etag and send
 * the same owned-leaves-only patch again. Calls: create = 1 PATCH; update = 1 PATCH (+ GET per 412);
 * read = 1 GET; delete = 1 PATCH (none when nothing is owned).
 */
import type { Registry } from 'azure-iothub';
import { ownedTopLevelKeys } from '../lib/owned-leaves';
import {
  type HubTwin,
  hubTwinFromSdk,
  type TwinInputs,
  type TwinOutputs,
  type TwinPatch,
  twinInputsFromOutputs,
  twinOutputs,
  twinReleasePatch,
  twinResourceId,
  twinWritePatch,
} from '../lib/resource-twin-state';
import { waitForAcks } from './ack-wait';
import { hubOperationError, isEtagMismatch, isNotFound, resourceLabel } from './hub-errors';
import { createHubClient } from './iothub-client';
import { withRetry } from './with-retry';

/** Devices report often and each report changes the etag (§6), so allow a few re-reads. */
const ETAG_ATTEMPTS = 5;

/**
 * One hub's registry; twin reads and twin updates are separate throttle classes there
 * (docs/iot-hub-behaviour.md §5).
 */
interface TwinHub {
  registry: Registry;
  hostName: string;
}

interface TwinIds {
  deviceId: string;
  moduleId?: string;
}

function idsOf(source: { deviceId: string; moduleId?: string }): TwinIds {
  return source.moduleId === undefined
    ? { deviceId: source.deviceId }
    : { deviceId: source.deviceId, moduleId: source.moduleId };
}

function connect(source: TwinInputs, ids: TwinIds) {
  const client = createHubClient(source.hubConnectionString, { caCertificate: source.hubCaCertificate });
  const kind = ids.moduleId === undefined ? 'DeviceTwin' : 'ModuleTwin';
  const label = resourceLabel(kind, twinResourceId(ids.deviceId, ids.moduleId), client.hostName);
  const key = /SharedAccessKey=([^;]+)/.exec(source.hubConnectionString)?.[1];
  return { ...client, label, secrets: [source.hubConnectionString, key] };
}

async function hubGetTwin({ registry, hostName }: TwinHub, ids: TwinIds): Promise<HubTwin> {
  const lane = { hostName, lane: 'twinRead' } as const;
  const result =
    ids.moduleId === undefined
      ? await withRetry(() => registry.getTwin(ids.deviceId), { paced: lane })
      : await withRetry(() => registry.getModuleTwin(ids.deviceId, ids.moduleId!), { paced: lane });
  return hubTwinFromSdk(result.responseBody);
}

async function patchOwned(hub: TwinHub, ids: TwinIds, patch: TwinPatch, etag: string): Promise<HubTwin> {
  const { registry } = hub;
  const lane = { hostName: hub.hostName, lane: 'twinUpdate' } as const;
  let ifMatch = etag;
  for (let attempt = 1; ; attempt++) {
    try {
      const result =
        ids.moduleId === undefined
          ? await withRetry(() => registry.updateTwin(ids.deviceId, patch, ifMatch), { paced: lane })
          : await withRetry(() => registry.updateModuleTwin(ids.deviceId, ids.moduleId!, patch, ifMatch), {
              paced: lane,
            });
      return hubTwinFromSdk(result.responseBody);
    } catch (err) {
      if (!isEtagMismatch(err) || attempt >= ETAG_ATTEMPTS) throw err;
      ifMatch = (await hubGetTwin(hub, ids)).etag;
    }
  }
}

/**
 * Writes the declared leaves (create: `previous` undefined, If-Match "*": there is nothing of ours
 * to protect yet), then optionally waits for the device's acknowledgement.
 */
async function writeTwin(
  action: 'create' | 'update',
  inputs: TwinInputs,
  previous: TwinOutputs | undefined,
): Promise<TwinOutputs> {
  const ids = idsOf(inputs);
  const hub = connect(inputs, ids);
  const { label, secrets } = hub;
  let outs: TwinOutputs;
  try {
    const patch = twinWritePatch(previous, inputs);
    const twin = patch
      ? await patchOwned(hub, ids, patch, previous?.etag || '*')
      : await hubGetTwin(hub, ids);
    outs = twinOutputs(inputs, inputs, twin);
  } catch (err) {
    throw hubOperationError(label, action, err, secrets);
  }
  if (inputs.waitForAck !== undefined && ids.moduleId !== undefined) {
    const target = { hub, deviceId: ids.deviceId, moduleId: ids.moduleId, label };
    try {
      await waitForAcks(target, ownedTopLevelKeys(inputs.desired), outs.desiredVersion, inputs.waitForAck);
    } catch (err) {
      // The write happened: report it as created/updated-but-not-ready so the state keeps what is
      // owned (the engine's "resource initialization failed" path; the next `up` retries).
      throw Object.assign(err as Error, {
        id: twinResourceId(ids.deviceId, ids.moduleId),
        properties: outs,
        reasons: [(err as Error).message],
      });
    }
  }
  return outs;
}

export async function createTwin(inputs: TwinInputs): Promise<{ id: string; outs: TwinOutputs }> {
  const outs = await writeTwin('create', inputs, undefined);
  return { id: twinResourceId(inputs.deviceId, inputs.moduleId), outs };
}

export async function updateTwin(olds: TwinOutputs, news: TwinInputs): Promise<{ outs: TwinOutputs }> {
  return { outs: await writeTwin('update', news, olds) };
}

export async function readTwin(
  id: string,
  props: TwinOutputs | TwinInputs,
): Promise<{ id?: string; props?: TwinOutputs; inputs?: TwinInputs }> {
  const [deviceFromId, moduleFromId] = id.split('/');
  const previous: TwinInputs = {
    ...props,
    deviceId: props.deviceId ?? deviceFromId,
    desired: props.desired ?? {},
    tags: props.tags ?? {},
  };
  if (previous.moduleId === undefined && moduleFromId !== undefined) previous.moduleId = moduleFromId;
  const ids = idsOf(previous);
  const hub = connect(previous, ids);
  const { label, secrets } = hub;
  let twin: HubTwin;
  try {
    twin = await hubGetTwin(hub, ids);
  } catch (err) {
    if (isNotFound(err)) return {};
    throw hubOperationError(label, 'read', err, secrets);
  }
  // The owned paths are those of the previous view: drifted values (or deleted leaves) show as a diff.
  const outs = twinOutputs(previous, previous, twin);
  return { id, props: outs, inputs: twinInputsFromOutputs(outs) };
}

export async function deleteTwin(props: TwinOutputs): Promise<void> {
  const ids = idsOf(props);
  const patch = twinReleasePatch(props);
  if (patch === null) return;
  const hub = connect(props, ids);
  const { label, secrets } = hub;
  try {
    await patchOwned(hub, ids, patch, props.etag || '*');
  } catch (err) {
    // The identity (and with it the twin) is already gone: nothing left to release.
    if (!isNotFound(err)) throw hubOperationError(label, 'delete', err, secrets);
  }
}
