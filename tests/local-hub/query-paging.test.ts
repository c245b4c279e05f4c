/**
 * Twin query paging through the official `azure-iothub` Registry (`createQuery` + `next`/`nextAsTwin`)
 * against a local hub, in memory and durable: every twin exactly once, in creation order, the same
 * twin GET returns; no trailing empty page (docs/iot-hub-behaviour.md §0.10); WHERE across pages; deletions between
 * pages neither skip nor repeat surviving rows; a forged continuation token is a 400.
 */
import * as assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Registry } from 'azure-iothub';
import { createHubClient } from '../../dynamic-providers/iothub-client';
import type { LocalHub } from '../../local-hub/index';
import { BULK_MAX_ENTRIES, type HubState } from '../../local-hub/store';
import { startTestHub } from '../support/local-hub-fixture';

const DEVICES = 40;
const MODULES = 2500;
const SITES = 17;

/** Module m sits on device m % DEVICES (neighbours in creation order are on different devices). */
function moduleKey(m: number): string {
  return `pg-d${m % DEVICES}/pg-m${Math.floor(m / DEVICES)}`;
}

function keyOf(twin: { deviceId: string; moduleId?: string }): string {
  return twin.moduleId ? `${twin.deviceId}/${twin.moduleId}` : twin.deviceId;
}

/** Through bulk import, 100 entries per transaction: seconds fewer than one fsync per write. */
function populate(state: HubState): void {
  const entries: Record<string, unknown>[] = [];
  for (let d = 0; d < DEVICES; d++) entries.push({ id: `pg-d${d}`, importMode: 'create', tags: { n: d } });
  for (let m = 0; m < MODULES; m++) {
    const [deviceId, moduleId] = moduleKey(m).split('/');
    entries.push({
      id: deviceId,
      moduleId,
      importMode: 'create',
      tags: { site: `site-${m % SITES}`, n: m },
      properties: { desired: { interval: m } },
    });
  }
  for (let i = 0; i < entries.length; i += BULK_MAX_ENTRIES) {
    const result = state.bulk(entries.slice(i, i + BULK_MAX_ENTRIES));
    assert.equal(result.isSuccessful, true, JSON.stringify(result.errors.slice(0, 3)));
  }
}

interface ReadResult {
  twins: any[];
  pages: number;
}

/**
 * Reads a query to the end as the SDK's callers do (`while (query.hasMoreResults)`), checking every
 * page but the last is full; `between(pageNumber, twinsSoFar)` runs after each page.
 */
async function readAll(
  registry: Registry,
  sql: string,
  pageSize: number,
  o: { asTwin?: boolean; between?: (page: number, twins: any[]) => Promise<void> } = {},
): Promise<ReadResult> {
  const query = registry.createQuery(sql, pageSize);
  const twins: any[] = [];
  let pages = 0;
  while (query.hasMoreResults) {
    // `next()` with no argument re-reads the first page (the promise form drops the stored token).
    const token = query.continuationToken as string | null;
    const { result } = o.asTwin ? await query.nextAsTwin() : await query.next(token as string);
    pages++;
    assert.ok(pages <= MODULES + 1, `${sql}: more pages than rows (the token does not advance)`);
    twins.push(...(result as any[]));
    if (query.hasMoreResults) assert.equal(result.length, pageSize, `page ${pages} of ${sql} is full`);
    await o.between?.(pages, twins);
  }
  return { twins, pages };
}

const MODES = ['memory', 'durable'] as const;

