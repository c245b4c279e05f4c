/**
 * Which `host[:port]` strings name this hub, and which address clients should dial.
 *
 * Both SAS `sr` values (service tokens carry the raw HostName, device tokens the encoded resource URI,
 * docs/iot-hub-behaviour.md §1.5) and MQTT user names (§3.1) must name this hub. With one address for everything the
 * host usually carries the hub's port; third-party tools on the standard ports send a bare name, and
 * the §4 variant (`host: 'localhost'` plus an injected port) signs `sr=localhost`: both are accepted.
 */
import { isIP, type Server } from 'node:net';
import { splitHostPort } from '../../lib/connection-string';
import { bareHost, type SubjectAltName } from '../tls/subject-alt-names';

/** True when `host` (optionally `:port`) is one of `names` and the port, if any, is one we listen on. */
export function createHostNameMatcher(
  names: readonly SubjectAltName[],
  listeningPorts: () => Iterable<number>,
): (host: string) => boolean {
  const known = new Set(names.map((name) => name.value.toLowerCase()));
  return (host: string) => {
    let parsed: { host: string; port?: number };
    try {
      parsed = splitHostPort(host);
    } catch {
      return false;
    }
    if (!known.has(bareHost(parsed.host).toLowerCase())) return false;
    return parsed.port === undefined || [...listeningPorts()].includes(parsed.port);
  };
}

/** The address clients dial: a wildcard bind is reached on loopback; IPv6 literals get brackets. */
export function dialHost(bindAddress: string): string {
  const host = bindAddress === '0.0.0.0' || bindAddress === '::' ? '127.0.0.1' : bindAddress;
  return isIP(host) === 6 ? `[${host}]` : host;
}

/** `server.listen(port, host)` as a promise; rejects with a message that says what to change. */
export function listenOn(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      reject(new Error(listenErrorMessage(error, port, host), { cause: error }));
    };
    const onListening = () => {
      server.off('error', onError);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}

function listenErrorMessage(error: NodeJS.ErrnoException, port: number, host: string): string {
  const where = `${host}:${port}`;
  switch (error.code) {
    case 'EADDRINUSE':
      return `Port ${port} on ${host} is already in use; stop the other process or choose another --port (0 = any free port)`;
    case 'EACCES':
      return (
        `Not allowed to listen on ${where}: ports below 1024 need privileges (e.g. CAP_NET_BIND_SERVICE); ` +
        'choose a port >= 1024 or run without --standard-ports'
      );
    case 'EADDRNOTAVAIL':
      return `Cannot bind ${host}: it is not an address of this machine; use 127.0.0.1, 0.0.0.0 or a local interface address`;
    default:
      return `Cannot listen on ${where}: ${error.message}`;
  }
}
