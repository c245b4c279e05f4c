/**
 * `openHubState`: wires the SQLite registry, the in-memory runtime facts and the event queue into
 * the HubState contract. Every write runs in exactly one transaction; events are delivered only
 * after it commits (hub-events.ts).
 */
import { randomBytes, randomInt } from 'node:crypto';
import { hubErrors } from '../errors';
import { createHubLogger, type HubLogger } from '../hub-logger';
import { applyBulk, parseBulkRequest } from './bulk-operations';
import { type ApplyScope, applyConfigurations } from './configuration-apply';
import * as configurations from './configuration-operations';
import { HubEvents } from './hub-events';
import type { HubState } from './hub-state-types';
import * as identities from './identity-operations';
import { IdentityRuntime } from './identity-runtime';
import { queryTwins } from './query-operations';
import { ReportedBatch } from './reported-batch';
import { SqliteConfigurations } from './sqlite-configurations';
import { SqliteRegistry } from './sqlite-registry';
import type { StoreContext } from './store-context';
import * as twins from './twin-operations';

export type OpenHubStateOptions = ({ dataDir: string } | { inMemory: true }) & {
  /** Receives listener failures; default: warnings and errors to stderr. */
  logger?: HubLogger;
  /** Injected clock for tests. */
  now?: () => Date;
};

export function openHubState(o: OpenHubStateOptions): HubState {
  const now = isoClock(o.now ?? (() => new Date()));
  const db = SqliteRegistry.open('dataDir' in o ? { dataDir: o.dataDir } : { inMemory: true });
  const logger = o.logger ?? createHubLogger({ level: 'warn' });
  const events = new HubEvents(logger);
  const ctx: StoreContext = {
    db,
    configurations: new SqliteConfigurations(db),
    runtime: new IdentityRuntime(now),
    events,
    now,
    mintKey: () => randomBytes(32).toString('base64'),
    random4: () => randomInt(10000),
  };
  let closed = false;

  // Reported patches wait for the end of the turn to share one commit (reported-batch.ts); every other
  // read or write runs after the queued ones are written, so it sees them, in arrival order.
  const reported = new ReportedBatch({
    transaction: (writes) => db.transaction(writes),
    // In the batch's transaction, no savepoint: patchReported writes once, last, after every check (reported-batch.ts).
    patchOne: (d, m, patch) => twins.patchReported(ctx, d, m, patch),
    isOpen: () => !closed,
    closedError: () => hubErrors.serverError('the hub state is closed'),
  });

  /** One transaction per write; events only after commit. */
  const write = <T>(fn: () => T): T => {
    reported.flush();
    if (closed) throw hubErrors.serverError('the hub state is closed');
    try {
      const result = db.transaction(fn);
      events.flush();
      return result;
    } catch (err) {
      events.discard();
      throw err;
    }
  };
  const read = <T>(fn: () => T): T => {
    reported.flush();
    if (closed) throw hubErrors.serverError('the hub state is closed');
    return fn();
  };
  /** A write that may change which configuration targets which twin: re-apply them just after it. */
  const apply = createApplyScheduler((scope) => {
    if (!closed) write(() => applyConfigurations(ctx, scope, logger));
  }, logger);
  const writeThenApply = <T>(scope: ApplyScope, fn: () => T): T => {
    const result = write(fn);
    apply.schedule(scope);
    return result;
  };
  /**
   * A configuration written or deleted changes what every twin gets: applied at once, after its commit and
   * before the request is answered, so the desired patches are on their way before the next request (the
   * provider's first metrics poll, a scan of every twin) is served (docs/benchmarks.md, fleet-wide
   * configuration). Still its own transaction: a failed application never undoes the configuration write.
   */
  const writeThenApplyNow = <T>(fn: () => T): T => {
    const result = write(fn);
    apply.now('all');
    return result;
  };

  return {
    createDevice: (id, body) =>
      writeThenApply([{ deviceId: id, moduleId: null }], () => identities.createDevice(ctx, id, body)),
    updateDevice: (id, body, ifMatch) => write(() => identities.updateDevice(ctx, id, body, ifMatch)),
    getDevice: (id) => read(() => identities.getDevice(ctx, id)),
    listDevices: (top) => read(() => identities.listDevices(ctx, top)),
    deleteDevice: (id, ifMatch) => write(() => identities.deleteDevice(ctx, id, ifMatch)),
    createModule: (d, m, body) =>
      writeThenApply([{ deviceId: d, moduleId: m }], () => identities.createModule(ctx, d, m, body)),
    updateModule: (d, m, body, ifMatch) => write(() => identities.updateModule(ctx, d, m, body, ifMatch)),
    getModule: (d, m) => read(() => identities.getModule(ctx, d, m)),
    listModules: (d) => read(() => identities.listModules(ctx, d)),
    deleteModule: (d, m, ifMatch) => write(() => identities.deleteModule(ctx, d, m, ifMatch)),
    getTwin: (d, m) => read(() => twins.getTwin(ctx, d, m)),
    patchTwin: (d, m, patch, ifMatch) =>
      writeThenApply([{ deviceId: d, moduleId: m }], () => twins.patchTwin(ctx, d, m, patch, ifMatch)),
    replaceTwin: (d, m, twin, ifMatch) =>
      writeThenApply([{ deviceId: d, moduleId: m }], () => twins.replaceTwin(ctx, d, m, twin, ifMatch)),
    bulk: (operations) => {
      const entries = parseBulkRequest(operations);
      return writeThenApply('all', () => applyBulk(ctx, entries));
    },
    statistics: () =>
      read(() => {
        const { total, enabled } = db.deviceCounts();
        return { totalDeviceCount: total, enabledDeviceCount: enabled, disabledDeviceCount: total - enabled };
      }),
    queryTwins: (query, pageSize, token) => read(() => queryTwins(ctx, query, pageSize, token)),
    putConfiguration: (id, body, ifMatch) =>
      writeThenApplyNow(() => configurations.putConfiguration(ctx, id, body, ifMatch)),
    getConfiguration: (id) => read(() => configurations.getConfiguration(ctx, id)),
    listConfigurations: (top) => read(() => configurations.listConfigurations(ctx, top)),
    // Re-evaluated as after a put: the twins it targeted may now fall to another configuration.
    deleteConfiguration: (id, ifMatch) =>
      writeThenApplyNow(() => configurations.deleteConfiguration(ctx, id, ifMatch)),

    findIdentity: (d, m) =>
      read(() => {
        const row = db.get(d, m);
        if (!row) return undefined;
        const device = m === null ? row : db.get(d, null);
        if (!device) return undefined;
        const { authentication } = row.identity;
        return { deviceId: d, moduleId: m, authentication, status: device.identity.status };
      }),
    getDeviceFacingTwin: (d, m) => read(() => twins.getDeviceFacingTwin(ctx, d, m)),
    patchReported: (d, m, patch) => write(() => twins.patchReported(ctx, d, m, patch)),
    queueReported: (d, m, patch, done) => reported.add(d, m, patch, done),
    setConnectionState: (d, m, connected) => ctx.runtime.setConnectionState(d, m, connected),
    recordActivity: (d, m) => ctx.runtime.recordActivity(d, m),
    recordMessage: (message) => ctx.runtime.recordMessage(message),
    recentMessages: (d, m) => ctx.runtime.recentMessages(d, m),
    telemetry: ctx.runtime.telemetry,
    onDesiredChange: (listener) => events.desired.subscribe(listener),
    onIdentityRevoked: (listener) => events.revoked.subscribe(listener),

    close: () => {
      // Patches queued before the close are written (and answered) first, as if they had come alone.
      reported.flush();
      closed = true;
      ctx.runtime.telemetry.close();
      db.close();
    },
  };
}

