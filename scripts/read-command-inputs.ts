/**
 * Reading what a command's flags point at (a connection string file, a CA, a payload), shared by
 * `npm run invoke-method` and `npm run hub -- <command>`: every problem is collected with the flag that
 * named the file, so a user sees them all at once; nothing read is ever echoed (it may be a secret).
 */
import { readFileSync } from 'node:fs';
import type { ConnectionStringSource } from '../lib/invoke-method-args';
import type { Problem } from '../lib/problems';

export function readText(file: string, origin: string, problems: Problem[]): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? String(error);
    problems.push({ path: origin, message: `cannot read ${file} (${reason})` });
    return undefined;
  }
}

/** The connection string from the environment, or the first non-empty line of its file. */
export function readConnectionString(
  source: ConnectionStringSource,
  problems: Problem[],
): string | undefined {
  if (source.kind === 'env') return source.value.trim();
  const text = readText(source.path, source.origin, problems);
  const line = text
    ?.split(/\r?\n/)
    .find((l) => l.trim() !== '')
    ?.trim();
  if (text !== undefined && !line) {
    problems.push({
      path: source.origin,
      message: `${source.path} is empty; expected a service connection string`,
    });
  }
  return line;
}
