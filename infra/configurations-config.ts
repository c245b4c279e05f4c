/**
 * Stack config `iothub-as-code:configurations`: the automatic device and module configurations this stack
 * owns (docs/iot-hub-behaviour.md §8.4), one `Configuration` resource each. Field names are the provider's
 * args. The rules are the provider's own `check` (lib/resource-configuration-state.ts), so the stack config and
 * `pulumi preview` refuse exactly the same things, with the same messages; this file adds what only the
 * whole list knows: duplicate ids and the hub's limit of 100 configurations. Documented in docs/stack-config.md.
 */
import { z } from 'zod';
import type { WaitForConvergence } from '../lib/configuration-convergence';
import { validateConfigurationCount } from '../lib/configuration-rules';
import type { JsonObject } from '../lib/json-types';
import type { Problem } from '../lib/problems';
import { checkConfigurationInputs } from '../lib/resource-configuration-state';
import { refineWith, strictObject } from './config-problems';

export interface ConfigurationConfig {
  configurationId: string;
  deviceContent?: JsonObject;
  moduleContent?: JsonObject;
  targetCondition: string;
  priority?: number;
  labels?: Record<string, string>;
  metrics?: Record<string, string>;
  /** Wait after create/update until the fleet converges (lib/configuration-convergence.ts). */
  waitForConvergence?: Omit<WaitForConvergence, 'onTimeout'> & { onTimeout?: 'fail' | 'warn' };
  /**
   * The id of a configuration declared earlier in the list that must be created (and, with its own
   * `waitForConvergence`, converged) before this one: a staged rollout, ring 0 then ring 1. Only orders
   * this stack's operations; the hub knows nothing of it.
   */
  after?: string;
}

/** Stands in for the connection the provider receives at run time; only its shape is checked, never sent. */
const SHAPE_ONLY_CONNECTION =
  'HostName=stack-config.invalid;SharedAccessKeyName=check;SharedAccessKey=Y2hlY2s=';

/** The provider's check on one entry; unknown keys are left to strictObject (one message per typo). */
function validateEntry(entry: unknown, path: string): Problem[] {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return [];
  const { after: _after, ...args } = entry as Record<string, unknown>;
  const { failures } = checkConfigurationInputs({ ...args, hubConnectionString: SHAPE_ONLY_CONNECTION });
  return failures
    .filter((f) => !f.reason.startsWith('unknown property'))
    .map((f) => ({ path: path === '' ? f.property : `${path}.${f.property}`, message: f.reason }));
}

/**
 * Fields are `unknown` to zod: the provider's check owns every rule and message. The descriptions reach the
 * JSON schema editors read (infra/stack-config-schema.ts).
 */
const configurationSchema = strictObject({
  configurationId: z
    .unknown()
    .describe("1-128 lower-case letters, digits and - : + % _ # * ? ! ( ) , = @ ; $ '"),
  deviceContent: z
    .unknown()
    .optional()
    .describe('device twins: desired-property paths -> values (immutable: a change replaces it)'),
  moduleContent: z
    .unknown()
    .optional()
    .describe('module twins: e.g. properties.desired.telemetryInterval: 30'),
  targetCondition: z.unknown().describe("e.g. FROM devices.modules WHERE tags.ring='0'"),
  priority: z.unknown().optional().describe('integer 0-2147483647, default 0; the highest wins'),
  labels: z.unknown().optional().describe('name -> value'),
  metrics: z.unknown().optional().describe('custom metrics: name -> query'),
  waitForConvergence: z
    .unknown()
    .optional()
    .describe('{ minimum: { count?, percent? }, successMetric, timeoutSeconds, onTimeout? }'),
  after: z.unknown().optional().describe('the configurationId of a configuration declared earlier'),
}).superRefine(refineWith(validateEntry), { when: () => true });

function duplicateIds(entries: unknown, ctx: z.core.$RefinementCtx<unknown>): void {
  if (!Array.isArray(entries)) return;
  const first = new Map<string, number>();
  entries.forEach((entry, index) => {
    const id = (entry as Record<string, unknown> | null)?.['configurationId'];
    if (typeof id !== 'string') return;
    const seen = first.get(id);
    if (seen === undefined) first.set(id, index);
    else {
      ctx.addIssue({
        code: 'custom',
        path: [index, 'configurationId'],
        message: `duplicate configurationId "${id}": configurations[${seen}] already declares it`,
      });
    }
  });
}

/** `after` names a configuration declared earlier (so the order is the list's: no cycles possible). */
function afterReferences(entries: unknown, ctx: z.core.$RefinementCtx<unknown>): void {
  if (!Array.isArray(entries)) return;
  const ids = entries.map((entry) => (entry as Record<string, unknown> | null)?.['configurationId']);
  entries.forEach((entry, index) => {
    const after = (entry as Record<string, unknown> | null)?.['after'];
    if (after === undefined) return;
    const earlier = ids.slice(0, index).filter((id): id is string => typeof id === 'string');
    let message: string | undefined;
    if (typeof after !== 'string')
      message = 'must be the configurationId of a configuration declared before it';
    else if (after === ids[index]) message = 'a configuration cannot come after itself';
    else if (!earlier.includes(after)) {
      message = ids.includes(after)
        ? `"${after}" is declared later in the list; declare it before this configuration (the list's order is the rollout's)`
        : `names no configuration of this stack (declared before it: ${earlier.length === 0 ? 'none' : earlier.map((id) => `"${id}"`).join(', ')})`;
    }
    if (message !== undefined) ctx.addIssue({ code: 'custom', path: [index, 'after'], message });
  });
}

export const configurationsSchema = z
  .array(configurationSchema)
  .superRefine(duplicateIds, { when: () => true })
  .superRefine(afterReferences, { when: () => true })
  .superRefine(
    refineWith((list: unknown[], path) => validateConfigurationCount(list.length, path)),
    { when: () => true },
  )
  .transform((list) => list as ConfigurationConfig[]);
