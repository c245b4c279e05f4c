/**
 * ModuleIdentity: one module identity on a device (authentication, managedBy), with its keys and
 * module connection string (`HostName=…;DeviceId=…;ModuleId=…;SharedAccessKey=…`) as secret outputs.
 * Modules have no status or capabilities of their own (docs/iot-hub-behaviour.md §1.3, §2).
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

export interface ModuleIdentityArgs extends HubConnectionArgs {
  deviceId: pulumi.Input<string>;
  moduleId: pulumi.Input<string>;
  /** Default `{ type: 'sas' }` with generated keys (32 random bytes each, chosen at create). */
  authentication?: pulumi.Input<IdentityAuthenticationArgs>;
  /** Who manages the module (e.g. "IotEdge"); left as the hub has it when omitted. */
  managedBy?: pulumi.Input<string>;
  /** Take over an existing identity instead of failing (its keys are kept unless supplied). Default false. */
  adopt?: pulumi.Input<boolean>;
}

const SECRET_OUTPUTS = ['hubConnectionString', 'primaryKey', 'secondaryKey', 'moduleConnectionString'];

export class ModuleIdentity extends pulumi.dynamic.Resource {
  declare readonly deviceId: pulumi.Output<string>;
  declare readonly moduleId: pulumi.Output<string>;
  declare readonly authenticationType: pulumi.Output<string>;
  declare readonly managedBy: pulumi.Output<string | null>;
  /** Secret. */
  declare readonly primaryKey: pulumi.Output<string | null>;
  /** Secret. */
  declare readonly secondaryKey: pulumi.Output<string | null>;
  /** Secret: `HostName=…;DeviceId=…;ModuleId=…;SharedAccessKey=…` (or `x509=true`). */
  declare readonly moduleConnectionString: pulumi.Output<string | null>;
  declare readonly etag: pulumi.Output<string>;
  declare readonly generationId: pulumi.Output<string>;

  constructor(name: string, args: ModuleIdentityArgs, opts?: pulumi.CustomResourceOptions) {
    const props = {
      ...connectionProps(args),
      deviceId: args.deviceId,
      moduleId: args.moduleId,
      ...authenticationProps(args.authentication),
      managedBy: args.managedBy,
      adopt: args.adopt ?? false,
      ...outputSlots([
        'authenticationType',
        'keysSupplied',
        'moduleConnectionString',
        'etag',
        'generationId',
      ]),
    };
    super(
      HOST_PROVIDERS.ModuleIdentity,
      name,
      props,
      withSecretOutputs(opts, SECRET_OUTPUTS),
      'iothub',
      'ModuleIdentity',
    );
  }
}
