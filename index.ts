/**
 * The stack, read as a bill of materials:
 *   stack config -> hub (Azure or local) -> policy -> devices -> modules -> twins -> configurations -> outputs.
 * Decisions live in infra/ (validation, ARM shapes, names) and dynamic-providers/ (IoT Hub data plane).
 */
import * as pulumi from '@pulumi/pulumi';
import { Configuration, DeviceIdentity, DeviceTwin, ModuleIdentity, ModuleTwin } from './dynamic-providers';
import { deviceDestroyOptions, moduleDestroyOptions, twinDestroyOptions } from './infra/destroy-options';
import { declaresTwin } from './infra/devices-config';
import type { AzureHubConfig } from './infra/hub-config';
import type { AzureHubModule, HubEndpoint } from './infra/hub-endpoint';
import {
  configurationArgs,
  deviceIdentityArgs,
  deviceTwinArgs,
  hubAccessArgs,
  moduleIdentityArgs,
  moduleTwinArgs,
} from './infra/identity-args';
import { localHub } from './infra/local-hub-endpoint';
import { readStackConfig } from './infra/read-stack-config';
import { adoptExistingThisRun } from './infra/recovery-mode';
import {
  configurationResourceName,
  deviceResourceName,
  deviceTwinResourceName,
  moduleOutputKey,
  moduleResourceName,
  moduleTwinResourceName,
} from './infra/resource-names';

// 1. Stack config: validated as a whole; one error lists every problem with its path.
const config = readStackConfig();
// Set only by `npm run pulumi -- recover` after an interrupted run (infra/recovery-mode.ts).
const adoptExisting = adoptExistingThisRun();

// 2. The hub, with 3. the program's policy, serviceAndRegistryReadWrite (RegistryWrite + ServiceConnect):
//    created on Azure next to the five default policies, well known on the local hub.
const hub = config.hub.mode === 'azure' ? azureHub(config.hub.azure) : localHub(config.hub.local, __dirname);
const hubAccess = hubAccessArgs(hub);

const moduleConnections: Record<string, pulumi.Output<string | null>> = {};

for (const device of config.devices) {
  // 4. Device identity. `protect` / `retainOnDelete` (adopted: retained by default) decide what destroy
  //    does to it (docs/safe-destroys.md).
  const deviceOptions = deviceDestroyOptions(device);
  const deviceIdentity = new DeviceIdentity(
    deviceResourceName(device.deviceId),
    { ...hubAccess, ...deviceIdentityArgs(device, adoptExisting) },
    deviceOptions,
  );
  // A twin lives and dies with its identity (docs/iot-hub-behaviour.md §6): no separate delete when both go.
  if (declaresTwin(device)) {
    new DeviceTwin(
      deviceTwinResourceName(device.deviceId),
      { ...hubAccess, ...deviceTwinArgs(device) },
      { dependsOn: deviceIdentity, deletedWith: deviceIdentity, ...twinDestroyOptions(deviceOptions) },
    );
  }

  for (const module of device.modules) {
    // 5. Module identity, on its device (protected or retained with it unless it says otherwise).
    const moduleOptions = moduleDestroyOptions(device, module);
    const moduleIdentity = new ModuleIdentity(
      moduleResourceName(device.deviceId, module.moduleId),
      { ...hubAccess, ...moduleIdentityArgs(device.deviceId, module, adoptExisting) },
      { dependsOn: deviceIdentity, ...moduleOptions },
    );
    // 6. Module twin: only the desired/tags leaves declared here are owned by the stack.
    if (declaresTwin(module)) {
      new ModuleTwin(
        moduleTwinResourceName(device.deviceId, module.moduleId),
        { ...hubAccess, ...moduleTwinArgs(device.deviceId, module) },
        { dependsOn: moduleIdentity, deletedWith: moduleIdentity, ...twinDestroyOptions(moduleOptions) },
      );
    }
    moduleConnections[moduleOutputKey(device.deviceId, module.moduleId)] =
      moduleIdentity.moduleConnectionString;
  }
}

// 7. Automatic device and module configurations: applied by the hub to every twin their condition targets
//    (by tags, typically), whenever it is created; no dependency on the identities (docs/twin-ownership.md).
//    `after` orders a staged rollout: created (and converged, with its own waitForConvergence) after another.
const configurations = new Map<string, Configuration>();
for (const configuration of config.configurations) {
  const previous = configuration.after === undefined ? undefined : configurations.get(configuration.after);
  const resource = new Configuration(
    configurationResourceName(configuration.configurationId),
    {
      ...hubAccess,
      ...configurationArgs(configuration),
      ...(configuration.waitForConvergence ? { waitForConvergence: configuration.waitForConvergence } : {}),
    },
    previous ? { dependsOn: previous } : undefined,
  );
  configurations.set(configuration.configurationId, resource);
}

// 8. Outputs. Anything carrying a key is secret, whatever the providers already mark.
export const hubHostName = hub.hostName;
export const hubConnectionString = pulumi.secret(hub.connectionString);
export const moduleConnectionStrings = pulumi.secret(pulumi.output(moduleConnections));

/** Required on demand: only an Azure stack loads @pulumi/azure-native (infra/hub-endpoint.ts says why). */
function azureHub(azure: AzureHubConfig): HubEndpoint {
  return (require('./infra/azure-hub') as AzureHubModule).azureHub(azure);
}
