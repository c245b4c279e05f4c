/**
 * What a failed call to a hub means, in words a user can act on, with the exit code scripts branch on
 * (HUB_EXIT, docs/hub-commands.md). Pure: the caller passes the error's fields. Shared by the hub
 * commands and `npm run invoke-method`.
 *
 * The service SDK hands on Node's own error for a connection that never got an HTTP answer (`code`
 * ECONNREFUSED, or a TLS verification code), and an error with `response.statusCode` and the body
 * otherwise (its translateError); the body carries IoT Hub's error code (docs/iot-hub-behaviour.md §1.3).
 */
import { HUB_EXIT } from './hub-command-args';
import { isUntrustedCertificateCode as isUntrustedCode, untrustedCertificateMessage } from './tls-trust';

export { untrustedCertificateMessage } from './tls-trust';

export interface FailureFacts {
  name?: string;
  message?: string;
  /** Node's error code (ECONNREFUSED, SELF_SIGNED_CERT_IN_CHAIN, ...). */
  code?: string;
  statusCode?: number;
  responseBody?: string;
}

export interface FailureContext {
  /** The host name tried, as in the connection string (`127.0.0.1:8443`). */
  hostName: string;
  /** True when no connection string was given and the local hub's default was tried. */
  localDefault: boolean;
  /** What was asked for: `device "d"`, `module "m" of device "d"`. */
  target?: string;
  /** The device of that target: a 404 DeviceNotFound on a module's call names the device instead. */
  deviceId?: string;
}

export interface Failure {
  exitCode: number;
  message: string;
}

const UNREACHABLE_CODES = [
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
];

export function isUntrustedCertificateCode(code: string | undefined): boolean {
  return isUntrustedCode(code) || code === 'ERR_TLS_CERT_ALTNAME_INVALID';
}

/** IoT Hub's error code in a body: `{"Message":"ErrorCode:DeviceNotFound;..."}` or `{"errorCode":...}`. */
export function hubErrorCode(body: string | undefined): string | undefined {
  if (!body) return undefined;
  const legacy = /ErrorCode:([A-Za-z]+)/.exec(body);
  if (legacy) return legacy[1];
  const named = /"(?:errorCode|code|ErrorCode)"\s*:\s*"?([A-Za-z0-9]+)/.exec(body);
  return named?.[1];
}

export function explainHubFailure(facts: FailureFacts, context: FailureContext): Failure {
  const where = context.hostName;
  if (facts.code && UNREACHABLE_CODES.includes(facts.code)) {
    const start = context.localDefault
      ? 'start the local hub with `npm run hub` (in another terminal), or set IOTHUB_CONNECTION_STRING for another hub'
      : 'check the HostName in the connection string, or start the local hub with `npm run hub`';
    return {
      exitCode: HUB_EXIT.unreachable,
      message: `cannot reach the hub at ${where} (${facts.code}): ${start}`,
    };
  }
  if (facts.code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return {
      exitCode: HUB_EXIT.unreachable,
      message: `the hub's certificate does not name ${where} (${facts.code}): use the host name the hub's certificate was made for`,
    };
  }
  if (isUntrustedCode(facts.code)) {
    return { exitCode: HUB_EXIT.unreachable, message: untrustedCertificateMessage(where, facts.code!) };
  }
  const status = facts.statusCode;
  const hubCode = hubErrorCode(facts.responseBody);
  if (status === 404 || facts.name === 'DeviceNotFoundError') {
    const what =
      hubCode === 'DeviceNotFound' && context.deviceId !== undefined
        ? `device "${context.deviceId}"`
        : (context.target ?? 'the identity');
    const reason = hubCode ? ` (404 ${hubCode})` : ' (404)';
    return { exitCode: HUB_EXIT.notFound, message: `${what} does not exist on ${where}${reason}` };
  }
  if (status === 401 || facts.name === 'UnauthorizedError') {
    const hint = context.localDefault
      ? 'the local hub no longer takes its well-known iothubowner key (its keys were replaced): set IOTHUB_CONNECTION_STRING'
      : 'the key is wrong or expired, or the policy lacks the right (RegistryRead, RegistryWrite, ServiceConnect)';
    return {
      exitCode: HUB_EXIT.failed,
      message: `the hub at ${where} refused the credentials (401): ${hint}`,
    };
  }
  if (status === 429 || facts.name === 'ThrottlingError') {
    return { exitCode: HUB_EXIT.failed, message: `throttled by the hub at ${where} (429); retry later` };
  }
  const detail = facts.message ? `: ${firstLine(facts.message)}` : '';
  const code =
    status === undefined
      ? (facts.code ?? facts.name ?? 'Error')
      : `HTTP ${status}${hubCode ? ` ${hubCode}` : ''}`;
  return { exitCode: HUB_EXIT.failed, message: `the hub at ${where} answered ${code}${detail}` };
}

function firstLine(text: string): string {
  const line = text.split(/\r?\n/)[0] ?? '';
  return line.length > 300 ? `${line.slice(0, 300)}...` : line;
}
