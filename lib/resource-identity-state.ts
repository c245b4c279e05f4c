/**
 * Inputs and outputs of the DeviceIdentity / ModuleIdentity dynamic resources, and the pure
 * conversions between them and the hub's identity JSON.
 *
 * Pulumi dynamic-provider rules (docs/architecture.md) shape these types: no `undefined` anywhere in
 * outputs (absent optional fields are omitted or `null`), and `read` must rebuild the inputs from the
 * outputs plus the hub so that a refresh without drift yields exactly what `check` produced.
 */
import {
  type AuthSpec,
  type HubIdentity,
  type IdentityKind,
  type IdentitySpec,
  type IdentityState,
  type IdentityStatus,
  identityConnectionString,
  identityStateFromHub,
} from './identity-plan';

export interface HubConnectionInputs {
  /** Secret: the service connection string (`HostName` may carry a port for the local hub). */
  hubConnectionString: string;
  /** PEM of the local hub's CA; absent for Azure. */
  hubCaCertificate?: string;
}

interface IdentityInputsBase extends HubConnectionInputs {
  deviceId: string;
  authentication: AuthSpec;
  /** Secret; present only when the user supplied the SAS keys. */
  primaryKey?: string;
  secondaryKey?: string;
  adopt: boolean;
}

export interface DeviceIdentityInputs extends IdentityInputsBase {
  status: IdentityStatus;
  statusReason?: string;
  iotEdge: boolean;
}

export interface ModuleIdentityInputs extends IdentityInputsBase {
  moduleId: string;
  managedBy?: string;
}

export type IdentityInputs = DeviceIdentityInputs | ModuleIdentityInputs;

interface IdentityOutputsBase extends HubConnectionInputs {
  deviceId: string;
  authentication: AuthSpec;
  authenticationType: string;
  primaryKey: string | null;
  secondaryKey: string | null;
  /** Whether the keys are declared (then refresh reports key drift) or generated (then kept as the hub has them). */
  keysSupplied: boolean;
  adopt: boolean;
  etag: string;
  generationId: string;
}

export interface DeviceIdentityOutputs extends IdentityOutputsBase {
  status: IdentityStatus;
  statusReason: string | null;
  iotEdge: boolean;
  deviceConnectionString: string | null;
}

export interface ModuleIdentityOutputs extends IdentityOutputsBase {
  moduleId: string;
  managedBy: string | null;
  moduleConnectionString: string | null;
}

export type IdentityOutputs = DeviceIdentityOutputs | ModuleIdentityOutputs;

export function isModuleInputs(inputs: IdentityInputs | IdentityOutputs): inputs is ModuleIdentityInputs {
  return typeof (inputs as { moduleId?: unknown }).moduleId === 'string';
}

/**
 * Resource ids: `deviceId` for a device, `deviceId/moduleId` for a module (`/` is not valid in ids,
 * docs/iot-hub-behaviour.md §5).
 */
export function identityResourceId(deviceId: string, moduleId?: string): string {
  return moduleId === undefined ? deviceId : `${deviceId}/${moduleId}`;
}

export function specFromInputs(inputs: IdentityInputs): IdentitySpec {
  const spec: IdentitySpec = { deviceId: inputs.deviceId, authentication: inputs.authentication };
  if (inputs.primaryKey !== undefined) spec.primaryKey = inputs.primaryKey;
  if (inputs.secondaryKey !== undefined) spec.secondaryKey = inputs.secondaryKey;
  if (isModuleInputs(inputs)) {
    spec.moduleId = inputs.moduleId;
    if (inputs.managedBy !== undefined) spec.managedBy = inputs.managedBy;
  } else {
    spec.status = inputs.status;
    spec.iotEdge = inputs.iotEdge;
    if (inputs.statusReason !== undefined) spec.statusReason = inputs.statusReason;
  }
  return spec;
}

export function stateFromOutputs(outputs: IdentityOutputs): IdentityState {
  const device = outputs as Partial<DeviceIdentityOutputs>;
  const module = outputs as Partial<ModuleIdentityOutputs>;
  return {
    status: device.status ?? null,
    statusReason: device.statusReason ?? null,
    authentication: outputs.authentication,
    primaryKey: outputs.primaryKey ?? null,
    secondaryKey: outputs.secondaryKey ?? null,
    iotEdge: device.iotEdge === true,
    managedBy: module.managedBy ?? null,
  };
}

function connectionFields(source: HubConnectionInputs): HubConnectionInputs {
  const fields: HubConnectionInputs = { hubConnectionString: source.hubConnectionString };
  if (source.hubCaCertificate !== undefined) fields.hubCaCertificate = source.hubCaCertificate;
  return fields;
}

/** Outputs after a create, update, adopt or read: the inputs echoed, then the hub's view. */
export function identityOutputs(
  kind: IdentityKind,
  inputs: IdentityInputs,
  hostName: string,
  hub: HubIdentity,
): IdentityOutputs {
  const state = identityStateFromHub(hub);
  const base: IdentityOutputsBase = {
    ...connectionFields(inputs),
    deviceId: hub.deviceId,
    authentication: state.authentication,
    authenticationType: state.authentication.type,
    primaryKey: state.primaryKey,
    secondaryKey: state.secondaryKey,
    keysSupplied: inputs.primaryKey !== undefined,
    adopt: inputs.adopt === true,
    etag: hub.etag ?? '',
    generationId: hub.generationId ?? '',
  };
  const connectionString = identityConnectionString(hostName, hub);
  if (kind === 'module') {
    return {
      ...base,
      moduleId: hub.moduleId!,
      managedBy: state.managedBy,
      moduleConnectionString: connectionString,
    };
  }
  return {
    ...base,
    status: state.status ?? 'enabled',
    statusReason: state.statusReason,
    iotEdge: state.iotEdge,
    deviceConnectionString: connectionString,
  };
}

/**
 * The inputs `read` reports: what `check` would produce for a config that matches the hub. Managed
 * fields come from the hub (so drift shows as a diff); unmanaged optional fields (statusReason,
 * managedBy) appear only when the hub has a value; keys only when they are declared.
 */
export function identityInputsFromHub(
  kind: IdentityKind,
  previous: IdentityInputs | IdentityOutputs,
  hub: HubIdentity,
): IdentityInputs {
  const state = identityStateFromHub(hub);
  const keysDeclared =
    (previous as { keysSupplied?: boolean }).keysSupplied ?? typeof previous.primaryKey === 'string';
  const base: IdentityInputsBase = {
    ...connectionFields(previous),
    deviceId: hub.deviceId,
    authentication: state.authentication,
    adopt: previous.adopt === true,
  };
  if (keysDeclared && state.primaryKey !== null && state.secondaryKey !== null) {
    base.primaryKey = state.primaryKey;
    base.secondaryKey = state.secondaryKey;
  }
  if (kind === 'module') {
    return {
      ...base,
      moduleId: hub.moduleId!,
      ...(state.managedBy !== null ? { managedBy: state.managedBy } : {}),
    };
  }
  return {
    ...base,
    status: state.status ?? 'enabled',
    iotEdge: state.iotEdge,
    ...(state.statusReason ? { statusReason: state.statusReason } : {}),
  };
}
