/**
 * The long-lived module process: keeps one trustworthy connection, reconciles desired state on every
 * (re)connect, applies patches through one runner, and shuts down cleanly.
 *
 * Connection policy (docs/iot-hub-behaviour.md §3.4, §6): the SDK's own retry handles blips and token renewals; when it
 * reconnects and the hub kept the session, a re-GET is enough (the SDK never re-GETs by itself). When the
 * SDK gives up, the hub lost the session, or a twin request times out, the client is thrown away and a
 * new one is built by this runtime's own loop, with jittered exponential backoff.
 */
import { EventEmitter } from 'node:events';
import type { DesiredInput, ReconcileState } from '../lib/desired-reconcile';
import { isJsonObject, type JsonObject } from '../lib/json-types';
import { nextRetryDelay, type RetryPolicy } from '../lib/retry-backoff';
import { untrustedCertificateMessage, untrustedCertificateReason } from '../lib/tls-trust';
import { DesiredExecutor } from './desired-executor';
import { describeError, isTwinRequestError } from './errors';
import { dispatchMethod, type MethodHandlers } from './method-handlers';
import {
  type ConnectionOptions,
  type IncomingMethodCall,
  type ModuleConnection,
  openModuleConnection,
} from './module-connection';
import type { PropertyHandlers } from './property-handlers';
import type { RuntimeEventMap, RuntimeLogger } from './runtime-events';
import { SerialRunner } from './serial-runner';
import type { TelemetryLoop } from './telemetry-loop';

export interface RuntimeParts {
  connection: ConnectionOptions;
  handlers: PropertyHandlers;
  /** Direct-method handlers (method-handlers.ts); any other name is answered 501. */
  methods: MethodHandlers;
  telemetry: TelemetryLoop;
  telemetryOutputName: string;
  reconnect: { minDelayMs: number; maxDelayMs: number };
  logger: RuntimeLogger;
}

export class DeviceRuntime extends EventEmitter<RuntimeEventMap> {
  private readonly runner = new SerialRunner((name, error) =>
    this.parts.logger.warn(`${name} failed: ${describeError(error)}`),
  );
  private readonly executor: DesiredExecutor;
  private connection: ModuleConnection | undefined;
  /** Identifies the client events belong to; bumped whenever a client is abandoned or a new one is tried. */
  private generation = 0;
  private connectionsMade = 0;
  /** Generation of the full GET waiting in the queue, if any. */
  private resyncQueuedFor: number | undefined;
  private stopping: Promise<void> | undefined;
  private connecting: Promise<void> = Promise.resolve();
  private wakeReconnect: (() => void) | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  /** Consecutive twin requests the hub answered with an error; drives the retry delay. */
  private refusals = 0;
  /** The "certificate not trusted" explanation was logged (once per runtime; each retry says it short). */
  private trustWarned = false;

  constructor(private readonly parts: RuntimeParts) {
    super();
    this.executor = new DesiredExecutor(parts.handlers, parts.logger, this.emit.bind(this));
  }

  /** Desired version reconciled last, the values handlers run with, and whether a client is connected. */
  get current(): { version: number | undefined; applied: JsonObject; connected: boolean } {
    const state: ReconcileState = this.executor.state;
    return { version: state.version, applied: state.applied, connected: this.connection !== undefined };
  }

  get telemetryIntervalSeconds(): number {
    return this.parts.telemetry.intervalSeconds;
  }

  /** Starts the connect loop; returns at once (the hub may be down: the loop keeps trying). */
  start(): void {
    this.connecting = this.connectLoop();
  }

  /** Stops telemetry, lets the job in progress (and its report) finish, closes the client. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.wakeReconnect?.();
      clearTimeout(this.retryTimer);
      await this.parts.telemetry.stop();
      await this.runner.close();
      await this.connecting;
      const connection = this.connection;
      this.connection = undefined;
      await connection?.close();
      this.parts.logger.info('Device runtime stopped');
      this.emit('stopped');
    })();
    return this.stopping;
  }

  /** Sends one telemetry message if connected (resolves true); skipped, not queued, otherwise (false). */
  async sendTelemetry(body: JsonObject): Promise<boolean> {
    const connection = this.connection;
    if (!connection) return false;
    await connection.sendTelemetry(this.parts.telemetryOutputName, body);
    this.emit('telemetry', { outputName: this.parts.telemetryOutputName, body });
    return true;
  }

