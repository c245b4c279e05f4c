/**
 * Create / read / update / delete of a device or module identity, shared by the DeviceIdentity and
 * ModuleIdentity providers. Each operation builds its own client (dynamic-provider rule: no client
 * or secret captured), makes the fewest hub calls correctness allows, and wraps hub errors so they
 * name the resource and never carry a secret.
 *
 * Calls per operation: create = 1 PUT (adopt, or a 409 on a retried PUT: + GET; adopt: + PUT if
 * settings differ); read = 1 GET; update = 0 calls when only Pulumi-side inputs changed, else GET +
 * full PUT (docs/iot-hub-behaviour.md §0.4: a PUT resets omitted fields, so it must start from the current
 * identity); delete = 1 DELETE.
 */
import type { Registry } from 'azure-iothub';
import {
  changedIdentityFields,
  type HubIdentity,
  type IdentityField,
  type IdentityKind,
  identityCreateBody,
  identityStateFromHub,
  identityUpdateBody,
  isIdentityAsCreated,
} from '../lib/identity-plan';
import {
  type IdentityInputs,
  type IdentityOutputs,
  identityInputsFromHub,
  identityOutputs,
  identityResourceId,
  specFromInputs,
  stateFromOutputs,
} from '../lib/resource-identity-state';
import { hubOperationError, isAlreadyExists, isEtagMismatch, isNotFound, resourceLabel } from './hub-errors';
import type { PacedLane } from './hub-pacer';
import { createHubClient } from './iothub-client';
import { withRetry } from './with-retry';

/** A module PUT carries the etag it read; on a concurrent change (412) re-read and overlay again. */
const ETAG_ATTEMPTS = 3;

/**
 * The registry of one hub, and the pacing lane its identity calls share (docs/iot-hub-behaviour.md §5: one
 * throttle class).
 */
interface IdentityHub {
  registry: Registry;
  lane: PacedLane;
}

interface IdentityIds {
  deviceId: string;
  moduleId?: string;
}

const RESOURCE_KIND: Record<IdentityKind, string> = { device: 'DeviceIdentity', module: 'ModuleIdentity' };

/** SDK results are class instances (Device) or parsed JSON; outputs need plain JSON. */
function plain(value: unknown): HubIdentity {
  return JSON.parse(JSON.stringify(value)) as HubIdentity;
}

function idsOf(source: { deviceId: string; moduleId?: string }): IdentityIds {
  return source.moduleId === undefined
    ? { deviceId: source.deviceId }
    : { deviceId: source.deviceId, moduleId: source.moduleId };
}

/** Exact strings to redact from any message: the connection string, its key, supplied keys. */
function secretsOf(inputs: Partial<IdentityInputs | IdentityOutputs>): (string | undefined)[] {
  const cs = inputs.hubConnectionString;
  const key = typeof cs === 'string' ? /SharedAccessKey=([^;]+)/.exec(cs)?.[1] : undefined;
  return [cs, key, inputs.primaryKey ?? undefined, inputs.secondaryKey ?? undefined];
}

function connect(kind: IdentityKind, inputs: IdentityInputs | IdentityOutputs, ids: IdentityIds) {
  const client = createHubClient(inputs.hubConnectionString, { caCertificate: inputs.hubCaCertificate });
  const label = resourceLabel(
    RESOURCE_KIND[kind],
    identityResourceId(ids.deviceId, ids.moduleId),
    client.hostName,
  );
  const lane: PacedLane = { hostName: client.hostName, lane: 'identityRegistry' };
  return { ...client, lane, label, secrets: secretsOf(inputs) };
}

async function hubGet({ registry, lane }: IdentityHub, ids: IdentityIds): Promise<HubIdentity> {
  const result =
    ids.moduleId === undefined
      ? await withRetry(() => registry.get(ids.deviceId), { paced: lane })
      : await withRetry(() => registry.getModule(ids.deviceId, ids.moduleId!), { paced: lane });
  return plain(result.responseBody);
}

