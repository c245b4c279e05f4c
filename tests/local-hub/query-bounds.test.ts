/**
 * POST /devices/query bounds (issue #10 item 8): a long AND/OR chain or deep nesting, still under the
 * body limit, is refused with a 400 that names the limit, instead of overflowing the stack (500).
 */
import * as assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { LocalHub } from '../../local-hub/index';
import { startTestHub } from '../support/local-hub-fixture';
import { createRestCaller, type RestCaller, withApiVersion } from '../support/reliability-rest';

let hub: LocalHub;
let rest: RestCaller;

before(async () => {
  hub = await startTestHub();
  hub.state.createDevice('q1', {});
  rest = createRestCaller(hub);
});
after(async () => {
  rest.close();
  await hub.close();
});

async function query(text: string) {
  const reply = await rest.request({
    method: 'POST',
    path: withApiVersion('/devices/query'),
    body: { query: text },
  });
  return {
    status: reply.status,
    message: reply.status === 200 ? '' : (JSON.parse(reply.text).Message as string),
  };
}

describe('query size and depth (item 8)', () => {
  test('a 12,000-term AND chain is a 400 that names the limit', async () => {
    const chain = Array.from({ length: 12_000 }, (_, i) => `a=${i}`).join(' AND ');
    const { status, message } = await query(`SELECT * FROM devices WHERE ${chain}`);
    assert.equal(status, 400, message);
    assert.match(message, /conditions|at most/);
  });

  test('a 12,000-term OR chain and 5,000 nested parentheses or NOTs are 400s too', async () => {
    const or = Array.from({ length: 12_000 }, (_, i) => `a=${i}`).join(' OR ');
    const parens = `${'('.repeat(5_000)}a=1${')'.repeat(5_000)}`;
    const nots = `${'NOT '.repeat(5_000)}a=1`;
    for (const where of [or, parens, nots]) {
      const { status, message } = await query(`SELECT * FROM devices WHERE ${where}`);
      assert.equal(status, 400, message);
    }
  });

  test('ordinary queries still work', async () => {
    const { status } = await query(
      "SELECT * FROM devices WHERE deviceId = 'q1' AND (status = 'enabled' OR NOT a = 1)",
    );
    assert.equal(status, 200);
  });
});
