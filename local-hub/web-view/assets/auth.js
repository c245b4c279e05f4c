/**
 * The web view's credential: a service connection string (its key stays in this tab's sessionStorage and
 * signs short-lived SAS tokens with WebCrypto HMAC-SHA256), or a pasted SAS token used as is until it
 * expires. Only tokens leave the browser, in the Authorization header (never in a URL).
 */
const STORAGE_KEY = 'local-hub-view.credential';
const TOKEN_LIFETIME_SECONDS = 3600;
/** A derived token is replaced this long before it expires. */
const RENEW_MARGIN_SECONDS = 300;
const SAS_PREFIX = 'SharedAccessSignature ';

export class CredentialError extends Error {}

const nowSeconds = () => Math.floor(Date.now() / 1000);

/** Parses what the user pasted; throws CredentialError saying what is wrong (never echoing the secret). */
export function parseCredential(text) {
  const value = text.trim();
  if (value.startsWith(SAS_PREFIX)) return parseSas(value);
  const fields = new Map();
  for (const part of value.split(';')) {
    if (part.trim() === '') continue;
    const eq = part.indexOf('=');
    if (eq <= 0) throw new CredentialError('Not a connection string: every field must be Name=value.');
    fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  if (fields.has('DeviceId')) {
    throw new CredentialError('This is a device connection string; paste a service (policy) one.');
  }
  const missing = ['HostName', 'SharedAccessKeyName', 'SharedAccessKey'].filter((name) => !fields.get(name));
  if (missing.length > 0) throw new CredentialError(`The connection string lacks ${missing.join(', ')}.`);
  const key = fields.get('SharedAccessKey');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(key)) throw new CredentialError('SharedAccessKey is not base64.');
  return { kind: 'key', hostName: fields.get('HostName'), keyName: fields.get('SharedAccessKeyName'), key };
}

function parseSas(token) {
  const fields = new URLSearchParams(token.slice(SAS_PREFIX.length));
  const expiresAt = Number(fields.get('se'));
  if (!fields.get('sr') || !fields.get('sig') || !Number.isInteger(expiresAt)) {
    throw new CredentialError('A SharedAccessSignature needs sr, sig and se.');
  }
  if (!fields.get('skn'))
    throw new CredentialError('This token has no skn: it is a device token, not a policy one.');
  if (expiresAt <= nowSeconds()) throw new CredentialError('This token has expired; make a new one.');
  return { kind: 'sas', token, keyName: fields.get('skn'), expiresAt };
}

export function loadCredential() {
  try {
    const stored = JSON.parse(sessionStorage.getItem(STORAGE_KEY) ?? 'null');
    return stored && (stored.kind === 'key' || stored.kind === 'sas') ? stored : null;
  } catch {
    return null;
  }
}

export function saveCredential(credential) {
  sessionStorage.setItem(STORAGE_KEY, JSON.stringify(credential));
  cached = null;
}

export function forgetCredential() {
  sessionStorage.removeItem(STORAGE_KEY);
  cached = null;
}

let cached = null;

/** The Authorization header value; throws CredentialError when a pasted token has expired. */
export async function authorizationFor(credential) {
  if (credential.kind === 'sas') {
    if (credential.expiresAt <= nowSeconds())
      throw new CredentialError('The SAS token has expired; sign in again.');
    return credential.token;
  }
  // The cache belongs to one credential: a token signed with a refused key must not outlive it.
  const fresh = cached && cached.expiresAt - RENEW_MARGIN_SECONDS > nowSeconds();
  if (
    fresh &&
    cached.key === credential.key &&
    cached.keyName === credential.keyName &&
    cached.hostName === credential.hostName
  ) {
    return cached.token;
  }
  const expiresAt = nowSeconds() + TOKEN_LIFETIME_SECONDS;
  // As the service SDK signs (docs/iot-hub-behaviour.md §1.5): HMAC-SHA256 of "<encoded sr>\n<se>".
  const sr = encodeURIComponent(credential.hostName);
  const key = await crypto.subtle.importKey(
    'raw',
    Uint8Array.from(atob(credential.key), (c) => c.charCodeAt(0)),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  );
  const signature = await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(`${sr}\n${expiresAt}`));
  const sig = encodeURIComponent(btoa(String.fromCharCode(...new Uint8Array(signature))));
  const token = `${SAS_PREFIX}sr=${sr}&sig=${sig}&se=${expiresAt}&skn=${encodeURIComponent(credential.keyName)}`;
  cached = {
    token,
    expiresAt,
    key: credential.key,
    keyName: credential.keyName,
    hostName: credential.hostName,
  };
  return token;
}
