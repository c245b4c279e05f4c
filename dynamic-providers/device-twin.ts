/**
 * DeviceTwin: the desired properties and tags a program declares on a device twin. It owns only the
 * leaves it declares (docs/twin-ownership.md).
 */
import * as pulumi from '@pulumi/pulumi';
import { HOST_PROVIDERS } from './host-loaded-provider';
import { connectionProps, type HubConnectionArgs, outputSlots, withSecretOutputs } from './resource-props';

export interface DeviceTwinArgs extends HubConnectionArgs {
  deviceId: pulumi.Input<string>;
  /** Owned desired leaves (an object: the engine's per-key diff shows each change). */
  desired?: pulumi.Input<Record<string, unknown>>;
  /** Owned tag leaves. */
  tags?: pulumi.Input<Record<string, unknown>>;
}

export class DeviceTwin extends pulumi.dynamic.Resource {
  declare readonly deviceId: pulumi.Output<string>;
  /** The owned desired leaves as the hub holds them. */
  declare readonly desired: pulumi.Output<Record<string, unknown>>;
  /** The owned tag leaves as the hub holds them. */
  declare readonly tags: pulumi.Output<Record<string, unknown>>;
  /** `properties.desired.$version` after the last write or refresh. */
  declare readonly desiredVersion: pulumi.Output<number>;

  constructor(name: string, args: DeviceTwinArgs, opts?: pulumi.CustomResourceOptions) {
    const props = {
      ...connectionProps(args),
      deviceId: args.deviceId,
      desired: args.desired ?? {},
      tags: args.tags ?? {},
      ...outputSlots(['desiredVersion', 'etag']),
    };
    super(
      HOST_PROVIDERS.DeviceTwin,
      name,
      props,
      withSecretOutputs(opts, ['hubConnectionString']),
      'iothub',
      'DeviceTwin',
    );
  }
}
