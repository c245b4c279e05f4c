/**
 * Tier 6 self-test of the lifecycle harness with a tiny file-backed provider (independent of the
 * project's providers): several runs in a row with state carried between them, each step checked
 * against the files the real provider host wrote.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runUnderMocks, settled } from '../support/host-capture';
import { Note, readNoteFile } from '../support/host-sample-provider';
import { isSecret } from '../support/host-secrets';
import { DeploymentError, LifecycleEngine, type NewResourceHandler } from '../support/lifecycle-engine';
import { type ProviderHost, startProviderHost } from '../support/provider-host';

const NOTE = 'pulumi-nodejs:dynamic:Resource';

/** The "stack config" of the tiny program: resource name -> note name and text. */
type NotesConfig = Record<string, { name: string; text: string; size?: number }>;

function notesProgram(dir: string, config: NotesConfig) {
  return (onNewResource: NewResourceHandler) =>
    runUnderMocks(
      async () => {
        const notes = Object.entries(config).map(
          ([resourceName, note]) =>
            new Note(resourceName, {
              dir,
              name: note.name,
              text: note.text,
              token: 'tok',
              ...(note.size === undefined ? {} : { meta: { size: note.size } }),
            }),
        );
        await settled(...notes);
      },
      { onNewResource },
    );
}

describe('lifecycle engine (tiny file-backed provider)', () => {
  let host: ProviderHost;
  let dir: string;
  let engine: LifecycleEngine;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lifecycle-engine-'));
    host = await startProviderHost();
    engine = new LifecycleEngine(host);
  });

  after(async () => {
    await host?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const ops = (steps: { op: string; urn: string }[]) =>
    Object.fromEntries(steps.map((s) => [s.urn.split('::').pop(), s.op]));

  test('run 1 creates every declared resource', async () => {
    const { steps } = await engine.up(
      notesProgram(dir, {
        a: { name: 'a', text: 'one' },
        b: { name: 'b1', text: 'x' },
        c: { name: 'c', text: 'y' },
      }),
    );
    assert.deepEqual(ops(steps), { a: 'create', b: 'create', c: 'create' });
    assert.equal(readNoteFile(dir, 'a')?.text, 'one');
    assert.equal(engine.state.length, 3);
    assert.ok(isSecret(engine.find(NOTE, 'a')!.inputs['token']), 'secret inputs stay marked in the state');
  });

  test('run 2 updates, replaces, adds, leaves alone and deletes what is no longer declared', async () => {
    const { steps } = await engine.up(
      notesProgram(dir, {
        a: { name: 'a', text: 'two' },
        b: { name: 'b2', text: 'x' },
        d: { name: 'd', text: 'z' },
      }),
    );
    assert.deepEqual(ops(steps), { a: 'update', b: 'delete-replaced', d: 'create', c: 'delete' });
    assert.deepEqual(
      steps.at(-2)?.op,
      'delete-replaced',
      'replaced olds are deleted after the registrations',
    );
    assert.equal(readNoteFile(dir, 'a')?.text, 'two');
    assert.equal(readNoteFile(dir, 'b1'), undefined);
    assert.equal(readNoteFile(dir, 'b2')?.text, 'x');
    assert.equal(readNoteFile(dir, 'c'), undefined);
    assert.deepEqual(engine.state.map((r) => r.name).sort(), ['a', 'b', 'd']);
    assert.equal(engine.find(NOTE, 'b')!.id, 'b2');
  });

  test('an unchanged run is all "same"', async () => {
    const { steps } = await engine.up(
      notesProgram(dir, {
        a: { name: 'a', text: 'two' },
        b: { name: 'b2', text: 'x' },
        d: { name: 'd', text: 'z' },
      }),
    );
    assert.deepEqual(ops(steps), { a: 'same', b: 'same', d: 'same' });
  });

  test('an out-of-band change is reported by refresh and restored by the next run', async () => {
    fs.writeFileSync(path.join(dir, 'a.json'), JSON.stringify({ text: 'tampered', meta: null }));
    const report = await engine.refresh();
    assert.deepEqual(
      report.changed.map((c) => [c.urn.split('::').pop(), c.before['text'], c.after['text']]),
      [['a', 'two', 'tampered']],
    );
    fs.rmSync(path.join(dir, 'd.json'));
    const { steps } = await engine.up(
      notesProgram(dir, {
        a: { name: 'a', text: 'two' },
        b: { name: 'b2', text: 'x' },
        d: { name: 'd', text: 'z' },
      }),
      { refresh: true },
    );
    assert.deepEqual(ops(steps), { a: 'update', b: 'same', d: 'create' });
    assert.equal(readNoteFile(dir, 'a')?.text, 'two');
    assert.equal(readNoteFile(dir, 'd')?.text, 'z');
  });

  test('a Check failure fails the run with every property path and changes nothing', async () => {
    const before = engine.state.map((r) => ({ ...r }));
    await assert.rejects(
      engine.up(
        notesProgram(dir, {
          a: { name: 'a', text: 'three' },
          b: { name: 'B 2', text: 'x', size: -4 },
          d: { name: 'd', text: 'z' },
        }),
      ),
      (error: unknown) => {
        assert.ok(error instanceof DeploymentError);
        assert.match(error.message, /::b: Check failed/);
        assert.match(error.message, /name: must match/);
        assert.match(error.message, /meta\.size: must be a number >= 0, got -4/);
        return true;
      },
    );
    assert.equal(readNoteFile(dir, 'b2')?.text, 'x', 'b was not touched');
    assert.deepEqual(
      engine.state.map((r) => r.name).sort(),
      before.map((r) => r.name).sort(),
      'nothing is deleted after a failed run',
    );
  });

  test('destroy deletes everything', async () => {
    const steps = await engine.destroy();
    assert.deepEqual(
      steps.map((s) => s.op),
      ['delete', 'delete', 'delete'],
    );
    assert.deepEqual(engine.state, []);
    assert.deepEqual(fs.readdirSync(dir), []);
  });
});
