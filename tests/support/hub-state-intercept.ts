/**
 * Another writer, or a failing hub, at an exact moment. The in-process local hub's REST handler calls
 * its store (`hub.state`) once per request, so wrapping one store method lets a test act just before the
 * real store answers a request (a concurrent change between a provider's read and its write), or make
 * the hub answer an error it would otherwise only give under load. The real store still decides
 * everything else (etags, 409s, 412s), and the client sees the real wire format.
 */
import type { HubError } from '../../local-hub/errors';
import type { LocalHub } from '../../local-hub/index';
import type { HubState } from '../../local-hub/store';

type StoreMethod = {
  [K in keyof HubState]: HubState[K] extends (...args: never[]) => unknown ? K : never;
}[keyof HubState];

/**
 * Replaces `hub.state[method]` with `replacement(original)` until the returned `restore` is called.
 * Restore in a `finally` (or `t.after`): the hub is shared by the tests of a file.
 */
export function interceptHubState<K extends StoreMethod>(
  hub: LocalHub,
  method: K,
  replacement: (original: HubState[K]) => HubState[K],
): () => void {
  const state = hub.state as unknown as Record<K, HubState[K]>;
  const original = state[method];
  state[method] = replacement(original);
  return () => {
    state[method] = original;
  };
}

/** A store method that always throws `error()` (a fresh HubError per request, as the hub makes them). */
export function failing(error: () => HubError): <F>(original: F) => F {
  return <F>(_original: F): F =>
    (() => {
      throw error();
    }) as F;
}
