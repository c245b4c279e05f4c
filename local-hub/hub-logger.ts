/**
 * The hub's one-line-per-event logger. Every line passes through `redactSecrets`, because a
 * logged header, connection string or identity body would otherwise leak keys (working agreement:
 * keys, tokens and connection strings never appear in logs).
 *
 * Client-supplied text (client ids, topics, user names, paths) reaches these lines, so every control
 * character is escaped (a terminal escape sequence in a client id must not repaint the operator's
 * terminal) and every value is cut to a bounded length (issue #10 items 9 and 10). How often clients
 * may cause a line is bounded separately, by `createLogBudget` (log-budget.ts).
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

/** A client id may be 64 KB; a log line shows this much of any one value and says how much was cut. */
export const MAX_LOG_FIELD_CHARS = 256;

/**
 * C0 and C1 controls, DEL, the Unicode line/paragraph separators and the bidi overrides/isolates: each
 * can forge a line, move the cursor, recolour or retitle a terminal, or make text read backwards.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const NAMED_ESCAPES: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** Every control character as visible text (`\u001b`, `\n`), so a line shows what was sent. */
export function escapeControlCharacters(text: string): string {
  return text.replace(
    CONTROL_CHARACTERS,
    (c) => NAMED_ESCAPES[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

function bounded(text: string): string {
  if (text.length <= MAX_LOG_FIELD_CHARS) return text;
  // Redact before cutting, so a cut can never leave the start of a secret that no longer matches.
  const head = redactSecrets(text).slice(0, MAX_LOG_FIELD_CHARS);
  return `${head}…(${text.length} characters, cut)`;
}

function renderFields(fields: Fields | undefined): string {
  if (!fields) return '';
  const parts: string[] = [];
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    const text = bounded(typeof value === 'string' ? value : safeJson(value));
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
    const line = `${new Date().toISOString()} ${level.toUpperCase()} ${bounded(msg)}${renderFields(fields)}`;
    // One line per call: an embedded newline would let input forge extra log lines, and other
    // controls would reach the operator's terminal; all of them are shown escaped instead.
    write(escapeControlCharacters(redactSecrets(line)));
  };
  return {
    debug: (msg, fields) => emit('debug', msg, fields),
    info: (msg, fields) => emit('info', msg, fields),
    warn: (msg, fields) => emit('warn', msg, fields),
    error: (msg, fields) => emit('error', msg, fields),
  };
}