  private get backoff(): RetryPolicy {
    const { minDelayMs, maxDelayMs } = this.parts.reconnect;
    return { baseMs: minDelayMs, capMs: maxDelayMs, budgetMs: Number.POSITIVE_INFINITY };
  }

  private async connectLoop(): Promise<void> {
    const policy = this.backoff;
    for (let attempt = 0; !this.stopping; attempt++) {
      const generation = ++this.generation;
      try {
        const connection = await openModuleConnection(
          { ...this.parts.connection, methodNames: Object.keys(this.parts.methods) },
          this.eventsFor(generation),
        );
        if (this.stopping || generation !== this.generation) {
          await connection.close();
          return;
        }
        this.connection = connection;
        this.connectionsMade += 1;
        this.trustWarned = false;
        this.parts.logger.info(`Connected to the hub (connection ${this.connectionsMade})`);
        this.emit('connected', { generation: this.connectionsMade, resumed: false });
        this.queueResync(generation, 'connected');
        return;
      } catch (error) {
        // An event of this attempt (onLost) may already have started a newer loop: leave it to that one.
        if (generation !== this.generation) return;
        const untrusted = untrustedCertificateReason(error);
        if (untrusted !== undefined && this.untrustedCertificate(untrusted)) return;
        const delay = nextRetryDelay(policy, attempt, 0, Math.random()) ?? policy.capMs;
        const why = untrusted === undefined ? describeError(error) : `certificate not trusted: ${untrusted}`;
        this.parts.logger.warn(`Connecting failed (${why}); retrying in ${delay} ms`);
        await this.sleep(delay);
      }
    }
  }

  /**
   * The hub's certificate is not trusted. At the very first connection retrying cannot fix it (the CA is
   * read once, at start): say what to pass and stop (the CLI exits 3). After the runtime was connected
   * once, the hub's certificate changed under it (a regenerated CA, another hub on the address): say it
   * once and keep retrying, since the hub may come back with the certificate it had. Returns true when
   * the runtime stops.
   */
  private untrustedCertificate(reason: string): boolean {
    const ca = this.parts.connection.ca === undefined ? 'no CA was given' : 'the CA given did not sign it';
    const message = `${untrustedCertificateMessage(hubHostOf(this.parts.connection), reason, '--ca <file> (or IOTHUB_CA_FILE)')}; ${ca}`;
    if (this.connectionsMade === 0) {
      this.parts.logger.warn(`${message}. Stopping: retrying cannot fix this.`);
      this.emit('fatal', { kind: 'untrusted-certificate', message });
      void this.stop();
      return true;
    }
    if (!this.trustWarned)
      this.parts.logger.warn(`${message}. Retrying, in case the hub comes back with its old certificate.`);
    this.trustWarned = true;
    return false;
  }

  private eventsFor(generation: number) {
    const current = () => generation === this.generation && !this.stopping;
    return {
      onDesiredPatch: (patch: unknown) => {
        if (!current()) return;
        if (!isJsonObject(patch)) {
          this.parts.logger.warn(
            'Ignoring a desired notification that is not a JSON object; re-reading the twin',
          );
          this.queueResync(generation, 'malformed notification');
          return;
        }
        this.runner.run('desired patch', () => this.reconcile(generation, { source: 'patch', patch }));
      },
      onResumed: () => {
        if (!current()) return;
        this.parts.logger.info('The SDK reconnected and the hub kept the session; re-reading the twin');
        this.emit('connected', { generation: this.connectionsMade, resumed: true });
        this.queueResync(generation, 'resumed');
      },
      onLost: (reason: string) => this.lose(generation, reason),
      onWarning: (message: string) => this.parts.logger.warn(message),
      onMethodCall: (call: IncomingMethodCall) => void this.answerMethod(call),
    };
  }

