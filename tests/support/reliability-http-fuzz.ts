/**
 * The HTTP half of the fuzz suite. Two kinds of malformed requests, both from a seeded Random:
 *  - well-framed HTTP over keep-alive with hostile content: bad JSON, invalid UTF-8, deep nesting,
 *    huge bodies, wrong methods, unknown routes, bad percent-encoding, odd headers and tokens;
 *  - mutated raw bytes on a fresh TLS connection (broken request lines, smuggling-style framing,
 *    oversize headers), which the official clients could never send.
 * Each answer is checked as it arrives: never a 5xx, errors in the legacy IoT Hub shape (docs/iot-hub-behaviour.md
 * §1.4), and no key in any refusal.
 */
import { type MqttEndpoint, RawMqttSession } from './raw-mqtt';
import { deeplyNestedJson, mutateBytes, randomJsonValue, spliceBadUtf8 } from './reliability-mutations';
import type { Random } from './reliability-random';
import {
  type RestCaller,
  type RestReply,
  type RestRequest,
  serviceToken,
  wellKnownPolicy,
} from './reliability-rest';

const METHODS = ['GET', 'PUT', 'PATCH', 'POST', 'DELETE', 'HEAD', 'OPTIONS', 'PROPFIND', 'PURGE'];
const HOSTILE_IDS = [
  '%ZZ',
  '%',
  '..',
  '.',
  'a%2Fb',
  'x'.repeat(300),
  '%00',
  '%C0%AF',
  '%ED%A0%80',
  'd%201',
  '__proto__',
  '$',
  '%E2%80%AE',
];

export interface HttpFuzzStats {
  /** Requests sent (well-framed and raw). */
  sent: number;
  /** Answers by status class, e.g. `{"4xx": 900}`. */
  byClass: Record<string, number>;
  /** Requests whose pooled connection was closed under them, answered on a fresh one. */
  retriedOnFreshConnection: number;
  /** Raw connections the hub closed without answering (parser-level refusals count here). */
  closedWithoutAnswer: number;
  /** Raw connections neither answered nor closed within the bound. */
  stalled: number;
  /** Everything wrong with an answer (5xx, bad error shape, a key in it), each with its request. */
  problems: string[];
}

export const emptyHttpStats = (): HttpFuzzStats => ({
  sent: 0,
  byClass: {},
  retriedOnFreshConnection: 0,
  closedWithoutAnswer: 0,
  stalled: 0,
  problems: [],
});

function randomPath(random: Random, knownDevices: readonly string[]): string {
  const id = (): string =>
    random.chance(0.4)
      ? random.pick(knownDevices)
      : random.chance(0.5)
        ? random.pick(HOSTILE_IDS)
        : `fz${random.int(50)}`;
  const templates = [
    () => `/devices/${id()}`,
    () => `/devices/${id()}/modules/${id()}`,
    () => `/devices/${id()}/modules`,
    () => `/twins/${id()}`,
    () => `/twins/${id()}/modules/${id()}`,
    () => '/devices',
    () => '/devices/query',
    () => '/statistics/devices',
    () => `/${random.pick(['jobs', 'configurations', 'messages', '', 'DEVICES', 'twins'])}/${id()}/${id()}`,
    () => `//devices/${id()}//`,
    () => `/devices/${id()}?top=${random.pick(['-1', '0', '1e9', 'x', '1001'])}`,
    () => random.pick(['*', 'devices', 'http://evil.example/devices']),
  ];
  const path = random.pick(templates)();
  const version = random.pick([
    'api-version=2021-04-12',
    'api-version=2021-04-12',
    'api-version=',
    'api-version=%ZZ',
    '',
  ]);
  return version === '' ? path : `${path}${path.includes('?') ? '&' : '?'}${version}`;
}

