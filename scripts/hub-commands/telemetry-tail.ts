/**
 * `npm run hub -- telemetry tail [<deviceId> [<moduleId>]] [--count <n>] [--only-new]`: follows the
 * local hub's telemetry window (lib/telemetry-tail.ts has the contract) by long-polling, one line per
 * message (NDJSON with --json), until the signal aborts it or `--count` messages were printed.
 *
 * The service SDK has no call for this endpoint (it is the local hub's own), so the request is signed
 * here with the same service SAS the SDK would send (lib/sas-token.ts).
 */
import * as https from 'node:https';
import * as tls from 'node:tls';
import { splitHostPort } from '../../lib/connection-string';
import { HUB_EXIT, type HubCommandAction, type HubCommandRequest } from '../../lib/hub-command-args';
import { explainHubFailure, hubErrorCode } from '../../lib/hub-command-errors';
import { createSasToken, encodeUriComponentStrict } from '../../lib/sas-token';
import {
  formatTelemetryLine,
  parseTelemetryPage,
  TELEMETRY_MAX_WAIT_MS,
  type TelemetryPage,
  telemetryRequestPath,
} from '../../lib/telemetry-tail';
import { failureFacts, type HubTarget } from './hub-target';
import type { CommandIo } from './registry-commands';

type TailAction = Extract<HubCommandAction, { command: 'telemetry tail' }>;

/** The hub holds a long poll for waitMs; this much more covers a slow answer before calling it lost. */
const ANSWER_GRACE_MS = 15_000;

class TailFailure extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

export async function runTelemetryTail(
  action: TailAction,
  request: HubCommandRequest,
  hub: HubTarget,
  io: CommandIo,
  signal: AbortSignal,
): Promise<number> {
  const context = {
    hostName: hub.hostName,
    localDefault: hub.localDefault,
    ...(action.deviceId === undefined ? {} : { deviceId: action.deviceId }),
  };
  const filter = {
    ...(action.deviceId === undefined ? {} : { deviceId: action.deviceId }),
    ...(action.moduleId === undefined ? {} : { moduleId: action.moduleId }),
  };
  let printed = 0;
  try {
    let after: number | undefined;
    if (action.onlyNew) after = (await fetchPage(hub, { ...filter, waitMs: 0 }, signal)).next;
    while (!signal.aborted) {
      const page = await fetchPage(
        hub,
        { ...filter, ...(after === undefined ? {} : { after }), waitMs: TELEMETRY_MAX_WAIT_MS },
        signal,
      );
      for (const message of page.messages) {
        io.out(request.json ? JSON.stringify(message) : formatTelemetryLine(message));
        printed += 1;
        if (action.count !== undefined && printed >= action.count) return HUB_EXIT.ok;
      }
      after = page.next;
    }
    return HUB_EXIT.ok;
  } catch (error) {
    if (signal.aborted) return HUB_EXIT.ok;
    if (error instanceof TailFailure) {
      io.err(`telemetry tail: ${error.message}`);
      return error.exitCode;
    }
    io.err(`telemetry tail: ${explainHubFailure(failureFacts(error), context).message}`);
    return explainHubFailure(failureFacts(error), context).exitCode;
  }
}

function fetchPage(
  hub: HubTarget,
  query: Parameters<typeof telemetryRequestPath>[0],
  signal: AbortSignal,
): Promise<TelemetryPage> {
  const { host, port } = splitHostPort(hub.hostName);
  const token = createSasToken({
    sr: encodeUriComponentStrict(hub.hostName),
    base64Key: hub.policyKey,
    keyName: hub.policyName,
    expiresAt: Math.floor(Date.now() / 1000) + 3600,
  });
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host,
        port: port ?? 443,
        method: 'GET',
        path: telemetryRequestPath(query),
        headers: { Authorization: token, Accept: 'application/json' },
        // `ca` replaces Node's roots, so they are listed alongside the extra CA (as iothub-client.ts does).
        ...(hub.caPem === undefined ? {} : { ca: [...tls.rootCertificates, hub.caPem] }),
        signal,
        timeout: (query.waitMs ?? 0) + ANSWER_GRACE_MS,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
          if (status === 200) {
            const page = parseTelemetryPage(text);
            if ('problem' in page)
              reject(new TailFailure(`${page.problem} (from ${hub.hostName})`, HUB_EXIT.failed));
            else resolve(page);
            return;
          }
          reject(answerFailure(hub, status, text, query));
        });
      },
    );
    req.on('timeout', () =>
      req.destroy(
        new TailFailure(
          `no answer from ${hub.hostName} within ${(query.waitMs ?? 0) + ANSWER_GRACE_MS} ms`,
          HUB_EXIT.failed,
        ),
      ),
    );
    req.on('error', reject);
    req.end();
  });
}

function answerFailure(
  hub: HubTarget,
  status: number,
  body: string,
  query: Parameters<typeof telemetryRequestPath>[0],
): Error {
  const code = hubErrorCode(body);
  if (status === 404 && code !== 'DeviceNotFound' && code !== 'ModuleNotFound') {
    return new TailFailure(
      `${hub.hostName} has no telemetry window (404 on /local-hub/telemetry): telemetry tail reads the local ` +
        "hub's window; on Azure use the Event Hub-compatible endpoint (e.g. `az iot hub monitor-events`)",
      HUB_EXIT.failed,
    );
  }
  const target =
    query.moduleId !== undefined
      ? `module "${query.moduleId}" of device "${query.deviceId}"`
      : query.deviceId !== undefined
        ? `device "${query.deviceId}"`
        : undefined;
  const failure = explainHubFailure(
    { statusCode: status, responseBody: body, message: body.slice(0, 300) },
    {
      hostName: hub.hostName,
      localDefault: hub.localDefault,
      ...(target === undefined ? {} : { target }),
      ...(query.deviceId === undefined ? {} : { deviceId: query.deviceId }),
    },
  );
  return new TailFailure(failure.message, failure.exitCode);
}
