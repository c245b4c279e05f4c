/**
 * The building blocks of the providers' `check` (lib/resource-checks.ts): a failure collector that
 * also builds the normalized inputs, and the checks every resource kind shares (hub connection,
 * ids, plain fields). Values still unknown during a preview are passed through unchecked.
 */
import { ConnectionStringError, parseServiceConnectionString } from './connection-string';
import { validateDeviceId, validateModuleId } from './identity-ids';
import type { Problem } from './problems';

/** Same shape as Pulumi's `CheckFailure`. */
export interface ResourceCheckFailure {
  property: string;
  reason: string;
}

export interface CheckOutcome {
  inputs: Record<string, unknown>;
  failures: ResourceCheckFailure[];
}

/** `@pulumi/pulumi` runtime/rpc `unknownValue`: how the engine encodes a not-yet-known input. */
export const UNKNOWN_INPUT = '04da6b54-80e4-46f7-96ec-b56ff0331ba9';

export function isUnknownInput(value: unknown): boolean {
  return value === UNKNOWN_INPUT;
}

/** docs/iot-hub-behaviour.md §2: statusReason ≤ 128 characters. */
export const STATUS_REASON_MAX = 128;

export type Fields = Record<string, unknown>;

/**
 * Collects normalized inputs and failures. A closure, not a class: Pulumi's closure serializer drops
 * class field initializers, and this code is serialized with the providers.
 */
export interface Checker {
  readonly news: Fields;
  readonly inputs: Record<string, unknown>;
  fail(property: string, reason: string): void;
  problems(problems: readonly Problem[]): void;
  /** The raw value, with `null` treated as absent (an absent optional Output serializes as null). */
  raw(key: string): unknown;
  /** Copies a value through; returns false when absent or unknown (nothing left to check). */
  take(key: string, fallback?: unknown): boolean;
  onlyKeys(allowed: readonly string[]): void;
  outcome(): CheckOutcome;
}

export function createChecker(news: Fields): Checker {
  const inputs: Record<string, unknown> = {};
  const failures: ResourceCheckFailure[] = [];
  const fail = (property: string, reason: string) => {
    failures.push({ property, reason });
  };
  const raw = (key: string) => (news[key] === null ? undefined : news[key]);
  return {
    news,
    inputs,
    fail,
    problems: (problems) => {
      for (const p of problems) fail(p.path, p.message);
    },
    raw,
    take: (key, fallback) => {
      const value = raw(key) ?? fallback;
      if (value === undefined) return false;
      inputs[key] = value;
      return !isUnknownInput(value);
    },
    onlyKeys: (allowed) => {
      for (const key of Object.keys(news)) {
        if (key === '__provider' || allowed.includes(key)) continue;
        fail(key, `unknown property "${key}"; valid properties: ${allowed.join(', ')}`);
      }
    },
    outcome: () => ({ inputs, failures }),
  };
}

export function checkHub(c: Checker): void {
  if (c.take('hubConnectionString')) {
    const value = c.inputs['hubConnectionString'];
    if (typeof value !== 'string') {
      c.fail('hubConnectionString', 'must be a string "HostName=…;SharedAccessKeyName=…;SharedAccessKey=…"');
    } else {
      try {
        parseServiceConnectionString(value);
      } catch (err) {
        // ConnectionStringError messages name keys, never values (the string holds a key).
        const reason = err instanceof ConnectionStringError ? err.message : 'is not a connection string';
        c.fail('hubConnectionString', reason);
      }
    }
  } else if (c.raw('hubConnectionString') === undefined) {
    c.fail('hubConnectionString', 'is required: the hub service connection string (pass it as a secret)');
  }
  if (c.take('hubCaCertificate')) {
    const pem = c.inputs['hubCaCertificate'];
    if (typeof pem !== 'string' || !pem.includes('-----BEGIN CERTIFICATE-----')) {
      c.fail(
        'hubCaCertificate',
        'must be a PEM certificate ("-----BEGIN CERTIFICATE-----…"), e.g. the local hub ca.pem',
      );
    }
  }
}

export function checkId(c: Checker, key: 'deviceId' | 'moduleId'): void {
  if (c.take(key)) {
    const validate = key === 'deviceId' ? validateDeviceId : validateModuleId;
    c.problems(validate(c.inputs[key], key, { strict: true }));
  } else if (c.raw(key) === undefined) {
    c.fail(key, `is required`);
  }
}

export function checkBoolean(c: Checker, key: string, fallback: boolean): void {
  if (c.take(key, fallback) && typeof c.inputs[key] !== 'boolean') c.fail(key, 'must be true or false');
}

export function checkString(c: Checker, key: string, maxLength: number): void {
  if (!c.take(key)) return;
  const value = c.inputs[key];
  if (typeof value !== 'string') c.fail(key, 'must be a string');
  else if (value.length > maxLength)
    c.fail(key, `is ${value.length} characters; the maximum is ${maxLength}`);
}
