/**
 * `check` for the dynamic providers: validates raw inputs as the hub would (docs/iot-hub-behaviour.md: ids
 * §5, identity fields §2, twin documents §5) and returns EVERY failure at once with its property path,
 * plus the normalized inputs (defaults filled, keys split out of `authentication`, nulls dropped).
 *
 * Values still unknown during a preview (Pulumi's unknown sentinel) are passed through unchecked:
 * they are validated again at `up`, when they are known.
 */
import { isJsonObject } from './json-types';
import { childPath } from './problems';
import {
  type Checker,
  type CheckOutcome,
  checkBoolean,
  checkHub,
  checkId,
  checkString,
  createChecker,
  type Fields,
  isUnknownInput,
  STATUS_REASON_MAX,
} from './resource-check-fields';
import { validateTwinSection } from './twin-document-rules';

export {
  type CheckOutcome,
  isUnknownInput,
  type ResourceCheckFailure,
  UNKNOWN_INPUT,
} from './resource-check-fields';

/** §2: caller-supplied keys must decode to 16–64 bytes. */
const KEY_BYTES = { min: 16, max: 64 } as const;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
/** §2: 40 hex digits (SHA-1) or 64 (SHA-256), colons allowed, case-insensitive. */
const THUMBPRINT = /^(?:[0-9A-F]{40}|[0-9A-F]{64})$/;
/** A wait longer than an hour is a mistake, not a rollout; the engine would look hung. */
const ACK_TIMEOUT_MAX_SECONDS = 3600;
const AUTH_TYPES = ['sas', 'selfSigned', 'certificateAuthority'] as const;

function checkKey(c: Checker, value: unknown, path: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (isUnknownInput(value)) return value as string;
  // Never echo the value: it is a key.
  if (typeof value !== 'string' || !BASE64.test(value)) {
    c.fail(path, `must be a base64 string of ${KEY_BYTES.min} to ${KEY_BYTES.max} bytes`);
    return undefined;
  }
  const bytes = Buffer.from(value, 'base64').length;
  if (bytes < KEY_BYTES.min || bytes > KEY_BYTES.max) {
    c.fail(path, `decodes to ${bytes} bytes; keys must be ${KEY_BYTES.min} to ${KEY_BYTES.max} bytes`);
    return undefined;
  }
  return value;
}

function checkThumbprint(c: Checker, value: unknown, path: string, required: boolean): string | undefined {
  if (value === undefined || value === null || value === '') {
    if (required) c.fail(path, 'is required for selfSigned: 40 (SHA-1) or 64 (SHA-256) hex digits');
    return undefined;
  }
  if (isUnknownInput(value)) return value as string;
  const hex = typeof value === 'string' ? value.replace(/:/g, '').toUpperCase() : '';
  if (!THUMBPRINT.test(hex)) {
    c.fail(path, 'must be 40 (SHA-1) or 64 (SHA-256) hex digits, colons allowed');
    return undefined;
  }
  return hex;
}

const AUTH_MEMBERS: Record<(typeof AUTH_TYPES)[number], readonly string[]> = {
  sas: ['type', 'primaryKey', 'secondaryKey'],
  selfSigned: ['type', 'primaryThumbprint', 'secondaryThumbprint'],
  certificateAuthority: ['type'],
};

/** `authentication` (keys may arrive inside it or already split into top-level secret inputs). */
function checkAuthentication(c: Checker): void {
  const raw = c.raw('authentication') ?? { type: 'sas' };
  if (isUnknownInput(raw)) {
    c.inputs['authentication'] = raw;
    return;
  }
  const type = isJsonObject(raw) ? raw['type'] : undefined;
  if (!isJsonObject(raw) || !AUTH_TYPES.includes(type as (typeof AUTH_TYPES)[number])) {
    c.fail('authentication.type', `must be one of ${AUTH_TYPES.join(', ')}`);
    return;
  }
  const kind = type as (typeof AUTH_TYPES)[number];
  for (const member of Object.keys(raw)) {
    if (!AUTH_MEMBERS[kind].includes(member)) {
      c.fail(
        childPath('authentication', member),
        `is not valid for ${kind}; valid: ${AUTH_MEMBERS[kind].join(', ')}`,
      );
    }
  }
  const topKeys = c.raw('primaryKey') !== undefined || c.raw('secondaryKey') !== undefined;
  if (kind === 'sas') checkSasKeys(c, raw);
  else if (topKeys) c.fail('authentication.primaryKey', `keys only apply to type sas, not ${kind}`);
  if (kind === 'selfSigned') {
    const primary = checkThumbprint(c, raw['primaryThumbprint'], 'authentication.primaryThumbprint', true);
    const secondary = checkThumbprint(
      c,
      raw['secondaryThumbprint'],
      'authentication.secondaryThumbprint',
      false,
    );
    c.inputs['authentication'] = {
      type: kind,
      primaryThumbprint: primary ?? '',
      ...(secondary ? { secondaryThumbprint: secondary } : {}),
    };
  } else {
    c.inputs['authentication'] = { type: kind };
  }
}

