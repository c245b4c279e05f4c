/**
 * The repository stands alone: no tracked file cites material a reader of a clone cannot open (notes
 * kept next to the repository, an outside "fact sheet", an outside architecture or prior-art page).
 * Facts are cited from the repository's own pages: docs/iot-hub-behaviour.md (IoT Hub and SDK behaviour,
 * with public sources) and docs/architecture.md (parts, data flow, decisions). See CONTRIBUTING.md.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';

const ROOT = path.resolve(__dirname, '..', '..');
const SELF = 'tests/unit/repository-stands-alone.test.ts';

/** Each pattern names a reference that points outside the repository. */
const OUTSIDE_REFERENCES: readonly { readonly what: string; readonly pattern: RegExp }[] = [
  {
    what: 'a path outside the repository',
    pattern: /\.\.\/(?:shared|reference)\/|\bshared\/(?:reference|design)\//,
  },
  // Across comment line breaks too: "fact\n * sheet".
  { what: 'the outside fact sheet', pattern: /\bfact[\s*/#]+sheet/i },
  { what: 'the outside prior-art page', pattern: /\bprior-art\b/i },
  // The outside fact sheet's name; the repository's own page is docs/iot-hub-behaviour.md.
  { what: 'the outside IoT Hub fact sheet', pattern: /\biothub-facts\b/i },
  { what: 'architecture.md outside docs/', pattern: /(?<!docs\/)\barchitecture\.md\b/i },
  { what: 'the outside architecture page', pattern: /\(architecture\b|\barchitecture page\b/i },
  { what: 'a numbered outside source ([S4])', pattern: /\[S\d+[a-z]?\]/ },
];

function trackedFiles(): string[] {
  const out = execFileSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 << 20 });
  return out.split('\0').filter((file) => file !== '' && file !== SELF);
}

/** `file:line: what ("matched text")` for the first hit of each pattern in one file. */
function outsideReferences(file: string): string[] {
  let text: string;
  try {
    text = readFileSync(path.join(ROOT, file), 'utf8');
  } catch {
    return []; // deleted in the working tree but still tracked
  }
  if (text.includes('\0')) return []; // binary
  const hits: string[] = [];
  const hit = (what: string, match: RegExpExecArray) => {
    const line = text.slice(0, match.index).split('\n').length;
    hits.push(`${file}:${line}: ${what} (${JSON.stringify(match[0])})`);
  };
  for (const { what, pattern } of OUTSIDE_REFERENCES) {
    const match = pattern.exec(text);
    if (match !== null) hit(what, match);
  }
  // A bare "§5" must say whose section it is: docs/iot-hub-behaviour.md, or a named spec (RFC, MQTT 3.1.1).
  const section = /§\d/.exec(text);
  if (section !== null && !/docs\/iot-hub-behaviour\.md|\bRFC \d|MQTT 3\.1\.1/.test(text)) {
    hit('a section (§) cited without naming its page', section);
  }
  return hits;
}

test('no tracked file cites material outside the repository', () => {
  const hits = trackedFiles().flatMap(outsideReferences);
  const files = new Set(hits.map((hit) => hit.slice(0, hit.indexOf(':'))));
  assert.equal(
    hits.length,
    0,
    `${files.size} tracked file(s) cite material outside the repository; cite a docs/ page instead ` +
      `(docs/iot-hub-behaviour.md, docs/architecture.md):\n${hits.join('\n')}`,
  );
});
