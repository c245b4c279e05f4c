/**
 * Stack config `iothub-as-code:devices`: the device and module identities and the twin content this
 * stack owns. Field names match the dynamic providers' args so the program maps them one to one.
 * Documented in docs/stack-config.md.
 */
import { z } from 'zod';
import { validateDeviceId, validateModuleId } from '../lib/identity-ids';
import type { Problem } from '../lib/problems';
import { validateTwinSection } from '../lib/twin-document-rules';
import { refineWith, secretValues, strictObject } from './config-problems';

/** docs/iot-hub-behaviour.md §2: modules per device (current docs: 50). */
export const MAX_MODULES_PER_DEVICE = 50;
/** docs/iot-hub-behaviour.md §5: statusReason ≤ 128 characters. */
const MAX_STATUS_REASON = 128;
/** A convergence wait longer than this would hold `pulumi up` hostage; use onTimeout 'warn' instead. */
const MAX_ACK_TIMEOUT_SECONDS = 3600;

/**
 * docs/iot-hub-behaviour.md §2: caller-supplied SAS keys must decode to 16–64 bytes. The message never shows the
 * key: it is a secret.
 */
function validateSasKey(value: string, path: string): Problem[] {
  const base64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
  const bytes = base64.test(value) ? Buffer.from(value, 'base64').length : -1;
  if (bytes >= 16 && bytes <= 64) return [];
  const got = bytes < 0 ? 'not valid base64' : `${bytes} bytes`;
  return [
    { path, message: `key must be base64 of 16-64 bytes (e.g. \`openssl rand -base64 32\`); got ${got}` },
  ];
}

/** docs/iot-hub-behaviour.md §2: SHA-1 (40 hex) or SHA-256 (64 hex) thumbprints, case-insensitive, colons allowed. */
function validateThumbprint(value: string, path: string): Problem[] {
  const hex = value.replace(/:/g, '');
  if (/^(?:[0-9a-fA-F]{40}|[0-9a-fA-F]{64})$/.test(hex)) return [];
  return [{ path, message: 'thumbprint must be 40 (SHA-1) or 64 (SHA-256) hex digits; colons are allowed' }];
}

const sasKey = z.string().superRefine(refineWith(validateSasKey)).register(secretValues, { secret: true });
const thumbprint = z.string().superRefine(refineWith(validateThumbprint));

const authSchema = z.discriminatedUnion(
  'type',
  [
    strictObject({ type: z.literal('sas'), primaryKey: sasKey.optional(), secondaryKey: sasKey.optional() }),
    strictObject({
      type: z.literal('selfSigned'),
      primaryThumbprint: thumbprint,
      secondaryThumbprint: thumbprint.optional(),
    }),
    strictObject({ type: z.literal('certificateAuthority') }),
  ],
  { error: 'must be one of: sas, selfSigned, certificateAuthority' },
);

/** Twin sections are checked by the hub's own rules (docs/iot-hub-behaviour.md §5) via lib/twin-document-rules.ts. */
function twinSection(section: 'desired' | 'tags') {
  return z
    .record(z.string(), z.unknown())
    .superRefine(refineWith((doc: unknown, path) => validateTwinSection(section, doc, path)));
}

const waitForAckSchema = strictObject({
  timeoutSeconds: z.number().int().min(1).max(MAX_ACK_TIMEOUT_SECONDS),
  onTimeout: z.enum(['fail', 'warn'], { error: 'must be "fail" or "warn"' }).optional(),
});

const deviceTwinSchema = strictObject({
  desired: twinSection('desired').optional(),
  tags: twinSection('tags').optional(),
});
const moduleTwinSchema = deviceTwinSchema.extend({ waitForAck: waitForAckSchema.optional() });

const idOf =
  (validate: typeof validateDeviceId) =>
  (value: string, path: string): Problem[] =>
    validate(value, path, { strict: true });

/**
 * `tags` next to `twin` is the short form of `twin.tags` (what configurations target, issue #12): one of the
 * two, so a tag is never declared twice. The program reads `twinTags()`.
 */
function tagsOnce(
  entry: { tags?: unknown; twin?: { tags?: unknown } | undefined },
  ctx: z.core.$RefinementCtx<unknown>,
) {
  if (entry.tags !== undefined && entry.twin?.tags !== undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['tags'],
      message: 'set tags here or in twin.tags, not both (they are the same twin tags)',
    });
  }
}

/**
 * Pulumi's own resource options, per identity (docs/safe-destroys.md): `protect` makes the engine refuse
 * to delete it, `retainOnDelete` makes a delete leave it on the hub. Absent means Pulumi's default, except
 * that an adopted identity is retained unless `retainOnDelete: false` (infra/destroy-options.ts).
 */
