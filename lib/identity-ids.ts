/**
 * Device and module id rules (docs/iot-hub-behaviour.md §5): case-sensitive, 1–128 ASCII characters from
 * `A-Z a-z 0-9 - . + % _ # * ? ! ( ) , = @ $ ' : ;`. Strict mode (the default, used for every id this
 * project declares) also rejects what the hub accepts but the identity could then never be used with:
 * `+` and `#` are MQTT topic wildcards (the device SDKs cannot subscribe to its topics), and `;` separates
 * the fields of a connection string (the module connection string the stack outputs, and every device
 * SDK's `fromConnectionString`, would cut the id there).
 */
import type { Problem } from './problems';

export const ID_MAX_LENGTH = 128;
const SPECIALS = "-.+%_#*?!(),=@$':;";
const STRICT_EXCLUDED = '+#;';
const STRICT_REASON: Record<string, string> = {
  '+': 'an MQTT topic wildcard',
  '#': 'an MQTT topic wildcard',
  ';': "a connection string's field separator",
};
const ALLOWED = /^[A-Za-z0-9\-.+%_#*?!(),=@$':;]$/;

export interface IdRuleOptions {
  /** Default true: also reject `+` and `#` (MQTT wildcards). */
  strict?: boolean;
}

function validateId(kind: string, value: unknown, path: string, opts: IdRuleOptions = {}): Problem[] {
  const strict = opts.strict ?? true;
  const specials = strict
    ? [...SPECIALS].filter((c) => !STRICT_EXCLUDED.includes(c)).join(' ')
    : [...SPECIALS].join(' ');
  const valid = `1-${ID_MAX_LENGTH} characters from A-Z a-z 0-9 and ${specials}`;
  if (typeof value !== 'string') {
    return [{ path, message: `${kind} must be a string of ${valid}; got ${describe(value)}` }];
  }
  const problems: Problem[] = [];
  if (value.length === 0) problems.push({ path, message: `${kind} is empty; it must be ${valid}` });
  if (value.length > ID_MAX_LENGTH) {
    problems.push({
      path,
      message: `${kind} is ${value.length} characters long; the maximum is ${ID_MAX_LENGTH}`,
    });
  }
  const invalid = [...new Set([...value].filter((c) => !ALLOWED.test(c)))];
  if (invalid.length > 0) {
    const shown = invalid.map((c) => JSON.stringify(c)).join(', ');
    problems.push({ path, message: `${kind} contains invalid characters ${shown}; allowed: ${valid}` });
  }
  const unusable = strict ? [...new Set([...value].filter((c) => STRICT_EXCLUDED.includes(c)))] : [];
  if (unusable.length > 0) {
    const reasons = unusable.map((c) => `"${c}" (${STRICT_REASON[c]})`).join(' and ');
    problems.push({
      path,
      message: `${kind} contains ${reasons}: the hub accepts it, but device SDKs could not use the identity; allowed: ${valid}`,
    });
  }
  return problems;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value;
}

export function validateDeviceId(value: unknown, path: string, opts?: IdRuleOptions): Problem[] {
  return validateId('device id', value, path, opts);
}

export function validateModuleId(value: unknown, path: string, opts?: IdRuleOptions): Problem[] {
  return validateId('module id', value, path, opts);
}
