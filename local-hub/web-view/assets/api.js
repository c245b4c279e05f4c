/**
 * JSON requests to the hub with the SAS token in the Authorization header. Errors come back in IoT Hub's
 * legacy shape (`{"Message":"ErrorCode:<Name>;<text>"}`); they are turned into ApiErrors with the text.
 */
import { authorizationFor, CredentialError } from './auth.js';

const API_VERSION = '2021-04-12';

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

let credential = null;

export function useCredential(value) {
  credential = value;
}

export function encodeId(id) {
  return encodeURIComponent(id);
}

export async function getJson(path, signal) {
  if (!credential) throw new ApiError(401, 'not signed in');
  const separator = path.includes('?') ? '&' : '?';
  let authorization;
  try {
    authorization = await authorizationFor(credential);
  } catch (error) {
    // A pasted token ran out: the app returns to the sign-in form with this message.
    if (error instanceof CredentialError)
      window.dispatchEvent(new CustomEvent('credential-expired', { detail: error.message }));
    throw error;
  }
  const response = await fetch(`${path}${separator}api-version=${API_VERSION}`, {
    headers: { authorization, accept: 'application/json' },
    cache: 'no-store',
    credentials: 'omit',
    signal,
  });
  const body = await response.json().catch(() => null);
  if (response.ok) return body;
  const text = typeof body?.Message === 'string' ? body.Message.replace(/^ErrorCode:[^;]*;/, '') : '';
  throw new ApiError(response.status, text || `${response.status} ${response.statusText}`);
}

/** What a refused request means to the user, naming the right the route needs. */
export function describeError(error, right) {
  if (error instanceof ApiError && error.status === 401) {
    return `Refused (401): this credential is wrong or expired, or its policy lacks ${right}.`;
  }
  return error instanceof Error ? error.message : String(error);
}
