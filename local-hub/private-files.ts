/**
 * The hub's data directory holds every device key (hub.sqlite and its WAL) and the CA key, so it and
 * every file in it are private to the user: directory 0700, files 0600, whatever the umask (issue #10
 * item 11). A directory an older hub left group- or world-readable is tightened at start. POSIX modes
 * only; on Windows they are not meaningful and chmod is a no-op for these bits.
 */
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';

export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/** Creates `dir` (and parents) if needed, then makes it and the files directly in it private. */
export function ensurePrivateDirectory(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  tighten(dir, PRIVATE_DIR_MODE);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isFile()) tighten(path.join(dir, entry.name), PRIVATE_FILE_MODE);
  }
}

/**
 * Creates an empty private file unless it exists. SQLite creates a database's WAL and shared-memory
 * files with the database file's own mode, so a database file created 0600 keeps all three private.
 */
export function ensurePrivateFile(file: string): void {
  if (!existsSync(file)) closeSync(openSync(file, 'a', PRIVATE_FILE_MODE));
  tighten(file, PRIVATE_FILE_MODE);
}

function tighten(target: string, mode: number): void {
  if (process.platform === 'win32') return;
  // Only ever remove bits: a file the user made stricter stays as it is.
  if ((statSync(target).mode & 0o777 & ~mode) !== 0) chmodSync(target, mode);
}
