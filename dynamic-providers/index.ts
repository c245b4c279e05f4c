/**
 * The project's Pulumi dynamic resources for the IoT Hub data plane: what a program imports. The
 * provider objects themselves (to run their methods in-process) are in provider-table.ts; a program
 * does not load them, the provider host does (host-loaded-provider.ts).
 */
export { Configuration, type ConfigurationArgs } from './configuration';
export {
  DeviceIdentity,
  type DeviceIdentityArgs,
  type IdentityAuthenticationArgs,
} from './device-identity';
export { DeviceTwin, type DeviceTwinArgs } from './device-twin';
export { ModuleIdentity, type ModuleIdentityArgs } from './module-identity';
export { ModuleTwin, type ModuleTwinArgs, type WaitForAckArgs } from './module-twin';
