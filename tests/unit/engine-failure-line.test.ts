/**
 * What `npm run pulumi` prints when an engine operation fails (scripts/pulumi-engine.ts engineFailureLine):
 * a pointer to the CLI output it streamed, or, when the CLI failed before streaming anything (selecting
 * the stack, reading its state), the CLI's own message, so the reason is never lost.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CommandError } from '@pulumi/pulumi/automation';
import { engineFailureLine } from '../../scripts/pulumi-engine';

// The class's constructor is internal; it takes the command result and uses its text as the message.
const commandError = (text: string) =>
  new (CommandError as unknown as new (result: { toString(): string }) => Error)({ toString: () => text });

test('after streamed output, one line that points to it', () => {
  const error = commandError('code: 255\nstderr: error: the stack is locked');
  assert.equal(
    engineFailureLine('up', error, { streamed: true }),
    "pulumi up failed; the CLI's output above says why",
  );
  assert.equal(engineFailureLine('up', error), "pulumi up failed; the CLI's output above says why");
});

test('before any output, the CLI message itself', () => {
  const error = commandError('code: 255\nstderr: error: could not read the checkpoint');
  const line = engineFailureLine('recover', error, { streamed: false });
  assert.match(line, /^pulumi recover failed: /);
  assert.match(line, /could not read the checkpoint/);
});

test('any other error: its message', () => {
  assert.equal(
    engineFailureLine('preview', new Error('no Pulumi.yaml'), { streamed: true }),
    'pulumi preview failed: no Pulumi.yaml',
  );
});
