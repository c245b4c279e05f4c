/**
 * Handlers for desired properties, as a typed table: property -> { validate, apply, reset }. `validate` is
 * the pure rule the planner (lib/desired-reconcile.ts) calls; `apply` and `reset` have effects and run only
 * in the runtime's single runner, one at a time, in version order.
 */
import type { PropertyRule } from '../lib/desired-reconcile';
import type { JsonValue } from '../lib/json-types';

export interface PropertyHandler extends PropertyRule {
  /** Called with a value `validate` accepted. A throw is acknowledged as 500 with its message. */
  apply(value: JsonValue): void | Promise<void>;
  /** The property was removed from the desired document: go back to the default behaviour. */
  reset?(): void | Promise<void>;
}

export type PropertyHandlers = Readonly<Record<string, PropertyHandler>>;

/** Faster than 10 messages a second is a flood, slower than a day is a typo (seconds). */
export const TELEMETRY_INTERVAL_LIMITS = { min: 0.1, max: 86_400 } as const;

export function validateTelemetryInterval(value: unknown): string | undefined {
  const { min, max } = TELEMETRY_INTERVAL_LIMITS;
  if (typeof value === 'number' && Number.isFinite(value) && value >= min && value <= max) return undefined;
  const shown = JSON.stringify(value) ?? String(value);
  return `telemetryInterval must be a number of seconds from ${min} to ${max}; got ${shown}`;
}

/** `telemetryInterval` (seconds) drives the telemetry loop; removing it restores the configured default. */
export function telemetryIntervalHandler(
  loop: { setIntervalSeconds(seconds: number): void },
  defaultSeconds: number,
): PropertyHandler {
  return {
    validate: validateTelemetryInterval,
    apply: (value) => loop.setIntervalSeconds(value as number),
    reset: () => loop.setIntervalSeconds(defaultSeconds),
  };
}
