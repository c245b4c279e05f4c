/**
 * Pulumi resource names: stable (they are the resource's identity in state, so renaming one means
 * delete + create) and readable in `pulumi preview`. Device and module ids cannot contain "/"
 * (docs/iot-hub-behaviour.md §5), so "/" separates the parts unambiguously: with "-" the module "b-c" of
 * device "a" and the module "c" of device "a-b" would collide, and so would a device named "twin-x" and
 * the twin of device "x".
 */

export const RESOURCE_GROUP_RESOURCE = 'hub-resource-group';
export const IOT_HUB_RESOURCE = 'iothub';

export const deviceResourceName = (deviceId: string): string => `device/${deviceId}`;
export const deviceTwinResourceName = (deviceId: string): string => `device-twin/${deviceId}`;
export const moduleResourceName = (deviceId: string, moduleId: string): string =>
  `module/${deviceId}/${moduleId}`;
export const moduleTwinResourceName = (deviceId: string, moduleId: string): string =>
  `module-twin/${deviceId}/${moduleId}`;

/** Configuration ids are lower-case and cannot contain "/" (docs/iot-hub-behaviour.md §8.4). */
export const configurationResourceName = (configurationId: string): string =>
  `configuration/${configurationId}`;

/** Key of the `moduleConnectionStrings` stack output. */
export const moduleOutputKey = (deviceId: string, moduleId: string): string => `${deviceId}/${moduleId}`;
