/**
 * A TLS session that failed because the client does not trust the hub's certificate: retrying cannot
 * fix it, only the right CA can. Recognised by Node's error code, or, where a library kept only the text
 * (the device SDK wraps mqtt.js's error into `UnauthorizedError: ... unable to verify the first
 * certificate` and drops the code), by OpenSSL's message. Pure; shared by the hub commands and the
 * device runtime so both say the same sentence.
 */

/** OpenSSL's verification failures as Node names them. */
const UNTRUSTED_CODES: readonly string[] = [
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
];

/** The same failures in OpenSSL's words (X509_verify_cert_error_string), as they reach an error message. */
const UNTRUSTED_TEXTS: readonly RegExp[] = [
  /unable to verify the first certificate/i,
  /self[- ]signed certificate/i,
  /unable to get (?:local )?issuer certificate/i,
  /certificate signature failure/i,
  /certificate has expired/i,
  /certificate is not yet valid/i,
];

export function isUntrustedCertificateCode(code: string | undefined): boolean {
  return code !== undefined && UNTRUSTED_CODES.includes(code);
}

/**
 * The OpenSSL reason when `error` (or an error it wraps: `transportError`, `cause`) is a trust failure,
 * else undefined.
 */
export function untrustedCertificateReason(error: unknown, depth = 0): string | undefined {
  if (depth > 3 || typeof error !== 'object' || error === null) return undefined;
  const e = error as { code?: unknown; message?: unknown; transportError?: unknown; cause?: unknown };
  if (typeof e.code === 'string' && isUntrustedCertificateCode(e.code)) return e.code;
  if (typeof e.message === 'string') {
    const match = UNTRUSTED_TEXTS.map((pattern) => pattern.exec(e.message as string)).find(Boolean);
    if (match) return match[0];
  }
  return (
    untrustedCertificateReason(e.transportError, depth + 1) ?? untrustedCertificateReason(e.cause, depth + 1)
  );
}

/** The sentence a user sees; `flag` is how the tool at hand takes a CA. */
export function untrustedCertificateMessage(hostName: string, reason: string, flag = '--ca <file>'): string {
  return (
    `the hub's certificate is not trusted (${reason}, from ${hostName}): pass ${flag} with the hub's CA ` +
    '(the local hub writes .local-hub/ca.pem; an --in-memory hub names its CA file in its banner)'
  );
}