function randomBody(random: Random): Buffer | string | undefined {
  switch (random.int(10)) {
    case 0:
      return undefined;
    case 1:
      return mutateBytes(
        random,
        Buffer.from(JSON.stringify({ deviceId: 'x', properties: { desired: { a: 1 } } })),
      );
    case 2:
      return spliceBadUtf8(random, JSON.stringify(randomJsonValue(random, 3)));
    case 3:
      return deeplyNestedJson(random.pick([65, 1000, 100_000]), random.chance(0.5) ? 'array' : 'object');
    case 4:
      // Huge: past the 256 KB body limit, occasionally (each costs a megabyte of traffic).
      return random.chance(0.15) ? Buffer.alloc(random.pick([300_000, 1_100_000]), 0x20) : '{}';
    case 5:
      return random.pick([
        '',
        ' ',
        'null',
        '[]',
        '"str"',
        '{"query":"SELECT * FROM devices WHERE"}',
        '{"a":1}{"b":2}',
        '\ufeff{}',
      ]);
    default:
      return JSON.stringify(randomJsonValue(random, 4)) ?? 'null';
  }
}

function randomHeaders(
  random: Random,
  hostName: string,
): { headers: Record<string, string>; authorization: string | null } {
  const headers: Record<string, string> = {};
  if (random.chance(0.8)) {
    headers['content-type'] = random.pick([
      'application/json; charset=utf-8',
      'application/json',
      'text/plain',
      'application/json; charset=utf-16',
      'application/x-www-form-urlencoded',
      '',
    ]);
  }
  if (random.chance(0.2))
    headers['if-match'] = random.pick(['"*"', '*', '"AAAAAAAAAAE="', 'W/"x"', '""', '"']);
  if (random.chance(0.1)) headers['x-ms-max-item-count'] = random.pick(['0', '-5', 'abc', '1e99', '10001']);
  if (random.chance(0.1))
    headers['x-ms-continuation'] = random.pick(['', '%%%', 'eyJ4IjoxfQ==', 'A'.repeat(2000)]);
  const owner = wellKnownPolicy('iothubowner');
  const authorization = random.chance(0.7)
    ? serviceToken(hostName, owner)
    : random.pick([
        null,
        'SharedAccessSignature',
        'Bearer abc',
        `SharedAccessSignature sr=${hostName}&sig=%ZZ&se=1&skn=iothubowner`,
      ]);
  return { headers, authorization };
}

export function randomHttpRequest(
  random: Random,
  hostName: string,
  knownDevices: readonly string[],
): RestRequest {
  const body = randomBody(random);
  const { headers, authorization } = randomHeaders(random, hostName);
  return {
    method: random.pick(METHODS),
    path: randomPath(random, knownDevices),
    headers,
    body,
    authorization,
  };
}

/** What must hold for every answer the hub gives, whatever was sent. */
export function checkAnswer(status: number, text: string, secrets: readonly string[]): string | undefined {
  if (status >= 500) return `status ${status}: ${text.slice(0, 200)}`;
  // Success answers may rightly carry keys (an owner reading a device); refusals never may.
  const leaked = status >= 300 && secrets.find((secret) => text.includes(secret));
  if (leaked) return `status ${status}: the answer contains a key`;
  if (status >= 400 && text !== '') {
    try {
      const body = JSON.parse(text) as { Message?: unknown };
      if (typeof body.Message !== 'string' || !body.Message.startsWith('ErrorCode:')) {
        return `status ${status}: error body is not the legacy IoT Hub shape: ${text.slice(0, 200)}`;
      }
    } catch {
      return `status ${status}: error body is not JSON: ${text.slice(0, 200)}`;
    }
  }
  return undefined;
}

function record(stats: HttpFuzzStats, reply: RestReply, what: string, secrets: readonly string[]): void {
  const cls = `${Math.floor(reply.status / 100)}xx`;
  stats.byClass[cls] = (stats.byClass[cls] ?? 0) + 1;
  const problem = checkAnswer(reply.status, reply.text, secrets);
  if (problem && stats.problems.length < 20) stats.problems.push(`${what} -> ${problem}`);
}