function checkSasKeys(c: Checker, auth: Fields): void {
  const primary = checkKey(c, auth['primaryKey'] ?? c.raw('primaryKey'), 'authentication.primaryKey');
  const secondary = checkKey(c, auth['secondaryKey'] ?? c.raw('secondaryKey'), 'authentication.secondaryKey');
  const given = [auth['primaryKey'] ?? c.raw('primaryKey'), auth['secondaryKey'] ?? c.raw('secondaryKey')];
  if ((given[0] === undefined || given[0] === null) !== (given[1] === undefined || given[1] === null)) {
    c.fail('authentication', 'supply both primaryKey and secondaryKey, or neither (both are then generated)');
  }
  if (primary !== undefined) c.inputs['primaryKey'] = primary;
  if (secondary !== undefined) c.inputs['secondaryKey'] = secondary;
}

const DEVICE_KEYS = [
  'hubConnectionString',
  'hubCaCertificate',
  'deviceId',
  'status',
  'statusReason',
  'authentication',
  'primaryKey',
  'secondaryKey',
  'iotEdge',
  'adopt',
] as const;
const MODULE_KEYS = [
  'hubConnectionString',
  'hubCaCertificate',
  'deviceId',
  'moduleId',
  'authentication',
  'primaryKey',
  'secondaryKey',
  'managedBy',
  'adopt',
] as const;

export function checkDeviceIdentityInputs(news: Fields): CheckOutcome {
  const c = createChecker(news);
  c.onlyKeys(DEVICE_KEYS);
  checkHub(c);
  checkId(c, 'deviceId');
  if (c.take('status', 'enabled') && !['enabled', 'disabled'].includes(c.inputs['status'] as string)) {
    c.fail('status', 'must be "enabled" or "disabled"');
  }
  checkString(c, 'statusReason', STATUS_REASON_MAX);
  checkAuthentication(c);
  checkBoolean(c, 'iotEdge', false);
  checkBoolean(c, 'adopt', false);
  return c.outcome();
}

export function checkModuleIdentityInputs(news: Fields): CheckOutcome {
  const c = createChecker(news);
  c.onlyKeys(MODULE_KEYS);
  checkHub(c);
  checkId(c, 'deviceId');
  checkId(c, 'moduleId');
  checkAuthentication(c);
  checkString(c, 'managedBy', STATUS_REASON_MAX);
  checkBoolean(c, 'adopt', false);
  return c.outcome();
}

function checkWaitForAck(c: Checker): void {
  if (!c.take('waitForAck')) return;
  const raw = c.inputs['waitForAck'];
  const timeout = isJsonObject(raw) ? raw['timeoutSeconds'] : undefined;
  const onTimeout = isJsonObject(raw) ? (raw['onTimeout'] ?? 'fail') : undefined;
  if (!isJsonObject(raw)) {
    c.fail('waitForAck', 'must be an object { timeoutSeconds, onTimeout? }');
    return;
  }
  for (const key of Object.keys(raw)) {
    if (key !== 'timeoutSeconds' && key !== 'onTimeout') {
      c.fail(childPath('waitForAck', key), 'is not valid; valid: timeoutSeconds, onTimeout');
    }
  }
  if (
    !isUnknownInput(timeout) &&
    (typeof timeout !== 'number' || !(timeout > 0) || timeout > ACK_TIMEOUT_MAX_SECONDS)
  ) {
    c.fail(
      'waitForAck.timeoutSeconds',
      `must be a number of seconds above 0 and at most ${ACK_TIMEOUT_MAX_SECONDS}`,
    );
  }
  if (!isUnknownInput(onTimeout) && onTimeout !== 'fail' && onTimeout !== 'warn') {
    c.fail('waitForAck.onTimeout', 'must be "fail" (the default) or "warn"');
  }
  c.inputs['waitForAck'] = { timeoutSeconds: timeout, onTimeout };
}

/** ModuleTwin (kind 'module') or DeviceTwin (kind 'device'; no ack wait: devices run no PnP runtime here). */
export function checkTwinInputs(kind: 'device' | 'module', news: Fields): CheckOutcome {
  const c = createChecker(news);
  const keys = ['hubConnectionString', 'hubCaCertificate', 'deviceId', 'desired', 'tags'];
  c.onlyKeys(kind === 'module' ? [...keys, 'moduleId', 'waitForAck'] : keys);
  checkHub(c);
  checkId(c, 'deviceId');
  if (kind === 'module') checkId(c, 'moduleId');
  for (const section of ['desired', 'tags'] as const) {
    if (c.take(section, {})) c.problems(validateTwinSection(section, c.inputs[section], section));
  }
  if (kind === 'module') checkWaitForAck(c);
  return c.outcome();
}
