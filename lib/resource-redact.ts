/**
 * Removes secrets from text before it becomes an error message or a log line (docs/architecture.md:
 * "keys, tokens and connection strings never appear in logs or error messages"). Provider errors
 * carry the hub's own message, which we do not control, so everything is passed through here.
 */

const PATTERNS: readonly [RegExp, string][] = [
  // A whole SAS token (service or device form, docs/iot-hub-behaviour.md §1.5).
  [/SharedAccessSignature\s+[^\s"',;]+/gi, 'SharedAccessSignature <redacted>'],
  [/\b(sig)=[^&\s"',;]+/gi, '$1=<redacted>'],
  // Connection string key fields.
  [/\b(SharedAccessKey)=[^;\s"']*/gi, '$1=<redacted>'],
  // Identity JSON echoed back in a message.
  [/("(?:primaryKey|secondaryKey)"\s*:\s*)"[^"]*"/g, '$1"<redacted>"'],
];

/** Every known secret pattern replaced, and every exact `secrets` value (longer than 3 chars) too. */
export function redactSecrets(text: string, secrets: readonly (string | undefined | null)[] = []): string {
  let result = text;
  for (const secret of secrets) {
    if (typeof secret === 'string' && secret.length > 3) result = result.split(secret).join('<redacted>');
  }
  for (const [pattern, replacement] of PATTERNS) result = result.replace(pattern, replacement);
  return result;
}
