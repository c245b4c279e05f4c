/**
 * Tier 5 self-test of the harness: the real dynamic provider host, driven over gRPC with a provider
 * serialized by Pulumi itself (captured under setMocks), against a tiny file-backed provider. Proves
 * the harness carries every CRUD call, secrets and errors the way the engine would.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runUnderMocks, settled } from '../support/host-capture';
import type { PlainObject } from '../support/host-grpc';
import { Note, readNoteFile } from '../support/host-sample-provider';
import { isSecret, reveal, secret } from '../support/host-secrets';
import { type ProviderHost, ProviderHostError, startProviderHost } from '../support/provider-host';

const TOKEN = 'sample-token-0123456789';
const urnOf = (name: string) => `urn:pulumi:local::iothub-as-code::pulumi-nodejs:dynamic:Resource::${name}`;

describe('provider host harness (tiny file-backed provider)', () => {
  let host: ProviderHost;
  let dir: string;
  let serializedProvider: unknown;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'host-protocol-'));
    const registered = await runUnderMocks(async () => {
      await settled(new Note('captured', { dir, name: 'captured', text: 'x', token: TOKEN }));
    });
    serializedProvider = registered[0]!.inputs['__provider'];
    host = await startProviderHost();
  });

  after(async () => {
    await host?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const inputsFor = (name: string, text: string, extra: PlainObject = {}): PlainObject => ({
    dir,
    name,
    text,
    token: secret(TOKEN),
    ...extra,
    __provider: serializedProvider,
  });

  test('the captured provider is Pulumi-serialized code and holds no secret', () => {
    const text = reveal(serializedProvider);
    assert.equal(typeof text, 'string');
    assert.match(text as string, /exports\.handler/);
    assert.ok(!(text as string).includes(TOKEN));
  });

  test('Check returns every failure with its property path', async () => {
    const news = inputsFor('Bad Name', 'x', { meta: { size: -1 } });
    delete news['text'];
    const result = await host.check(urnOf('bad'), {}, news);
    const byPath = Object.fromEntries(result.failures.map((f) => [f.property, f.reason]));
    assert.deepEqual(Object.keys(byPath).sort(), ['meta.size', 'name', 'text']);
    assert.match(byPath['meta.size']!, /-1/);
  });

  test('Create, Read, Diff, Update, Delete round trip with real effects', async () => {
    const urn = urnOf('round-trip');
    const checked = await host.check(urn, {}, inputsFor('round-trip', 'first'));
    assert.deepEqual(checked.failures, []);
    assert.ok(isSecret(checked.inputs['token']), 'a secret input stays marked secret after Check');

    const created = await host.create(urn, checked.inputs);
    assert.equal(created.id, 'round-trip');
    assert.equal(readNoteFile(dir, 'round-trip')?.text, 'first');
    assert.equal(created.properties['tokenLength'], TOKEN.length, 'the provider received the plain secret');
    assert.ok(isSecret(created.properties['token']), 'an output whose input was secret is marked secret');

    const same = await host.diff(created.id, urn, created.properties, checked.inputs);
    assert.equal(same.changes, 'none');
    const edited = inputsFor('round-trip', 'second', { meta: { tags: ['a'] } });
    const changed = await host.diff(created.id, urn, created.properties, edited);
    assert.deepEqual(
      { changes: changed.changes, replaces: changed.replaces },
      { changes: 'some', replaces: [] },
    );
    const renamed = await host.diff(created.id, urn, created.properties, inputsFor('other', 'first'));
    assert.deepEqual(renamed.replaces, ['name']);

    const updated = await host.update(created.id, urn, created.properties, edited, checked.inputs);
    assert.deepEqual(updated.properties['meta'], { tags: ['a'] });
    assert.deepEqual(readNoteFile(dir, 'round-trip'), { text: 'second', meta: { tags: ['a'] } });

    const read = await host.read(created.id, urn, updated.properties, edited);
    assert.equal(read.id, 'round-trip');
    assert.equal(read.properties['text'], 'second');
    assert.equal(read.inputs?.['text'], 'second');
    assert.equal(read.properties['__provider'], reveal(serializedProvider), 'the host keeps __provider');

    await host.delete(created.id, urn, updated.properties);
    assert.equal(readNoteFile(dir, 'round-trip'), undefined);
    const gone = await host.read(created.id, urn, updated.properties, edited);
    assert.equal(gone.id, undefined, 'Read of a deleted object returns no id');
  });

  test("a provider error surfaces as a thrown Error carrying the provider's message", async () => {
    const urn = urnOf('twice');
    const inputs = (await host.check(urn, {}, inputsFor('twice', 'x'))).inputs;
    await host.create(urn, inputs);
    await assert.rejects(host.create(urn, inputs), (error: unknown) => {
      assert.ok(error instanceof ProviderHostError);
      assert.equal(error.method, 'create');
      assert.match(error.message, /note "twice" already exists/);
      return true;
    });
    await host.delete('twice', urn, inputs);
  });

  test('a Create that made the object but failed reports the id and outputs (init failure)', async () => {
    const urn = urnOf('half');
    const inputs = (await host.check(urn, {}, inputsFor('half', 'init-fail'))).inputs;
    await assert.rejects(host.create(urn, inputs), (error: unknown) => {
      assert.ok(error instanceof ProviderHostError);
      assert.match(error.message, /written but not ready/);
      assert.equal(error.initFailure?.id, 'half');
      assert.deepEqual(error.initFailure?.reasons, ['not ready']);
      assert.equal(error.initFailure?.properties['tokenLength'], TOKEN.length);
      assert.ok(
        isSecret(error.initFailure?.properties['token']),
        'init-failure outputs are re-marked secret',
      );
      return true;
    });
    assert.equal(readNoteFile(dir, 'half')?.text, 'init-fail');
    await host.delete('half', urn, inputs);
  });

  test('an undefined-free Struct is sent even when inputs hold undefined members', async () => {
    const urn = urnOf('undef');
    const result = await host.check(urn, {}, inputsFor('undef', 'x', { meta: { size: undefined } }));
    assert.deepEqual(result.failures, []);
    assert.deepEqual(result.inputs['meta'], {});
  });
});
