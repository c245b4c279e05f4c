/**
 * Stack config `iothub-as-code:hub`: which hub the stack manages. `local` is the embedded hub
 * (`npm run hub`), `azure` creates (or reuses the resource group of) a real IoT Hub.
 * Documented in docs/stack-config.md.
 */
import { z } from 'zod';
import { parseServiceConnectionString } from '../lib/connection-string';
import { DEFAULT_LOCAL_HUB_DATA_DIR, LOCAL_HUB_CA_FILE } from '../lib/local-hub-defaults';
import type { Problem } from '../lib/problems';
import { refineWith, secretValues, strictObject } from './config-problems';

export const DEFAULT_CA_CERTIFICATE_PATH = `${DEFAULT_LOCAL_HUB_DATA_DIR}/${LOCAL_HUB_CA_FILE}`;

/**
 * docs/iot-hub-behaviour.md §5 "Tier features": Basic (B1–B3) hubs have no device or module twins, which this
 * project manages; Free has every Standard feature with tiny quotas.
 */
export const SUPPORTED_SKUS = ['F1', 'S1', 'S2', 'S3'] as const;
export type SupportedSku = (typeof SUPPORTED_SKUS)[number];
const BASIC_SKUS = ['B1', 'B2', 'B3'];

/** Units per hub (docs/iot-hub-behaviour.md §5 "Daily message quota"; Free is a single unit). */
export const MAX_CAPACITY: Record<SupportedSku, number> = { F1: 1, S1: 200, S2: 200, S3: 10 };

/** ARM's IoT hub name rule: 3–50 letters, digits, hyphens; no leading/trailing hyphen; not all digits. */
const HUB_NAME = /^(?![0-9]+$)(?!-)[a-zA-Z0-9-]{2,49}[a-zA-Z0-9]$/;
/** ARM's resource group rule: 1–90 letters, digits, `_ - . ( )`; must not end with a period. */
const RESOURCE_GROUP_NAME = /^[-\p{L}\p{N}_.()]{0,89}[-\p{L}\p{N}_()]$/u;

const skuNameSchema = z.string().superRefine(
  refineWith<string>((name, path): Problem[] => {
    const valid = `valid SKUs: ${SUPPORTED_SKUS.join(', ')}`;
    if (BASIC_SKUS.includes(name)) {
      return [
        {
          path,
          message: `Basic tier SKU "${name}" cannot be used: module twins need the Standard tier; ${valid}`,
        },
      ];
    }
    if (!(SUPPORTED_SKUS as readonly string[]).includes(name)) {
      return [{ path, message: `unknown SKU "${name}"; ${valid}` }];
    }
    return [];
  }),
);

const skuSchema = strictObject({
  name: skuNameSchema,
  capacity: z.number().int().min(1).default(1),
}).superRefine((sku, ctx) => {
  const max = MAX_CAPACITY[sku.name as SupportedSku];
  if (max !== undefined && sku.capacity > max) {
    ctx.addIssue({
      code: 'custom',
      path: ['capacity'],
      message: `${sku.name} allows at most ${max} unit(s); got ${sku.capacity}`,
    });
  }
});

const azureSchema = strictObject({
  name: z.string().regex(HUB_NAME, {
    error: 'must be 3-50 letters, digits or hyphens, not start or end with a hyphen and not be all digits',
  }),
  resourceGroupName: z.string().regex(RESOURCE_GROUP_NAME, {
    error: 'must be 1-90 letters, digits, "_", "-", ".", "(" or ")" and not end with "."',
  }),
  createResourceGroup: z.boolean().default(true),
  location: z.string().min(1, { error: 'must be an Azure region, e.g. "westeurope"' }),
  sku: skuSchema,
});

/** Parse errors never echo the value: it carries a key (lib/connection-string.ts names keys only). */
function validateServiceConnectionString(value: string, path: string): Problem[] {
  try {
    parseServiceConnectionString(value);
    return [];
  } catch (error) {
    return [{ path, message: (error as Error).message }];
  }
}

const localSchema = strictObject({
  connectionString: z
    .string()
    .superRefine(refineWith(validateServiceConnectionString))
    .register(secretValues, { secret: true })
    .optional(),
  caCertificatePath: z.string().min(1).default(DEFAULT_CA_CERTIFICATE_PATH),
});

const MODES = ['local', 'azure'] as const;

export const hubSchema = strictObject({
  mode: z.enum(MODES, { error: `must be one of: ${MODES.join(', ')}` }),
  local: localSchema.optional(),
  azure: azureSchema.optional(),
})
  .superRefine((hub, ctx) => {
    if (hub.mode === 'azure' && !hub.azure) {
      ctx.addIssue({
        code: 'custom',
        path: ['azure'],
        message:
          'is required when mode is "azure": { name, resourceGroupName, location, sku: { name, capacity } }',
      });
    }
  })
  .transform((hub): HubConfig => {
    if (hub.mode === 'azure') return { mode: 'azure', azure: hub.azure! };
    return { mode: 'local', local: hub.local ?? { caCertificatePath: DEFAULT_CA_CERTIFICATE_PATH } };
  });

export type AzureHubConfig = z.output<typeof azureSchema>;
export type LocalHubConfig = z.output<typeof localSchema>;
export type HubConfig = { mode: 'local'; local: LocalHubConfig } | { mode: 'azure'; azure: AzureHubConfig };