for (const mode of MODES) {
  describe(`twin query paging through the Registry (${mode})`, () => {
    let hub: LocalHub;
    let registry: Registry;
    let dataDir: string | undefined;
    const allModules = Array.from({ length: MODULES }, (_, m) => moduleKey(m));

    before(async () => {
      dataDir = mode === 'durable' ? mkdtempSync(path.join(tmpdir(), 'hub-query-paging-')) : undefined;
      hub = await startTestHub(dataDir === undefined ? {} : { dataDir });
      registry = createHubClient(hub.serviceConnectionString(), {
        caCertificate: hub.caCertificatePem,
      }).registry;
      populate(hub.state);
    });
    after(async () => {
      await hub.close();
      if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
    });

    test('pages of 1000, 500 and 7 return every module twin once, in creation order, as GET returns it', async () => {
      const big = await readAll(registry, 'SELECT * FROM devices.modules', 1000);
      assert.equal(big.pages, 3);
      assert.deepEqual(big.twins.map(keyOf), allModules);
      for (const twin of big.twins) {
        assert.deepEqual(twin, hub.state.getTwin(twin.deviceId, twin.moduleId) as unknown);
      }
      // 2500 / 500: exactly 5 pages, the 5th without a token (no trailing empty page, §0.10).
      const even = await readAll(registry, 'SELECT * FROM devices.modules', 500);
      assert.equal(even.pages, 5);
      assert.deepEqual(even.twins.map(keyOf), allModules);
      const small = await readAll(registry, 'SELECT * FROM devices.modules', 7, { asTwin: true });
      assert.equal(small.pages, Math.ceil(MODULES / 7));
      assert.deepEqual(small.twins.map(keyOf), allModules);
      assert.deepEqual(
        small.twins.map((t) => t.tags.n),
        allModules.map((_, m) => m),
      );
      assert.equal(small.twins[9].properties.desired.interval, 9);
      const devices = await readAll(registry, 'SELECT * FROM devices', 7, { asTwin: true });
      assert.equal(devices.pages, Math.ceil(DEVICES / 7));
      assert.deepEqual(
        devices.twins.map(keyOf),
        Array.from({ length: DEVICES }, (_, d) => `pg-d${d}`),
      );
      assert.ok(devices.twins.every((t) => t.moduleId === undefined || t.moduleId === null));
    });

    test('WHERE filters hold across pages, including on the device status a module twin shows', async () => {
      const sql = "SELECT * FROM devices.modules WHERE tags.site = 'site-3' AND tags.n >= 100";
      const expected = allModules.filter((_, m) => m % SITES === 3 && m >= 100);
      const { twins, pages } = await readAll(registry, sql, 7);
      assert.deepEqual(twins.map(keyOf), expected);
      assert.equal(pages, Math.ceil(expected.length / 7));

      const device = (await registry.get('pg-d5')).responseBody;
      await registry.update({ ...device, status: 'disabled' } as any);
      const disabled = await readAll(registry, "SELECT * FROM devices.modules WHERE status = 'disabled'", 7);
      assert.deepEqual(
        disabled.twins.map(keyOf),
        allModules.filter((k) => k.startsWith('pg-d5/')),
      );
      const enabled = await readAll(registry, "SELECT * FROM devices WHERE status <> 'disabled'", 1000);
      assert.equal(enabled.twins.length, DEVICES - 1);
    });

    test('deleting rows between pages neither skips nor repeats the rows that remain', async () => {
      const deleted = new Set<string>();
      let created = '';
      const between = async (page: number, twins: any[]) => {
        if (page !== 1) return;
        // The row the token names, the first row of the next page, one far ahead, and a whole
        // device with the modules it still has ahead; plus a module created meanwhile (goes last).
        const gone = [
          twins[6],
          { deviceId: 'pg-d7', moduleId: 'pg-m0' },
          { deviceId: 'pg-d20', moduleId: 'pg-m2' },
        ];
        for (const t of gone) {
          await registry.removeModule(t.deviceId, t.moduleId);
          deleted.add(keyOf(t));
        }
        await registry.delete('pg-d39');
        for (const k of allModules) if (k.startsWith('pg-d39/')) deleted.add(k);
        await registry.addModule({ deviceId: 'pg-d0', moduleId: 'pg-new' } as any);
        created = 'pg-d0/pg-new';
      };
      const { twins } = await readAll(registry, 'SELECT * FROM devices.modules', 7, { between });
      const keys = twins.map(keyOf);
      const firstPage = allModules.slice(0, 7);
      const rest = allModules.slice(7).filter((k) => !deleted.has(k));
      assert.ok(deleted.has(firstPage[6]!) && deleted.has(allModules[7]!), 'the boundary rows were deleted');
      assert.deepEqual(keys, [...firstPage, ...rest, created]);
      assert.equal(new Set(keys).size, keys.length, 'no twin twice');
    });

    test('a continuation token the hub did not issue is a 400 ArgumentInvalid', async () => {
      const issued = registry.createQuery('SELECT * FROM devices', 2);
      await issued.next();
      const token = issued.continuationToken as string;
      const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
      const forged = [
        b64('2'), // the old offset format
        b64('not-a-token'),
        b64('after:0'),
        b64('after:12x'),
        b64('after:99999999999999999'),
        `${token}!!`, // decodes to the same bytes, but is not what the hub issued
        'bm90IGJhc2U2NA',
      ];
      for (const t of forged) {
        await assert.rejects(registry.createQuery('SELECT * FROM devices', 2).next(t), (err: any) => {
          assert.equal(err.constructor.name, 'ArgumentError', `${t}: ${err.message}`);
          assert.match(String(err.responseBody), /ArgumentInvalid.*not a token this hub issued/);
          return true;
        });
      }
      const page = await registry.createQuery('SELECT * FROM devices', 2).next(token);
      assert.deepEqual((page.result as any[]).map(keyOf), ['pg-d2', 'pg-d3']);
    });
  });
}
