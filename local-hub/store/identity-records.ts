/**
 * Pure rules that turn validated identity input into the stored record and the stored record into
 * the wire shape (docs/iot-hub-behaviour.md §1.3, §2). Randomness and time come in through `RecordContext`.
 */
import { deepEqualJson } from '../../lib/json-types';
import type { Authentication, IdentityRevoked } from '../hub-state';
import type { AuthenticationInput } from './authentication-input';
import { edgeScope } from './device-scope';
import type { ConnectionState, DeviceIdentity, IdentityStatus, ModuleIdentity } from './hub-state-types';
import type { DeviceInput, ModuleInput } from './identity-input';

/** Never-set timestamps, as the hub writes them (docs/iot-hub-behaviour.md §1.3). */
export const NEVER_SET_TIME = '0001-01-01T00:00:00';

export interface StoredIdentity {
  deviceId: string;
  moduleId: string | null;
  generationId: string;
  etag: string;
  /** Devices only; modules inherit their device's status (hub-state.ts IdentityView). */
  status: IdentityStatus;
  statusReason: string | null;
  statusUpdatedTime: string;
  authentication: Authentication;
  iotEdge: boolean;
  deviceScope: string | null;
  parentScopes: string[];
  managedBy: string | null;
}

/** Hub-maintained, in-memory connection facts (docs/iot-hub-behaviour.md §2: read-only, may lag). */
export interface ConnectionRuntime {
  connectionState: ConnectionState;
  connectionStateUpdatedTime: string;
  lastActivityTime: string;
}

export interface RecordContext {
  now: string;
  /** The identity etag for this write (see identityEtag). */
  etag: string;
  /** Used only when creating. */
  generationId: string;
  /** Base64 of 32 random bytes (docs/iot-hub-behaviour.md §2: hub-generated keys are 32 bytes). */
  mintKey: () => string;
}

/** Identity etag = base64 of an ASCII decimal (docs/iot-hub-behaviour.md §1.3: `MzE4NzUxOTU1` → "318751955"). */
export function identityEtag(counter: number): string {
  return Buffer.from(String(counter), 'ascii').toString('base64');
}

const TICKS_AT_UNIX_EPOCH = 621355968000000000n;

/**
 * 18-digit decimal like the hub's (docs/iot-hub-behaviour.md §1.3 `637546501104263193` is .NET ticks): ticks of
 * `nowMs` with the sub-millisecond digits taken from `random4` (0–9999) so ids made in the same
 * millisecond differ.
 */
export function newGenerationId(nowMs: number, random4: number): string {
  return (TICKS_AT_UNIX_EPOCH + BigInt(nowMs) * 10000n + BigInt(random4 % 10000)).toString();
}

export function resolveAuthentication(input: AuthenticationInput, mintKey: () => string): Authentication {
  const sas = input.type === 'sas';
  return {
    type: input.type,
    symmetricKey: {
      primaryKey: sas ? (input.primaryKey ?? mintKey()) : null,
      secondaryKey: sas ? (input.secondaryKey ?? mintKey()) : null,
    },
    x509Thumbprint: {
      primaryThumbprint: input.primaryThumbprint,
      secondaryThumbprint: input.secondaryThumbprint,
    },
  };
}

/**
 * A full replace of the updatable fields (docs/iot-hub-behaviour.md §0.4: omitted fields are reset). Empty or
 * absent SAS keys make the hub mint new keys on an update too, as the community Terraform provider
 * documents ("leaving out `authentication` makes the hub mint new keys"); docs/iot-hub-behaviour.md §7 notes that this
 * is unverified against a live hub (it might reject instead). Clients should always send the current keys back.
 */
export function buildDevice(
  deviceId: string,
  input: DeviceInput,
  previous: StoredIdentity | undefined,
  ctx: RecordContext,
): StoredIdentity {
  const generationId = previous?.generationId ?? ctx.generationId;
  const statusChanged = previous !== undefined && previous.status !== input.status;
  // An Edge device gets its own scope from the hub (docs/iot-hub-behaviour.md §1.3); a leaf names its parent's
  // (checked against the registry by device-scope.ts), which is also its only parent scope.
  const deviceScope = input.iotEdge ? edgeScope(deviceId, generationId) : input.deviceScope;
  const parentScopes = input.iotEdge ? input.parentScopes : deviceScope === null ? [] : [deviceScope];
  return {
    deviceId,
    moduleId: null,
    generationId,
    etag: ctx.etag,
    status: input.status,
    statusReason: input.statusReason,
    statusUpdatedTime: statusChanged ? ctx.now : (previous?.statusUpdatedTime ?? NEVER_SET_TIME),
    authentication: resolveAuthentication(input.authentication, ctx.mintKey),
    iotEdge: input.iotEdge,
    deviceScope,
    parentScopes,
    managedBy: null,
  };
}

export function buildModule(
  deviceId: string,
  moduleId: string,
  input: ModuleInput,
  previous: StoredIdentity | undefined,
  ctx: RecordContext,
): StoredIdentity {
  return {
    deviceId,
    moduleId,
    generationId: previous?.generationId ?? ctx.generationId,
    etag: ctx.etag,
    status: 'enabled',
    statusReason: null,
    statusUpdatedTime: NEVER_SET_TIME,
    authentication: resolveAuthentication(input.authentication, ctx.mintKey),
    iotEdge: false,
    deviceScope: null,
    parentScopes: [],
    managedBy: input.managedBy,
  };
}

/** Why existing connections of this identity must be dropped after an update, if they must. */
export function revocationReason(
  previous: StoredIdentity,
  next: StoredIdentity,
): IdentityRevoked['reason'] | null {
  if (previous.status === 'enabled' && next.status === 'disabled') return 'disabled';
  if (!deepEqualJson(previous.authentication, next.authentication)) return 'credentialsChanged';
  return null;
}

export const DISCONNECTED: ConnectionRuntime = {
  connectionState: 'Disconnected',
  connectionStateUpdatedTime: NEVER_SET_TIME,
  lastActivityTime: NEVER_SET_TIME,
};

export function renderDevice(s: StoredIdentity, rt: ConnectionRuntime): DeviceIdentity {
  return {
    deviceId: s.deviceId,
    generationId: s.generationId,
    etag: s.etag,
    connectionState: rt.connectionState,
    status: s.status,
    statusReason: s.statusReason,
    connectionStateUpdatedTime: rt.connectionStateUpdatedTime,
    statusUpdatedTime: s.statusUpdatedTime,
    lastActivityTime: rt.lastActivityTime,
    cloudToDeviceMessageCount: 0,
    authentication: s.authentication,
    capabilities: { iotEdge: s.iotEdge },
    deviceScope: s.deviceScope,
    parentScopes: s.parentScopes,
  };
}

export function renderModule(s: StoredIdentity, rt: ConnectionRuntime): ModuleIdentity {
  return {
    deviceId: s.deviceId,
    moduleId: s.moduleId ?? '',
    managedBy: s.managedBy,
    generationId: s.generationId,
    etag: s.etag,
    connectionState: rt.connectionState,
    connectionStateUpdatedTime: rt.connectionStateUpdatedTime,
    lastActivityTime: rt.lastActivityTime,
    cloudToDeviceMessageCount: 0,
    authentication: s.authentication,
  };
}
