/**
 * The direct-method dispatcher (device-runtime/method-handlers.ts) as a pure table: every outcome of a
 * handler becomes an answer, and it never rejects.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  defineMethod,
  dispatchMethod,
  MethodError,
  type MethodHandlers,
  notImplementedAnswer,
} from '../../device-runtime/method-handlers';

const call = (name: string) => ({ name, requestId: '1a' });

const table: MethodHandlers = {
  echo: defineMethod({ invoke: (payload) => ({ payload }) }),
  strict: defineMethod<number>({
    validate: (p) => (typeof p === 'number' ? undefined : 'strict takes a number'),
    invoke: (n) => ({ status: 201, payload: n * 2 }),
  }),
  conflict: defineMethod({
    invoke: () => {
      throw new MethodError(409, 'busy', 'Busy');
    },
  }),
  badError: defineMethod({
    invoke: () => {
      throw new MethodError(1000, 'out of range');
    },
  }),
  rejects: defineMethod({ invoke: () => Promise.reject('plain string') }),
  badValidate: defineMethod({
    validate: () => {
      throw new Error('validator bug');
    },
    invoke: () => undefined,
  }),
};

test('answers: handler status and payload, defaults 200 and null', async () => {
  assert.deepEqual(await dispatchMethod(table, call('echo'), { a: [1] }), {
    status: 200,
    payload: { a: [1] },
  });
  assert.deepEqual(await dispatchMethod(table, call('strict'), 4), { status: 201, payload: 8 });
  assert.deepEqual(await dispatchMethod({ n: defineMethod({ invoke: () => undefined }) }, call('n'), null), {
    status: 200,
    payload: null,
  });
});

test('400 for a payload validate refuses, 501 for an unknown name (also inherited object keys)', async () => {
  assert.deepEqual(await dispatchMethod(table, call('strict'), 'x'), {
    status: 400,
    payload: { error: 'InvalidPayload', message: 'strict takes a number', method: 'strict' },
  });
  for (const name of ['missing', 'toString', '__proto__', 'constructor']) {
    const answer = await dispatchMethod(table, call(name), null);
    assert.equal(answer.status, 501, name);
  }
  assert.deepEqual(notImplementedAnswer('x', {}).payload, {
    error: 'NotImplemented',
    message: 'method "x" is not implemented by this module; it implements: (none)',
    method: 'x',
    methods: [],
  });
});

test('errors become statuses: MethodError its own (if valid), anything else 500', async () => {
  assert.deepEqual(await dispatchMethod(table, call('conflict'), null), {
    status: 409,
    payload: { error: 'Busy', message: 'busy' },
  });
  assert.equal((await dispatchMethod(table, call('badError'), null)).status, 500);
  const rejected = await dispatchMethod(table, call('rejects'), null);
  assert.equal(rejected.status, 500);
  assert.match(JSON.stringify(rejected.payload), /plain string/);
  assert.equal((await dispatchMethod(table, call('badValidate'), null)).status, 500);
});

test('property: whatever a handler returns or throws, the answer is a status 200..599 and never a rejection', async () => {
  const outcome = fc.oneof(
    fc.record({
      kind: fc.constant('return' as const),
      status: fc.option(fc.integer({ min: -10, max: 1000 })),
    }),
    fc.record({ kind: fc.constant('throw' as const), status: fc.integer({ min: -10, max: 1000 }) }),
    fc.record({ kind: fc.constant('throwValue' as const), value: fc.anything() }),
  );
  await fc.assert(
    fc.asyncProperty(outcome, fc.jsonValue(), async (o, payload) => {
      const handlers: MethodHandlers = {
        m: defineMethod({
          invoke: () => {
            if (o.kind === 'throw') throw new MethodError(o.status, 'no');
            if (o.kind === 'throwValue') throw o.value;
            return o.status === null ? {} : { status: o.status };
          },
        }),
      };
      const answer = await dispatchMethod(handlers, call('m'), payload as never);
      assert.ok(Number.isInteger(answer.status) && answer.status >= 200 && answer.status <= 599);
      assert.notEqual(answer.payload, undefined);
    }),
  );
});
