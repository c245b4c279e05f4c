/**
 * MQTT over WebSockets (docs/iot-hub-behaviour.md §8.3): `GET /$iothub/websocket` with the subprotocol `mqtt`
 * on the hub's HTTPS listener upgrades into a WebSocket whose binary messages carry MQTT, handed to the
 * same broker as a plain MQTT connection, so the same CONNECT authentication and topic rules apply.
 * The SDKs' MqttWs transports dial `wss://<host>:443/$iothub/websocket` (port 443 always: with
 * `--standard-ports` the hub listens there too).
 *
 * The WebSocket protocol comes from `ws` (installed with the SDKs); its types are declared here, at the
 * boundary, because the package ships none. The stream handed to the broker answers
 * `getPeerCertificate()` and `remoteAddress` from the TLS socket underneath, so X.509 identities and
 * log lines work as on a direct connection.
 */
import type * as http from 'node:http';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { MAX_MQTT_PACKET_BYTES } from '../mqtt/mqtt-broker';

export const WEBSOCKET_PATH = '/$iothub/websocket';
const SUBPROTOCOL = 'mqtt';

interface WebSocketLike {
  close(): void;
}
interface WebSocketServerLike {
  handleUpgrade(
    req: http.IncomingMessage,
    socket: Duplex,
    head: Buffer,
    done: (ws: WebSocketLike) => void,
  ): void;
  close(): void;
}
interface WsModule {
  WebSocketServer: new (options: {
    noServer: true;
    maxPayload: number;
    handleProtocols: (protocols: Set<string>) => string | false;
  }) => WebSocketServerLike;
  createWebSocketStream(ws: WebSocketLike): Duplex;
}

/** Listens for upgrades on `server`; returns a function that stops it. */
export function acceptMqttOverWebSockets(
  server: http.Server,
  handleMqtt: (stream: Duplex) => void,
): () => void {
  const ws: WsModule = require('ws');
  const webSockets = new ws.WebSocketServer({
    noServer: true,
    // One MQTT packet per message as the clients send them; the broker bounds packets itself.
    maxPayload: MAX_MQTT_PACKET_BYTES,
    handleProtocols: (protocols) => (protocols.has(SUBPROTOCOL) ? SUBPROTOCOL : false),
  });
  const onUpgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    const refusal = upgradeRefusal(req);
    if (refusal) {
      socket.on('error', () => undefined);
      socket.end(`HTTP/1.1 ${refusal}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    webSockets.handleUpgrade(req, socket, head, (webSocket) => {
      handleMqtt(withTlsFacts(ws.createWebSocketStream(webSocket), socket as TLSSocket));
    });
  };
  server.on('upgrade', onUpgrade);
  return () => {
    server.off('upgrade', onUpgrade);
    webSockets.close();
  };
}

/** The status line for an upgrade this hub does not serve, or undefined to accept it. */
function upgradeRefusal(req: http.IncomingMessage): string | undefined {
  const path = (req.url ?? '').split('?')[0];
  if (path !== WEBSOCKET_PATH) return '404 Not Found';
  const offered = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
  if (!offered.includes(SUBPROTOCOL)) return '400 Bad Request';
  return undefined;
}

function withTlsFacts(stream: Duplex, tlsSocket: TLSSocket): Duplex {
  return Object.assign(stream, {
    getPeerCertificate: (detailed?: boolean) => tlsSocket.getPeerCertificate(detailed as true),
    remoteAddress: tlsSocket.remoteAddress,
  });
}
