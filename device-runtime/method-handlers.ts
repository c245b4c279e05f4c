/**
 * Handlers for direct methods, as a typed table like the desired-property handlers: method name ->
 * { validate, invoke }. The dispatcher turns every outcome into an answer the hub forwards to the caller
 * (docs/iot-hub-behaviour.md §8.1: `{status, payload}`), so a handler can never crash the runtime:
 *
 * | outcome                                  | status | payload                                         |
 * | ---------------------------------------- | ------ | ----------------------------------------------- |
 * | no handler for the name                  | 501    | `{error: "NotImplemented", message, methods}`   |
 * | `validate` returned a message            | 400    | `{error: "InvalidPayload", message}`            |
 * | `invoke` returned / resolved             | 200 or the `status` it gave, with its `payload` |
 * | `invoke` threw a MethodError             | its status | `{error: its code, message}`                |
 * | `invoke` threw anything else, or gave a status outside 200..599 | 500 | `{error: "HandlerFailed", message}` |
 *
 * Messages go through the runtime's redaction (errors.ts), since a caller sees them.
 */
import type { JsonValue } from '../lib/json-types';
import { describeError, redactSecrets } from './errors';

export interface MethodCall {
  name: string;
  /** The hub's request id (hexadecimal). */
  requestId: string;
}

/** What a handler returns: `status` defaults to 200, `payload` to `null`. */
export interface MethodResult {
  status?: number;
  payload?: JsonValue;
}

export interface MethodAnswer {
  status: number;
  payload: JsonValue;
}

export interface MethodHandler<P extends JsonValue = JsonValue> {
  /** One line for `npm run device -- --help`-style listings and the 501 answer. */
  description?: string;
  /** Pure: `undefined` when the payload is acceptable (it is then a `P`), else the message answered with 400. */
  validate?(payload: JsonValue): string | undefined;
  /** Runs the method. A MethodError sets the status; any other throw is answered with 500. */
  invoke(payload: P, call: MethodCall): MethodResult | undefined | Promise<MethodResult | undefined>;
}

export type MethodHandlers = Readonly<Record<string, MethodHandler<any>>>;

/** Keeps the payload type of a handler while checking it against MethodHandler. */
export function defineMethod<P extends JsonValue>(handler: MethodHandler<P>): MethodHandler<P> {
  return handler;
}

/** A failure with a status chosen by the handler (e.g. 409 busy, 404 unknown item). */
export class MethodError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code = 'MethodFailed',
  ) {
    super(message);
    this.name = 'MethodError';
  }
}

export function isMethodError(error: unknown): error is MethodError {
  return error instanceof MethodError;
}

const STATUS_RANGE = { min: 200, max: 599 } as const;

function validStatus(status: unknown): status is number {
  return (
    Number.isInteger(status) &&
    (status as number) >= STATUS_RANGE.min &&
    (status as number) <= STATUS_RANGE.max
  );
}

function failure(status: number, error: string, message: string, extra: Record<string, JsonValue> = {}) {
  return { status, payload: { error, message: redactSecrets(message), ...extra } };
}

/** The answer to a method nobody handles: 501, naming the methods that exist. */
export function notImplementedAnswer(name: string, handlers: MethodHandlers): MethodAnswer {
  const methods = Object.keys(handlers).sort();
  return failure(
    501,
    'NotImplemented',
    `method "${name}" is not implemented by this module; it implements: ${methods.join(', ') || '(none)'}`,
    { method: name, methods },
  );
}

/** Runs the handler for `call` (or answers 501) and never rejects. */
export async function dispatchMethod(
  handlers: MethodHandlers,
  call: MethodCall,
  payload: JsonValue,
): Promise<MethodAnswer> {
  const handler = Object.hasOwn(handlers, call.name) ? handlers[call.name] : undefined;
  if (!handler) return notImplementedAnswer(call.name, handlers);
  try {
    const invalid = handler.validate?.(payload);
    if (invalid !== undefined) return failure(400, 'InvalidPayload', invalid, { method: call.name });
    const result = await handler.invoke(payload, call);
    const status = result?.status ?? 200;
    if (!validStatus(status)) {
      return failure(
        500,
        'HandlerFailed',
        `method "${call.name}" answered status ${JSON.stringify(status)}; a status is an integer from ${STATUS_RANGE.min} to ${STATUS_RANGE.max}`,
      );
    }
    return { status, payload: result?.payload ?? null };
  } catch (error) {
    if (isMethodError(error) && validStatus(error.status)) {
      return failure(error.status, error.code, error.message);
    }
    return failure(500, 'HandlerFailed', `method "${call.name}" failed: ${describeError(error)}`);
  }
}