const protect = z
  .boolean()
  .optional()
  .describe('Pulumi protect: destroy, or removing it from the stack, is refused (docs/safe-destroys.md)');
const retainOnDelete = z
  .boolean()
  .optional()
  .describe(
    'Pulumi retainOnDelete: destroy, or removing it from the stack, leaves it on the hub; default true when adopted (docs/safe-destroys.md)',
  );
const adopt = z
  .boolean()
  .optional()
  .describe(
    'take over an identity that already exists on the hub (its keys are kept); implies retainOnDelete',
  );

const moduleSchema = strictObject({
  moduleId: z.string().superRefine(refineWith(idOf(validateModuleId))),
  auth: authSchema.optional(),
  managedBy: z.string().min(1).optional(),
  adopt,
  protect,
  retainOnDelete,
  tags: twinSection('tags').optional(),
  twin: moduleTwinSchema.optional(),
}).superRefine(tagsOnce);

/**
 * Duplicate ids are reported even when sibling entries have other problems, so the check reads the
 * raw entries defensively and runs unconditionally (`when`).
 */
function duplicateIds(listName: 'devices' | 'modules', idKey: 'deviceId' | 'moduleId') {
  return (entries: unknown, ctx: z.core.$RefinementCtx<unknown>): void => {
    if (!Array.isArray(entries)) return;
    const firstIndex = new Map<string, number>();
    entries.forEach((entry, index) => {
      const id = (entry as Record<string, unknown> | null)?.[idKey];
      if (typeof id !== 'string') return;
      const first = firstIndex.get(id);
      if (first === undefined) firstIndex.set(id, index);
      else {
        const message = `duplicate ${idKey} "${id}": ${listName}[${first}] already declares it (ids are case-sensitive)`;
        ctx.addIssue({ code: 'custom', path: [index, idKey], message });
      }
    });
  };
}
const always = { when: () => true };

/**
 * The hub deletes a device's modules with the device (docs/iot-hub-behaviour.md §6), so a module's explicit
 * `retainOnDelete: true` would be a promise broken by its device's own delete: refused unless the device is
 * retained too. (An adopted module's default retention is not refused: it still matters when the module
 * alone leaves the stack.)
 */
function moduleRetainedWithDevice(
  device: { adopt?: boolean; retainOnDelete?: boolean; modules: { retainOnDelete?: boolean }[] },
  ctx: z.core.$RefinementCtx<unknown>,
): void {
  if (retainsOnDelete(device)) return;
  device.modules.forEach((module, index) => {
    if (module.retainOnDelete !== true) return;
    ctx.addIssue({
      code: 'custom',
      path: ['modules', index, 'retainOnDelete'],
      message:
        'has no effect while the device itself is deleted: the hub deletes a device with its modules; set retainOnDelete (or adopt) on the device too',
    });
  });
}

/** Whether a delete leaves the identity on the hub: explicit `retainOnDelete`, else whether it was adopted. */
export function retainsOnDelete(entry: { adopt?: boolean; retainOnDelete?: boolean }): boolean {
  return entry.retainOnDelete ?? entry.adopt === true;
}

const deviceSchema = strictObject({
  deviceId: z.string().superRefine(refineWith(idOf(validateDeviceId))),
  status: z.enum(['enabled', 'disabled'], { error: 'must be "enabled" or "disabled"' }).optional(),
  statusReason: z.string().max(MAX_STATUS_REASON).optional(),
  auth: authSchema.optional(),
  iotEdge: z.boolean().optional(),
  adopt,
  protect,
  retainOnDelete,
  tags: twinSection('tags').optional(),
  twin: deviceTwinSchema.optional(),
  modules: z
    .array(moduleSchema)
    .max(MAX_MODULES_PER_DEVICE, { error: `a device has at most ${MAX_MODULES_PER_DEVICE} modules` })
    .superRefine(duplicateIds('modules', 'moduleId'), always)
    .default([]),
})
  .superRefine(tagsOnce)
  .superRefine(moduleRetainedWithDevice);

export const devicesSchema = z.array(deviceSchema).superRefine(duplicateIds('devices', 'deviceId'), always);

export type IdentityAuth = z.output<typeof authSchema>;
export type DeviceConfig = z.output<typeof deviceSchema>;
export type ModuleConfig = z.output<typeof moduleSchema>;

/** A device's or module's twin tags, from `tags` or `twin.tags` (never both). */
export function twinTags(entry: {
  tags?: Record<string, unknown>;
  twin?: { tags?: Record<string, unknown> };
}) {
  return entry.twin?.tags ?? entry.tags;
}

/** Whether the entry declares twin content (desired or tags): the program then declares a twin resource. */
export function declaresTwin(entry: { tags?: Record<string, unknown>; twin?: object }): boolean {
  return entry.twin !== undefined || entry.tags !== undefined;
}