/** Full PUT. Devices: Registry.update (If-Match "*"); modules: updateModule with the etag read. */
async function hubPut(
  { registry, lane }: IdentityHub,
  kind: IdentityKind,
  body: HubIdentity,
): Promise<HubIdentity> {
  const result =
    kind === 'module'
      ? await withRetry(() => registry.updateModule(body as any), { paced: lane })
      : await withRetry(() => registry.update(body as any), { paced: lane });
  return plain(result.responseBody);
}

function freshKeys(): { primaryKey: string; secondaryKey: string } {
  const { randomBytes }: typeof import('node:crypto') = require('node:crypto');
  // 32 random bytes, as the hub would generate them (docs/iot-hub-behaviour.md §2).
  return { primaryKey: randomBytes(32).toString('base64'), secondaryKey: randomBytes(32).toString('base64') };
}

/**
 * GET the current identity, overlay the fields `fieldsFor(current)` names, PUT it back. Skips the
 * PUT when nothing differs. Modules retry on 412 with a fresh read.
 */
async function overlayCurrent(
  hub: IdentityHub,
  kind: IdentityKind,
  ids: IdentityIds,
  inputs: IdentityInputs,
  fieldsFor: (current: HubIdentity) => IdentityField[],
): Promise<HubIdentity> {
  for (let attempt = 1; ; attempt++) {
    const current = await hubGet(hub, ids);
    const fields = fieldsFor(current);
    if (fields.length === 0) return current;
    try {
      return await hubPut(hub, kind, identityUpdateBody(current, specFromInputs(inputs), fields, freshKeys));
    } catch (err) {
      if (!isEtagMismatch(err) || attempt >= ETAG_ATTEMPTS) throw err;
    }
  }
}

function alreadyExistsError(kind: IdentityKind, ids: IdentityIds, hostName: string): Error {
  const id = identityResourceId(ids.deviceId, ids.moduleId);
  return new Error(
    // Not "use the import option": Pulumi cannot import dynamic resources (pulumi/pulumi#16175).
    `${RESOURCE_KIND[kind]} "${id}" already exists on hub ${hostName}; set adopt: true to take it over ` +
      '(its keys are kept unless you supply keys), or choose another id',
  );
}

export async function createIdentity(
  kind: IdentityKind,
  inputs: IdentityInputs,
): Promise<{ id: string; outs: IdentityOutputs }> {
  const ids = idsOf(inputs);
  const { registry, lane, hostName, label, secrets } = connect(kind, inputs, ids);
  const id = identityResourceId(ids.deviceId, ids.moduleId);
  const body = identityCreateBody(kind, specFromInputs(inputs), freshKeys);
  const keys = body.authentication?.symmetricKey;
  const redacted = [...secrets, keys?.primaryKey ?? undefined, keys?.secondaryKey ?? undefined];
  let attempts = 0;
  try {
    const result = await withRetry(
      () => {
        attempts++;
        return kind === 'module' ? registry.addModule(body as any) : registry.create(body as any);
      },
      { paced: lane },
    );
    return { id, outs: identityOutputs(kind, inputs, hostName, plain(result.responseBody)) };
  } catch (err) {
    if (!isAlreadyExists(err)) throw hubOperationError(label, 'create', err, redacted);
    if (!inputs.adopt) {
      // A 409 on a retry may be our own first PUT, which landed before its answer was lost.
      const ours =
        attempts > 1 ? await ownIdentity({ registry, lane }, ids, body, label, redacted) : undefined;
      if (ours) return { id, outs: identityOutputs(kind, inputs, hostName, ours) };
      throw alreadyExistsError(kind, ids, hostName);
    }
  }
  // Adopt: every declared field that differs from the hub is applied; keys only when supplied.
  const spec = specFromInputs(inputs);
  try {
    const hub = await overlayCurrent({ registry, lane }, kind, ids, inputs, (current) =>
      changedIdentityFields(identityStateFromHub(current), spec),
    );
    return { id, outs: identityOutputs(kind, inputs, hostName, hub) };
  } catch (err) {
    throw hubOperationError(label, 'adopt', err, secrets);
  }
}

