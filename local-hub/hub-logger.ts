/**
 * The hub's one-line-per-event logger. Every line passes through `redactSecrets`, because a
 * logged header, connection string or identity body would otherwise leak keys (working agreement:
 * keys, tokens and connection strings never appear in logs).
 */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
type Fields = Record<string, unknown>;

export interface HubLogger {
  debug(msg: string, fields?: Fields): void;
  info(msg: string, fields?: Fields): void;
  warn(msg: string, fields?: Fields): void;
  error(msg: string, fields?: Fields): void;
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };
const REDACTED = '<redacted>';

// Each rule keeps the name (so the line stays readable) and replaces only the secret value.
const SECRET_PATTERNS: readonly RegExp[] = [
  // A whole SAS token: the signature is the secret, but sr/se/skn are harmless only together with it.
  /(SharedAccessSignature\s+)[^"',;\s]+/gi,
  /(\bsig=)[^&"',;\s]+/gi,
  /(\bSharedAccessKey=)[^;"'\s]+/gi,
  /("(?:primaryKey|secondaryKey)"\s*:\s*")[^"]*/gi,
  /(\b(?:primaryKey|secondaryKey)\s*[:=]\s*'?)[^'",;}\s]+/gi,
];

/** Replaces SAS tokens/signatures, `SharedAccessKey=` values and primary/secondary key values. */
export function redactSecrets(text: string): string {
  let out = text;
  for (const pattern of SECRET_PATTERNS) out = out.replace(pattern, `$1${REDACTED}`);
  return out;
}

function renderFields(fields: Fields | undefined): string {
  if (!fields) return '';
  const parts: string[] = [];
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    const text = typeof value === 'string' ? value : safeJson(value);
    parts.push(`${key}=${/[\s"=]/.test(text) ? JSON.stringify(text) : text}`);
  }
  return parts.length > 0 ? ` ${parts.join(' ')}` : '';
}

function safeJson(value: unknown): string {
  if (value instanceof Error) return value.message;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

export function createHubLogger(o: { level: LogLevel; write?: (line: string) => void }): HubLogger {
  const threshold = RANK[o.level];
  const write = o.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const emit = (level: Exclude<LogLevel, 'silent'>, msg: string, fields?: Fields) => {
    if (RANK[level] < threshold) return;
    const line = `${new Date().toISOString()} ${level.toUpperCase()} ${msg}${renderFields(fields)}`;
    // One line per call: embedded newlines would let input forge extra log lines.
    write(redactSecrets(line.replace(/[\r\n]+/g, ' ')));
  };
  return {
    debug: (msg, fields) => emit('debug', msg, fields),
    info: (msg, fields) => emit('info', msg, fields),
    warn: (msg, fields) => emit('warn', msg, fields),
    error: (msg, fields) => emit('error', msg, fields),
  };
}
