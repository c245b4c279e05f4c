/** The project's Pulumi dynamic resources for the IoT Hub data plane. */
export {
  DeviceIdentity,
  type DeviceIdentityArgs,
  deviceIdentityProvider,
  type IdentityAuthenticationArgs,
} from './device-identity';
export { DeviceTwin, type DeviceTwinArgs, deviceTwinProvider } from './device-twin';
export { ModuleIdentity, type ModuleIdentityArgs, moduleIdentityProvider } from './module-identity';
export { ModuleTwin, type ModuleTwinArgs, moduleTwinProvider, type WaitForAckArgs } from './module-twin';
