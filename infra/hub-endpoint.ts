import type * as pulumi from '@pulumi/pulumi';
import type { AzureHubConfig } from './hub-config';

/** What the rest of the program needs from a hub, whichever kind it is. */
export interface HubEndpoint {
  /** `<name>.azure-devices.net`, or `127.0.0.1:8443` for the local hub. */
  hostName: pulumi.Output<string>;
  /** Service connection string of the program's policy (serviceAndRegistryReadWrite); secret. */
  connectionString: pulumi.Output<string>;
  /** PEM of the local hub's CA, for the providers' TLS trust; absent for Azure (public CAs). */
  caCertificate?: pulumi.Output<string>;
}

/**
 * The Azure hub's builder (infra/azure-hub.ts), as index.ts requires it on demand: typed here, not
 * with `typeof import(...)`, so that a local stack's `pulumi up` neither loads nor type-checks
 * @pulumi/azure-native (about 1.8 s of ts-node's type-check per run; docs/benchmarks.md, finding 5).
 */
export interface AzureHubModule {
  azureHub(config: AzureHubConfig): HubEndpoint;
}
