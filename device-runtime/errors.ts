/**
 * Typed errors of the device runtime, with predicate helpers (the balena-supervisor habit), and the one
 * redaction rule every log line and error message goes through: keys, signatures and tokens never appear.
 */
import { formatProblems, type Problem } from '../lib/problems';

export class RuntimeConfigError extends Error {
  constructor(readonly problems: readonly Problem[]) {
    super(`invalid device runtime configuration:\n${formatProblems(problems)}`);
    this.name = 'RuntimeConfigError';
  }
}

export function isRuntimeConfigError(error: unknown): error is RuntimeConfigError {
  return error instanceof RuntimeConfigError;
}

/** An SDK twin/connection operation that never called back (the SDK keeps no timer for lost replies). */
export class OperationTimeoutError extends Error {
  constructor(
    readonly operation: string,
    readonly timeoutMs: number,
  ) {
    super(`${operation} did not complete within ${timeoutMs} ms`);
    this.name = 'OperationTimeoutError';
  }
}

export function isOperationTimeoutError(error: unknown): error is OperationTimeoutError {
  return error instanceof OperationTimeoutError;
}

/** The operation's client was closed (replaced or stopped) before it answered. */
export class ConnectionClosedError extends Error {
  constructor() {
    super('the connection was closed before the operation completed');
    this.name = 'ConnectionClosedError';
  }
}

/** A twin request answered with an error body (`{"errorCode":..,"message":..}`, docs/iot-hub-behaviour.md §3.3). */
export class TwinRequestError extends Error {
  constructor(
    readonly operation: string,
    cause: unknown,
  ) {
    super(`${operation} failed: ${describeError(cause)}`);
    this.name = 'TwinRequestError';
  }
}

export function isTwinRequestError(error: unknown): error is TwinRequestError {
  return error instanceof TwinRequestError;
}

const SECRET_PATTERNS: readonly [RegExp, string][] = [
  [/(SharedAccessKey=)[^;\s"']*/gi, '$1<redacted>'],
  [/(SharedAccessSignature\s+)[^;"'\n]*/gi, '$1<redacted>'],
  [/([?&\s]sig=)[^&\s"';]*/gi, '$1<redacted>'],
];

/** Removes keys, SAS signatures and tokens from a text (an SDK error may quote a connection string). */
export function redactSecrets(text: string): string {
  return SECRET_PATTERNS.reduce(
    (result, [pattern, replacement]) => result.replace(pattern, replacement),
    text,
  );
}

/** A one-line, redacted description of anything thrown. */
export function describeError(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return redactSecrets(text);
}

/** Rejects with OperationTimeoutError if `work` has not settled in time; a late settlement is ignored. */
export function withTimeout<T>(operation: string, timeoutMs: number, work: Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new OperationTimeoutError(operation, timeoutMs)), timeoutMs);
    work.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
