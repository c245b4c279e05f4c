/**
 * ModuleTwin: the desired properties and tags a program declares on a module twin. It owns only the
 * leaves it declares (docs/twin-ownership.md) and can wait until the device acknowledges them.
 */
import * as pulumi from '@pulumi/pulumi';
import { HOST_PROVIDERS } from './host-loaded-provider';
import { connectionProps, type HubConnectionArgs, outputSlots, withSecretOutputs } from './resource-props';

export interface WaitForAckArgs {
  timeoutSeconds: number;
  /** Default 'fail'; 'warn' logs a warning and lets the update succeed. */
  onTimeout?: 'fail' | 'warn';
}

export interface ModuleTwinArgs extends HubConnectionArgs {
  deviceId: pulumi.Input<string>;
  moduleId: pulumi.Input<string>;
  /** Owned desired leaves (an object: the engine's per-key diff shows each change). */
  desired?: pulumi.Input<Record<string, unknown>>;
  /** Owned tag leaves. */
  tags?: pulumi.Input<Record<string, unknown>>;
  /** Wait until the device acknowledges every owned top-level desired key (IoT Plug and Play acks). */
  waitForAck?: pulumi.Input<WaitForAckArgs>;
}

export class ModuleTwin extends pulumi.dynamic.Resource {
  declare readonly deviceId: pulumi.Output<string>;
  declare readonly moduleId: pulumi.Output<string>;
  /** The owned desired leaves as the hub holds them. */
  declare readonly desired: pulumi.Output<Record<string, unknown>>;
  /** The owned tag leaves as the hub holds them. */
  declare readonly tags: pulumi.Output<Record<string, unknown>>;
  /** `properties.desired.$version` after the last write or refresh. */
  declare readonly desiredVersion: pulumi.Output<number>;

  constructor(name: string, args: ModuleTwinArgs, opts?: pulumi.CustomResourceOptions) {
    const props = {
      ...connectionProps(args),
      deviceId: args.deviceId,
      moduleId: args.moduleId,
      desired: args.desired ?? {},
      tags: args.tags ?? {},
      waitForAck: args.waitForAck,
      ...outputSlots(['desiredVersion', 'etag']),
    };
    super(
      HOST_PROVIDERS.ModuleTwin,
      name,
      props,
      withSecretOutputs(opts, ['hubConnectionString']),
      'iothub',
      'ModuleTwin',
    );
  }
}
