/**
 * Device and module id rules (docs/iothub-facts.md §5): case-sensitive, 1–128 ASCII characters from
 * `A-Z a-z 0-9 - . + % _ # * ? ! ( ) , = @ $ ' : ;`. Strict mode (the default, used for every id this
 * project declares) also rejects `+` and `#`: they are MQTT topic wildcards, so the device SDKs cannot
 * use such an identity.
 */
import type { Problem } from './problems';

export const ID_MAX_LENGTH = 128;
const SPECIALS = "-.+%_#*?!(),=@$':;";
const STRICT_EXCLUDED = '+#';
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
  const wildcards = strict ? [...new Set([...value].filter((c) => STRICT_EXCLUDED.includes(c)))] : [];
  if (wildcards.length > 0) {
    problems.push({
      path,
      message: `${kind} contains ${wildcards.map((c) => `"${c}"`).join(' and ')}, which device SDKs cannot use (MQTT topic wildcards); allowed: ${valid}`,
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
