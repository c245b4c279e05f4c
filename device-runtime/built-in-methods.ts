/**
 * The direct methods every module runtime answers, so `npm run invoke-method` has something to call on a
 * fresh module: `ping` (is the module there, and which connection is it on) and `getState` (the desired
 * `$version` reconciled last and the values running). Both are read-only.
 */
import type { JsonObject } from '../lib/json-types';
import { defineMethod, type MethodHandlers } from './method-handlers';

export interface RuntimeView {
  current: { version: number | undefined; applied: JsonObject; connected: boolean };
  telemetryIntervalSeconds: number;
}

export function builtInMethods(view: () => RuntimeView | undefined): MethodHandlers {
  return {
    ping: defineMethod({
      description: 'answers {"pong": true, "at": <ISO time>}; any payload is echoed back as "echo"',
      invoke: (payload) => ({ payload: { pong: true, at: new Date().toISOString(), echo: payload } }),
    }),
    getState: defineMethod({
      description: 'the desired $version reconciled last, the values running and the telemetry interval',
      invoke: () => {
        const runtime = view();
        return {
          payload: {
            desiredVersion: runtime?.current.version ?? null,
            applied: runtime?.current.applied ?? {},
            telemetryIntervalSeconds: runtime?.telemetryIntervalSeconds ?? null,
          },
        };
      },
    }),
  };
}