/**
 * The identity the hub holds, when it is exactly what our create sent (its keys, which the create chose,
 * or its thumbprints and settings): then it is ours and is taken over as created. Otherwise someone else
 * created it meanwhile, and it is theirs (docs/throttling-and-retries.md "A create whose answer was lost").
 */
async function ownIdentity(
  hub: IdentityHub,
  ids: IdentityIds,
  sent: HubIdentity,
  label: string,
  redacted: (string | undefined)[],
): Promise<HubIdentity | undefined> {
  let current: HubIdentity;
  try {
    current = await hubGet(hub, ids);
  } catch (err) {
    throw hubOperationError(label, 'create', err, redacted);
  }
  return isIdentityAsCreated(current, sent) ? current : undefined;
}

export async function readIdentity(
  kind: IdentityKind,
  id: string,
  props: IdentityInputs | IdentityOutputs,
): Promise<{ id?: string; props?: IdentityOutputs; inputs?: IdentityInputs }> {
  const [deviceFromId, moduleFromId] = id.split('/');
  const ids = idsOf({
    deviceId: props.deviceId ?? deviceFromId,
    moduleId: kind === 'module' ? ((props as { moduleId?: string }).moduleId ?? moduleFromId) : undefined,
  });
  const { registry, lane, hostName, label, secrets } = connect(kind, props, ids);
  let hub: HubIdentity;
  try {
    hub = await hubGet({ registry, lane }, ids);
  } catch (err) {
    // Gone (identity or its device deleted): no id, so the engine drops it from state.
    if (isNotFound(err)) return {};
    throw hubOperationError(label, 'read', err, secrets);
  }
  const inputs = identityInputsFromHub(kind, props, hub);
  return { id, props: identityOutputs(kind, inputs, hostName, hub), inputs };
}

export async function updateIdentity(
  kind: IdentityKind,
  olds: IdentityOutputs,
  news: IdentityInputs,
): Promise<{ outs: IdentityOutputs }> {
  const ids = idsOf(news);
  // Fields the user changed since the last known state; everything else stays as the hub has it.
  const fields = changedIdentityFields(stateFromOutputs(olds), specFromInputs(news));
  if (fields.length === 0) {
    // Only Pulumi-side inputs changed (connection string key, CA, adopt): no hub call needed.
    const { hubCaCertificate: _oldCa, ...rest } = olds;
    const outs = { ...rest, ...echoedInputs(news) } as IdentityOutputs;
    return { outs };
  }
  const connection = connect(kind, news, ids);
  const { hostName, label, secrets } = connection;
  try {
    const hub = await overlayCurrent(connection, kind, ids, news, () => fields);
    return { outs: identityOutputs(kind, news, hostName, hub) };
  } catch (err) {
    throw hubOperationError(label, 'update', err, secrets);
  }
}

function echoedInputs(news: IdentityInputs): Partial<IdentityOutputs> {
  const echo: Partial<IdentityOutputs> = {
    hubConnectionString: news.hubConnectionString,
    adopt: news.adopt === true,
    keysSupplied: news.primaryKey !== undefined,
  };
  if (news.hubCaCertificate !== undefined) echo.hubCaCertificate = news.hubCaCertificate;
  return echo;
}

export async function deleteIdentity(kind: IdentityKind, props: IdentityOutputs): Promise<void> {
  const ids = idsOf(props);
  const { registry, lane, label, secrets } = connect(kind, props, ids);
  try {
    // removeModule(deviceId, moduleId): the promise form taking a module object is broken
    // (docs/iot-hub-behaviour.md §0.5).
    if (ids.moduleId === undefined) await withRetry(() => registry.delete(ids.deviceId), { paced: lane });
    else await withRetry(() => registry.removeModule(ids.deviceId, ids.moduleId!), { paced: lane });
  } catch (err) {
    // Already gone is what delete wants.
    if (!isNotFound(err)) throw hubOperationError(label, 'delete', err, secrets);
  }
}
