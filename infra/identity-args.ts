/**
 * Stack config entries -> dynamic resource args. Config field names already match the providers'
 * args; this only renames `auth` to `authentication`, drops what was not declared (so the engine's
 * per-key diff shows only what the user wrote) and marks supplied keys secret.
 */
import * as pulumi from '@pulumi/pulumi';
import type { IdentityAuthenticationArgs } from '../dynamic-providers';
import type { ConfigurationConfig } from './configurations-config';
import { type DeviceConfig, type IdentityAuth, type ModuleConfig, twinTags } from './devices-config';
import type { HubEndpoint } from './hub-endpoint';

/** Inputs every resource takes; the CA only for the local hub. */
export interface HubAccessArgs {
  hubConnectionString: pulumi.Output<string>;
  hubCaCertificate?: pulumi.Output<string>;
}

export function hubAccessArgs(hub: HubEndpoint): HubAccessArgs {
  return compact({ hubConnectionString: hub.connectionString, hubCaCertificate: hub.caCertificate });
}

/** Removes undefined members: an absent option stays absent in inputs and state. */
export function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** Supplied SAS keys are secrets (stack config holds them encrypted; state must too). */
function authenticationArgs(
  auth: IdentityAuth | undefined,
): pulumi.Input<IdentityAuthenticationArgs> | undefined {
  if (!auth) return undefined;
  const hasKeys = auth.type === 'sas' && (auth.primaryKey !== undefined || auth.secondaryKey !== undefined);
  return hasKeys ? pulumi.secret(auth) : auth;
}

/** `adoptExisting`: this run takes over identities that already exist (infra/recovery-mode.ts). */
export function deviceIdentityArgs(device: DeviceConfig, adoptExisting = false) {
  return compact({
    deviceId: device.deviceId,
    status: device.status,
    statusReason: device.statusReason,
    authentication: authenticationArgs(device.auth),
    iotEdge: device.iotEdge,
    adopt: adoptExisting || device.adopt,
  });
}

export function moduleIdentityArgs(deviceId: string, module: ModuleConfig, adoptExisting = false) {
  return compact({
    deviceId,
    moduleId: module.moduleId,
    authentication: authenticationArgs(module.auth),
    managedBy: module.managedBy,
    adopt: adoptExisting || module.adopt,
  });
}

export function deviceTwinArgs(device: DeviceConfig) {
  return compact({ deviceId: device.deviceId, desired: device.twin?.desired, tags: twinTags(device) });
}

export function moduleTwinArgs(deviceId: string, module: ModuleConfig) {
  return compact({
    deviceId,
    moduleId: module.moduleId,
    desired: module.twin?.desired,
    tags: twinTags(module),
    waitForAck: module.twin?.waitForAck,
  });
}

/** A configuration entry as the Configuration resource's args (the names already match). */
export function configurationArgs(configuration: ConfigurationConfig) {
  return compact({
    configurationId: configuration.configurationId,
    deviceContent: configuration.deviceContent,
    moduleContent: configuration.moduleContent,
    targetCondition: configuration.targetCondition,
    priority: configuration.priority,
    labels: configuration.labels,
    metrics: configuration.metrics,
  });
}
