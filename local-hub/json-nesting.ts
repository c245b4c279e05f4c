/**
 * A bound on JSON nesting, checked iteratively before any recursive rule (twin validation, merge
 * patch, `$metadata`) walks a document from a client: a payload nested thousands of levels deep must
 * be refused as bad input, not overflow the stack. Shared by every transport (REST and MQTT).
 */
import { hubErrors } from './errors';

/** Twins allow 10 object levels (docs/iot-hub-behaviour.md §5) plus the envelope; anything far deeper is hostile. */
export const MAX_JSON_NESTING = 64;

export function assertJsonNesting(value: unknown): void {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!;
    if (typeof current !== 'object' || current === null) continue;
    if (depth > MAX_JSON_NESTING) {
      throw hubErrors.formatError(`JSON nesting is deeper than ${MAX_JSON_NESTING} levels`);
    }
    for (const child of Object.values(current)) stack.push([child, depth + 1]);
  }
}
