/**
 * An Azure IoT Hub on a Standard (or Free) SKU, in a new or an existing resource group, and the
 * service connection string of the program's policy. Imports per module, never the package root
 * (docs/architecture.md "Decisions": the root import costs ~200 ms per run and doubles type-check time).
 */
import * as iothub from '@pulumi/azure-native/iothub';
import * as resources from '@pulumi/azure-native/resources';
import * as pulumi from '@pulumi/pulumi';
import { buildServiceConnectionString } from '../lib/connection-string';
import { PROGRAM_POLICY_NAME } from '../lib/local-hub-defaults';
import type { AzureHubConfig } from './hub-config';
import type { AzureHubModule, HubEndpoint } from './hub-endpoint';
import { hubAuthorizationPolicies } from './hub-policies';
import { IOT_HUB_RESOURCE, RESOURCE_GROUP_RESOURCE } from './resource-names';

function resourceGroupName(config: AzureHubConfig): pulumi.Output<string> {
  if (!config.createResourceGroup) {
    return resources.getResourceGroupOutput({ resourceGroupName: config.resourceGroupName }).name;
  }
  const group = new resources.ResourceGroup(RESOURCE_GROUP_RESOURCE, {
    resourceGroupName: config.resourceGroupName,
    location: config.location,
  });
  return group.name;
}

export function azureHub(config: AzureHubConfig): HubEndpoint {
  const groupName = resourceGroupName(config);
  const hub = new iothub.IotHubResource(IOT_HUB_RESOURCE, {
    resourceName: config.name,
    resourceGroupName: groupName,
    location: config.location,
    sku: { name: config.sku.name, capacity: config.sku.capacity },
    properties: {
      // armRights() yields ARM's enum spellings ("RegistryWrite, ServiceConnect"); tests pin them.
      authorizationPolicies: hubAuthorizationPolicies().map((p) => ({
        keyName: p.keyName,
        rights: p.rights as iothub.AccessRights,
      })),
    },
  });
  // `hub.name` is an output of the hub, so the key lookup waits until the hub (and its policy) exists.
  const keys = iothub.listIotHubResourceKeysForKeyNameOutput({
    keyName: PROGRAM_POLICY_NAME,
    resourceGroupName: groupName,
    resourceName: hub.name,
  });
  const hostName = hub.properties.apply((p) => p.hostName ?? `${config.name}.azure-devices.net`);
  const connectionString = pulumi
    .all([hostName, keys.keyName, keys.primaryKey])
    .apply(([host, keyName, key]) => {
      if (!key)
        throw new Error(`Azure returned no primary key for policy "${keyName}" of hub ${config.name}`);
      return buildServiceConnectionString({
        hostName: host,
        sharedAccessKeyName: keyName,
        sharedAccessKey: key,
      });
    });
  return { hostName, connectionString: pulumi.secret(connectionString) };
}

/** index.ts requires this module as an AzureHubModule (it cannot import it: hub-endpoint.ts says why). */
export const azureHubModule: AzureHubModule = { azureHub };
