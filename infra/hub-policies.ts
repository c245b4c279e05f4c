/**
 * The shared access policies of an Azure hub, as ARM's `authorizationPolicies` list. ARM replaces
 * the whole list (docs/architecture.md "Decisions"), so IoT Hub's five default
 * policies are declared again next to the program's own, or they would be deleted. Pure.
 */
import { type HubRight, PROGRAM_POLICY_NAME, WELL_KNOWN_POLICIES } from '../lib/local-hub-defaults';

/** IoT Hub's default policies, which every hub has and which must be kept. */
export const DEFAULT_POLICY_NAMES = [
  'iothubowner',
  'service',
  'device',
  'registryRead',
  'registryReadWrite',
] as const;

export interface AuthorizationPolicy {
  keyName: string;
  /** ARM's AccessRights enum spelling, e.g. "RegistryWrite, ServiceConnect". */
  rights: string;
}

/**
 * RegistryWrite includes RegistryRead, and ARM lists it alone (the portal's export of a new hub says
 * `iothubowner: "RegistryWrite, ServiceConnect, DeviceConnect"`), so RegistryRead is dropped when
 * RegistryWrite is present; otherwise a refresh would show a diff on every policy.
 */
export function armRights(rights: readonly HubRight[]): string {
  const effective = rights.includes('RegistryWrite') ? rights.filter((r) => r !== 'RegistryRead') : rights;
  return effective.join(', ');
}

/**
 * The five defaults plus `serviceAndRegistryReadWrite` (RegistryWrite + ServiceConnect), the one
 * policy the program's providers use: it can manage identities and twins but not connect as a device.
 * Rights come from the same table as the local hub's, so both hubs grant the same.
 */
export function hubAuthorizationPolicies(): AuthorizationPolicy[] {
  const names: readonly string[] = [...DEFAULT_POLICY_NAMES, PROGRAM_POLICY_NAME];
  return names.map((keyName) => {
    const policy = WELL_KNOWN_POLICIES.find((p) => p.keyName === keyName);
    if (!policy) throw new Error(`lib/local-hub-defaults.ts has no policy "${keyName}"`);
    return { keyName, rights: armRights(policy.rights) };
  });
}
