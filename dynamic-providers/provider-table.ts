/**
 * Every resource kind's provider object, by the resource's type name: the one entry point the
 * dynamic-provider host loads from the project (host-loaded-provider.ts). Its path is written into
 * every resource's `__provider` in the stacks' state, so it must never move or be renamed.
 *
 * Imports nothing from @pulumi/pulumi at run time: the host loads it with the project's tsx.
 */
import { checkDeviceIdentityInputs, checkModuleIdentityInputs } from '../lib/resource-checks';
import type {
  DeviceIdentityInputs,
  DeviceIdentityOutputs,
  ModuleIdentityInputs,
  ModuleIdentityOutputs,
} from '../lib/resource-identity-state';
import { configurationProvider } from './configuration-provider';
import type { ProviderTable } from './host-loaded-provider';
import { identityProvider, twinProvider } from './provider-objects';

export const deviceIdentityProvider = identityProvider<DeviceIdentityInputs, DeviceIdentityOutputs>(
  'device',
  checkDeviceIdentityInputs,
);
export const moduleIdentityProvider = identityProvider<ModuleIdentityInputs, ModuleIdentityOutputs>(
  'module',
  checkModuleIdentityInputs,
);
export const deviceTwinProvider = twinProvider('device');
export const moduleTwinProvider = twinProvider('module');
export const configurationResourceProvider = configurationProvider();

export const PROVIDERS: ProviderTable = {
  DeviceIdentity: deviceIdentityProvider,
  ModuleIdentity: moduleIdentityProvider,
  DeviceTwin: deviceTwinProvider,
  ModuleTwin: moduleTwinProvider,
  Configuration: configurationResourceProvider,
};
