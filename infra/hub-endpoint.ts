import type * as pulumi from '@pulumi/pulumi';

/** What the rest of the program needs from a hub, whichever kind it is. */
export interface HubEndpoint {
  /** `<name>.azure-devices.net`, or `127.0.0.1:8443` for the local hub. */
  hostName: pulumi.Output<string>;
  /** Service connection string of the program's policy (serviceAndRegistryReadWrite); secret. */
  connectionString: pulumi.Output<string>;
  /** PEM of the local hub's CA, for the providers' TLS trust; absent for Azure (public CAs). */
  caCertificate?: pulumi.Output<string>;
}
