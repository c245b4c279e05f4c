/**
 * What `pulumi destroy` (or removing an entry from the stack) may do to an identity and its twin, as Pulumi
 * resource options (docs/safe-destroys.md):
 * - `protect`: the engine refuses to delete the resource (and goes on deleting the others);
 * - `retainOnDelete`: the engine drops the resource from the state without deleting it from the hub.
 * An adopted identity existed before the stack took it over, so by default a destroy leaves it where it
 * found it; `retainOnDelete: false` overrides that. Pure: the program passes the results as options.
 */
import type { DeviceConfig, ModuleConfig } from './devices-config';
import { compact } from './identity-args';

export interface DestroyOptions {
  protect?: boolean;
  retainOnDelete?: boolean;
}

/**
 * A device's own options. Only what the config says (or adoption implies) is set: an absent option is
 * Pulumi's default (deleted, unprotected), so removing `protect: true` and running `up` unprotects, as
 * Pulumi's own message tells users to do.
 */
export function deviceDestroyOptions(device: DeviceConfig): DestroyOptions {
  return compact({
    protect: device.protect,
    retainOnDelete: device.retainOnDelete ?? (device.adopt === true ? true : undefined),
  });
}

/**
 * A module's options: its own, else its device's `protect` and explicit `retainOnDelete` (protecting or
 * retaining a device means the device as it runs, modules included; a destroy would otherwise delete them
 * from under it). Adoption is not inherited: an adopted device's modules that the stack created are deleted
 * by a destroy, like everything else the stack created.
 */
export function moduleDestroyOptions(device: DeviceConfig, module: ModuleConfig): DestroyOptions {
  return compact({
    protect: module.protect ?? device.protect,
    retainOnDelete: module.retainOnDelete ?? (module.adopt === true ? true : device.retainOnDelete),
  });
}

/**
 * A twin resource gets its identity's options. Retained: a twin's delete removes the leaves it owns
 * (docs/twin-ownership.md), so a retained identity keeps its desired properties and tags as they were
 * when the stack lets go of it, also when only its twin content leaves the stack. Protected: the engine
 * refuses a protected resource's delete but goes on with the others, and twins are deleted before their
 * identity; an unprotected twin of a protected device would leave the state while the device stays
 * (its hub leaves untouched, `deletedWith`), so a refused destroy would no longer leave the device whole.
 * Editing owned leaves stays an ordinary update; only dropping all twin content needs unprotecting.
 */
export function twinDestroyOptions(identity: DestroyOptions): DestroyOptions {
  return compact({ ...identity });
}