/** `count` well-framed hostile requests over the caller's keep-alive connections, `parallel` at a time. */
export async function fuzzWellFramed(
  random: Random,
  caller: RestCaller,
  o: {
    hostName: string;
    knownDevices: readonly string[];
    secrets: readonly string[];
    count: number;
    parallel: number;
  },
  stats: HttpFuzzStats,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < o.count) {
      next++;
      const request = randomHttpRequest(random, o.hostName, o.knownDevices);
      stats.sent++;
      const what = describeRequest(request);
      try {
        record(stats, await caller.request(request), what, o.secrets);
      } catch {
        // Node's HTTP server closes a keep-alive connection after a request whose body the handler
        // did not read (e.g. a GET with a body), so the next request on it is lost: that is the
        // server's right. The same request on a connection of its own must get an answer.
        stats.retriedOnFreshConnection++;
        try {
          record(stats, await caller.request({ ...request, fresh: true }), what, o.secrets);
        } catch (error) {
          if (stats.problems.length < 20)
            stats.problems.push(`${what} -> no answer: ${(error as Error).message}`);
        }
      }
    }
  };
  await Promise.all(Array.from({ length: o.parallel }, worker));
}

function describeRequest(r: RestRequest): string {
  const body = r.body === undefined ? 'no body' : `${Buffer.byteLength(r.body as string | Buffer)}-byte body`;
  const type = r.headers?.['content-type'];
  return `${r.method} ${r.path.slice(0, 100)} (${body}${type === undefined ? '' : `, content-type ${JSON.stringify(type)}`})`;
}

const RAW_TEMPLATES = [
  (host: string, auth: string) =>
    `PUT /devices/raw1?api-version=2021-04-12 HTTP/1.1\r\nHost: ${host}\r\nAuthorization: ${auth}\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}`,
  (host: string, auth: string) =>
    `GET /twins/raw1?api-version=2021-04-12 HTTP/1.1\r\nHost: ${host}\r\nAuthorization: ${auth}\r\n\r\n`,
  (host: string) =>
    `POST /devices/query?api-version=2021-04-12 HTTP/1.1\r\nHost: ${host}\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n5\r\nhello\r\n0\r\n\r\n`,
  (host: string) => `GET /devices HTTP/1.1\r\nHost: ${host}\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
  (host: string) =>
    `PATCH /twins/x?api-version=2021-04-12 HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 99999999999\r\n\r\n{`,
  () => 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n',
  () => 'GET /\n\n',
  (host: string) => `GET /devices\u0000?api-version=2021-04-12 HTTP/1.1\r\nHost: ${host}\r\n\r\n`,
  (host: string) => `GET /devices HTTP/1.1\r\nHost: ${host}\r\nFoo: bar\r\n baz\r\n\r\n`,
];

/** One mutated raw request on a fresh TLS connection, then end of stream; waits for the hub to close. */
export async function fuzzRawRequest(
  random: Random,
  hub: MqttEndpoint,
  secrets: readonly string[],
  stats: HttpFuzzStats,
): Promise<void> {
  const auth = serviceToken(hub.hostName, wellKnownPolicy('iothubowner'));
  const template = Buffer.from(random.pick(RAW_TEMPLATES)(hub.hostName, auth), 'latin1');
  const bytes = random.chance(0.2) ? template : mutateBytes(random, template);
  // The single port serves MQTT too (docs/iot-hub-behaviour.md §3.9): the raw session simply collects the bytes.
  const session = await RawMqttSession.open(hub);
  const chunks: Buffer[] = [];
  session.socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  session.write(bytes);
  stats.sent++;
  session.end();
  if (!(await session.waitClosed(10_000))) stats.stalled++;
  const text = Buffer.concat(chunks).toString('latin1');
  if (!/^HTTP\/1\.[01] \d{3}/.test(text)) {
    stats.closedWithoutAnswer++;
    return;
  }
  record(stats, firstResponse(text), `raw ${JSON.stringify(bytes.toString('latin1').slice(0, 60))}`, secrets);
}

/** Status and body of the first response in a raw byte stream (pipelined requests may add more). */
function firstResponse(text: string): RestReply {
  const status = Number(text.slice(9, 12));
  const headerEnd = text.indexOf('\r\n\r\n');
  if (headerEnd < 0) return { status, headers: {}, text: '' };
  const length = /\r\ncontent-length: *(\d+)/i.exec(text.slice(0, headerEnd));
  const body = text.slice(headerEnd + 4);
  return { status, headers: {}, text: length ? body.slice(0, Number(length[1])) : '' };
}