/**
 * The clock as ISO-8601 text, formatted once per millisecond: it stamps every MQTT packet's activity and every
 * twin write, and a fleet's acks arrive many to a millisecond (formatting was ~1 µs a call).
 */
function isoClock(clock: () => Date): () => string {
  let lastMs = Number.NaN;
  let lastText = '';
  return () => {
    const time = clock();
    const ms = time.getTime();
    if (ms !== lastMs) {
      lastMs = ms;
      lastText = time.toISOString();
    }
    return lastText;
  };
}

/**
 * Collects the twins writes touched and applies configurations to them once, on the next turn of the
 * event loop, in a write of its own (docs/iot-hub-behaviour.md §8.4: IoT Hub re-evaluates within minutes);
 * `now` applies at once, together with anything still pending.
 */
function createApplyScheduler(
  run: (scope: ApplyScope) => void,
  logger: HubLogger,
): { schedule: (scope: ApplyScope) => void; now: (scope: ApplyScope) => void } {
  let pending: ApplyScope | undefined;
  const merge = (scope: ApplyScope): ApplyScope =>
    pending === 'all' || scope === 'all' ? 'all' : [...(pending ?? []), ...scope];
  const runLogged = (due: ApplyScope) => {
    try {
      run(due);
    } catch (error) {
      logger.error('applying configurations failed', {
        error: error instanceof Error ? error.message : String(error),
      });
    }
  };
  return {
    schedule: (scope) => {
      const first = pending === undefined;
      pending = merge(scope);
      if (!first) return;
      setImmediate(() => {
        // Already applied by `now` in the meantime.
        if (pending === undefined) return;
        const due = pending;
        pending = undefined;
        runLogged(due);
      });
    },
    now: (scope) => {
      const due = merge(scope);
      pending = undefined;
      runLogged(due);
    },
  };
}
