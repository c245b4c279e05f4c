/**
 * DeviceIdentity: one device in the hub's identity registry (status, authentication, IoT Edge
 * capability), with its keys and device connection string as secret outputs.
 *
 * File order (docs/architecture.md "Code habits"): public args, the provider object,
 * the resource class. Inputs/outputs and every decision live in pure lib/ modules.
 */
import * as pulumi from '@pulumi/pulumi';
import type { IdentityAuthenticationArgs } from '../lib/identity-plan';
import { HOST_PROVIDERS } from './host-loaded-provider';
import {
  authenticationProps,
  connectionProps,
  type HubConnectionArgs,
  outputSlots,
  withSecretOutputs,
} from './resource-props';

export type { IdentityAuthenticationArgs };

export interface DeviceIdentityArgs extends HubConnectionArgs {
  deviceId: pulumi.Input<string>;
  /** Default 'enabled'. */
  status?: pulumi.Input<'enabled' | 'disabled'>;
  /** Left as the hub has it when omitted. */
  statusReason?: pulumi.Input<string>;
  /** Default `{ type: 'sas' }` with generated keys (32 random bytes each, chosen at create). */
  authentication?: pulumi.Input<IdentityAuthenticationArgs>;
  /** Default false. */
  iotEdge?: pulumi.Input<boolean>;
  /** Take over an existing identity instead of failing (its keys are kept unless supplied). Default false. */
  adopt?: pulumi.Input<boolean>;
}

const SECRET_OUTPUTS = ['hubConnectionString', 'primaryKey', 'secondaryKey', 'deviceConnectionString'];

export class DeviceIdentity extends pulumi.dynamic.Resource {
  // `declare`: the base constructor sets these; a class field initializer would overwrite them.
  declare readonly deviceId: pulumi.Output<string>;
  declare readonly status: pulumi.Output<'enabled' | 'disabled'>;
  declare readonly statusReason: pulumi.Output<string | null>;
  declare readonly authenticationType: pulumi.Output<string>;
  declare readonly iotEdge: pulumi.Output<boolean>;
  /** Secret. */
  declare readonly primaryKey: pulumi.Output<string | null>;
  /** Secret. */
  declare readonly secondaryKey: pulumi.Output<string | null>;
  /** Secret: `HostName=…;DeviceId=…;SharedAccessKey=…` (or `x509=true`); null for `none`. */
  declare readonly deviceConnectionString: pulumi.Output<string | null>;
  declare readonly etag: pulumi.Output<string>;
  declare readonly generationId: pulumi.Output<string>;

  constructor(name: string, args: DeviceIdentityArgs, opts?: pulumi.CustomResourceOptions) {
    const props = {
      ...connectionProps(args),
      deviceId: args.deviceId,
      status: args.status ?? 'enabled',
      statusReason: args.statusReason,
      ...authenticationProps(args.authentication),
      iotEdge: args.iotEdge ?? false,
      adopt: args.adopt ?? false,
      ...outputSlots([
        'authenticationType',
        'keysSupplied',
        'deviceConnectionString',
        'etag',
        'generationId',
      ]),
    };
    super(
      HOST_PROVIDERS.DeviceIdentity,
      name,
      props,
      withSecretOutputs(opts, SECRET_OUTPUTS),
      'iothub',
      'DeviceIdentity',
    );
  }
}
