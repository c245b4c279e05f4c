/**
 * Answers lost on the way back: the request reaches the hub, which acts on it, but the client sees the
 * connection drop instead of the answer ("socket hang up", ECONNRESET), as after a network failure or a
 * proxy that timed out. Applies to this process's `https.request`, which the providers' client looks up
 * per request (dynamic-providers/iothub-client.ts), so the real SDK error path and the real hub are used.
 */
import type { ClientRequest, IncomingMessage } from 'node:http';
import type { RequestOptions } from 'node:https';

const https: typeof import('node:https') = require('node:https');

export interface LostAnswers {
  /** How many answers were lost so far. */
  lost(): number;
  /** Puts the real `https.request` back. Call it in a `finally` (or `t.after`). */
  restore(): void;
}

/**
 * Loses the answers to the first `count` requests for which `matches(method, path)` holds; every other
 * request goes through untouched.
 */
export function loseAnswers(matches: (method: string, path: string) => boolean, count = 1): LostAnswers {
  const original = https.request;
  let lost = 0;
  const patched = ((options: RequestOptions, callback?: (res: IncomingMessage) => void) => {
    if (lost >= count || !matches(options.method ?? 'GET', options.path ?? '/')) {
      return original(options, callback);
    }
    lost += 1;
    // The callback never sees the answer: it is read to the end (the hub has acted), then the request
    // fails as if the connection had broken before it arrived.
    const request: ClientRequest = original(options);
    request.once('response', (response) => {
      response.on('error', () => undefined);
      response.resume();
      response.once('end', () => {
        request.emit('error', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
      });
    });
    return request;
  }) as typeof https.request;
  https.request = patched;
  return {
    lost: () => lost,
    restore: () => {
      if (https.request === patched) https.request = original;
    },
  };
}
