/**
 * The device side of twins over MQTT: GET the twin and PATCH reported properties (docs/iot-hub-behaviour.md §3.2,
 * §3.3). Each request yields exactly one reply for the requesting connection.
 *
 * Status sets per docs/iot-hub-behaviour.md §3.3: GET 200 / 429 / 5xx; reported PATCH 204 (`&$version=<new>` in
 * the topic) / 400 (malformed) / 429 / 5xx. Error bodies are `{"errorCode":<numeric>,"message":"…"}`: the SDK
 * ignores the status in the topic and fails a request only when the body has `errorCode` (§0.7, §3.3).
 */

import { isHubError } from '../errors';
import type { DeviceFacingHubState } from '../hub-state';
import { assertJsonNesting } from '../json-nesting';
import { type IdentityRef, twinResponseTopic } from './iothub-topics';

export interface TwinReply {
  topic: string;
  payload: string;
  /** For the log line: the status the reply carries. */
  status: number;
}

export function handleTwinGet(state: DeviceFacingHubState, identity: IdentityRef, rid: string): TwinReply {
  try {
    const twin = state.getDeviceFacingTwin(identity.deviceId, identity.moduleId);
    // §3.3: `{desired, reported}` without a `properties` wrapper.
    return { topic: twinResponseTopic(200, rid), payload: JSON.stringify(twin), status: 200 };
  } catch (error) {
    return errorReply(rid, error);
  }
}

/**
 * The reply goes to `send` once the patch is committed (with the others of its turn, reported-batch.ts),
 * never before: a 204 announces a write that survives the hub being killed. A payload that is not JSON,
 * or nested too deeply, is answered at once.
 */
export function handleTwinPatchReported(
  state: DeviceFacingHubState,
  identity: IdentityRef,
  rid: string,
  payload: Buffer,
  send: (reply: TwinReply) => void,
): void {
  let patch: unknown;
  try {
    patch = JSON.parse(payload.toString('utf8'));
  } catch {
    send(reply(rid, 400, 400004, 'The reported properties patch is not valid JSON; expected a JSON object'));
    return;
  }
  try {
    assertJsonNesting(patch);
  } catch (error) {
    send(errorReply(rid, error));
    return;
  }
  try {
    state.queueReported(identity.deviceId, identity.moduleId, patch, (outcome) =>
      send(
        'version' in outcome
          ? { topic: twinResponseTopic(204, rid, outcome.version), payload: '', status: 204 }
          : errorReply(rid, outcome.error),
      ),
    );
  } catch (error) {
    send(errorReply(rid, error));
  }
}

function errorReply(rid: string, error: unknown): TwinReply {
  if (isHubError(error)) return reply(rid, error.status, error.numericCode, error.message);
  return reply(rid, 500, 500001, 'The hub failed to process the twin request');
}

function reply(rid: string, status: number, errorCode: number, message: string): TwinReply {
  return { topic: twinResponseTopic(status, rid), payload: JSON.stringify({ errorCode, message }), status };
}
