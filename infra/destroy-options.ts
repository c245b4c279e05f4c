/**
 * What `pulumi destroy` (or removing an entry from the stack) may do to an identity and its twin, as Pulumi
 * resource options (docs/safe-destroys.md):
 * - `protect`: the engine refuses to delete the identity (the whole operation fails before any step runs);
 * - `retainOnDelete`: the engine drops the identity from the state without deleting it from the hub.
 * An adopted identity existed before the stack took it over, so by default a destroy leaves it where it
 * found it; `retainOnDelete: false` overrides that. Pure: the program passes the result as options.
 */
import { compact } from './identity-args';

export interface DestroyOptions {
  protect?: boolean;
  retainOnDelete?: boolean;
}

interface IdentityEntry {
  adopt?: boolean;
  protect?: boolean;
  retainOnDelete?: boolean;
}

/**
 * Options for a DeviceIdentity or ModuleIdentity. Only what the config says (or adoption implies) is set:
 * an absent option is Pulumi's default (deleted, unprotected), so removing `protect: true` from the
 * config and running `up` unprotects, as Pulumi's own message tells users to do.
 */
export function identityDestroyOptions(entry: IdentityEntry): DestroyOptions {
  return compact({
    protect: entry.protect,
    retainOnDelete: entry.retainOnDelete ?? (entry.adopt === true ? true : undefined),
  });
}

/**
 * Options for the twin of that identity: it follows the identity's retention, not its protection.
 * Retained: a twin resource's delete removes the leaves it owns (docs/twin-ownership.md), so a retained
 * device whose twin content leaves the stack keeps its desired properties and tags as they were, instead
 * of being reset while the stack lets go of it. Not protected: editing or removing owned leaves is an
 * ordinary config change on a protected device, like editing its status; `protect` guards the identity,
 * and a destroy that would delete a protected identity is refused before any twin is touched.
 */
export function twinDestroyOptions(entry: IdentityEntry): DestroyOptions {
  const { retainOnDelete } = identityDestroyOptions(entry);
  return compact({ retainOnDelete });
}