  /**
   * Methods run at once, concurrently with the twin runner (a method such as `getState` must not wait
   * behind a slow handler), and always get an answer: dispatchMethod never rejects, and a failed publish
   * is only logged (the hub answers the caller 504).
   */
  private async answerMethod(call: IncomingMethodCall): Promise<void> {
    const started = Date.now();
    const answer = this.stopping
      ? { status: 503, payload: { error: 'Stopping', message: 'the module runtime is shutting down' } }
      : await dispatchMethod(
          this.parts.methods,
          { name: call.name, requestId: call.requestId },
          call.payload,
        );
    const durationMs = Date.now() - started;
    this.parts.logger.info(
      `Direct method received: ${call.name} (request ${call.requestId}), answered ${answer.status} in ${durationMs} ms`,
    );
    this.emit('method', { name: call.name, requestId: call.requestId, status: answer.status, durationMs });
    try {
      await call.respond(answer.status, answer.payload);
    } catch (error) {
      this.parts.logger.warn(`The answer to method ${call.name} was not sent: ${describeError(error)}`);
    }
  }

  /** At most one full GET waits in the queue; patches queued behind it are re-planned against its result. */
  private queueResync(generation: number, reason: string): void {
    if (this.resyncQueuedFor === generation) return;
    this.resyncQueuedFor = generation;
    this.runner.run(`twin resync (${reason})`, async () => {
      if (this.resyncQueuedFor === generation) this.resyncQueuedFor = undefined;
      const connection = this.connection;
      if (!connection || generation !== this.generation || this.stopping) return;
      try {
        const twin = await connection.getTwin();
        await this.reconcile(generation, { source: 'full', desired: twin.desired, reported: twin.reported });
      } catch (error) {
        this.failed(generation, 'twin GET', error);
      }
    });
  }

  private async reconcile(generation: number, input: DesiredInput): Promise<void> {
    const connection = this.connection;
    // A patch from a replaced client is dropped: the new client's full GET covers it.
    if (!connection || generation !== this.generation || this.stopping) return;
    try {
      const plan = await this.executor.execute(input, (patch) => connection.reportProperties(patch));
      if (plan.kind === 'resync') this.queueResync(generation, plan.reason);
      if (plan.kind === 'reconcile') this.refusals = 0;
    } catch (error) {
      this.failed(generation, 'reporting acknowledgements', error);
    }
  }

  /**
   * A request the hub answered with an error (throttled, refused) does not mean the connection is broken:
   * re-read the twin later, with backoff, instead of reconnecting in a tight loop. Anything else (timeout,
   * closed) means the client cannot be trusted.
   */
  private failed(generation: number, operation: string, error: unknown): void {
    if (!isTwinRequestError(error)) {
      this.lose(generation, `${operation} failed: ${describeError(error)}`);
      return;
    }
    const delay =
      nextRetryDelay(this.backoff, this.refusals++, 0, Math.random()) ?? this.parts.reconnect.maxDelayMs;
    this.parts.logger.warn(`${describeError(error)}; re-reading the twin in ${delay} ms`);
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.queueResync(generation, 'retry after a refused request'), delay);
  }

  /** Replaces an untrustworthy client (once per generation) and starts the reconnect loop. */
  private lose(generation: number, reason: string): void {
    if (generation !== this.generation || this.stopping) return;
    this.generation += 1;
    const connection = this.connection;
    this.connection = undefined;
    this.parts.logger.warn(`Connection dropped: ${reason}`);
    this.emit('disconnected', { reason });
    void connection?.close();
    this.connecting = this.connectLoop();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wakeReconnect = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}

/** The HostName the runtime dials, for messages (never the rest of the connection string). */
function hubHostOf(connection: ConnectionOptions): string {
  if (connection.source.kind !== 'connection-string') return 'the IoT Edge hub';
  return /(?:^|;)\s*HostName=([^;]*)/i.exec(connection.source.connectionString)?.[1] ?? 'the hub';
}
