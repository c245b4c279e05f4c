/**
 * The device runtime's telemetry log (device-runtime/telemetry-report.ts): a line per message at an
 * interval of a second or more, one summary per 10 s when faster, skips and failures counted in. The
 * clock is a variable, so nothing here waits.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createTelemetryReport } from '../../device-runtime/telemetry-report';

function harness() {
  const lines: string[] = [];
  let now = 0;
  const report = createTelemetryReport(
    { info: (line) => lines.push(`INFO ${line}`), warn: (line) => lines.push(`WARN ${line}`) },
    'telemetry',
    () => now,
  );
  return { lines, report, advance: (ms: number) => (now += ms) };
}

test('one line per message at an interval of 1 s or more, with the body', () => {
  const { lines, report } = harness();
  report.skipped(5);
  report.sent({ sequence: 1, telemetryInterval: 5 }, 5);
  report.failed('NotConnectedError: gone', 5);
  assert.deepEqual(lines, [
    'INFO Telemetry sent on output "telemetry": {"sequence":1,"telemetryInterval":5}; 1 skipped while disconnected',
    'WARN Telemetry not sent: NotConnectedError: gone',
  ]);
});

test('faster than one per second: a summary per 10 s, and the rest when stopping', () => {
  const { lines, report, advance } = harness();
  for (let sequence = 1; sequence <= 60; sequence++) {
    report.sent({ sequence }, 0.2);
    if (sequence === 30) report.failed('TimeoutError: slow', 0.2);
    advance(200);
  }
  assert.deepEqual(lines, [
    'INFO Telemetry: 51 messages sent on output "telemetry" in 10 s (#1..#51, last {"sequence":51}); 1 failed (last: TimeoutError: slow)',
  ]);
  report.flush();
  assert.equal(lines.length, 2);
  assert.match(lines[1]!, /^INFO Telemetry: 9 messages sent on output "telemetry" in 2 s \(#52\.\.#60/);
  report.flush();
  assert.equal(lines.length, 2, 'nothing more to say');
});

test('switching from fast to slow writes the pending summary first', () => {
  const { lines, report, advance } = harness();
  report.sent({ sequence: 1 }, 0.5);
  advance(500);
  report.sent({ sequence: 2 }, 2);
  assert.equal(lines.length, 2);
  assert.match(lines[0]!, /Telemetry: 1 message sent .*#1\.\.#1/);
  assert.match(lines[1]!, /Telemetry sent on output "telemetry": \{"sequence":2\}/);
});

test('a long body is cut in the log line', () => {
  const { lines, report } = harness();
  report.sent({ sequence: 1, text: 'x'.repeat(500) }, 10);
  assert.ok(lines[0]!.endsWith('...'));
  assert.ok(lines[0]!.length < 300);
});
