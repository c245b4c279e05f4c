/**
 * Reads a JSON request body: JSON only, at most 256 KB, parse errors reported with their position
 * (never with the body's content), and nesting bounded so the recursive twin rules cannot overflow
 * the stack on hostile input.
 */
import type * as http from 'node:http';
import { hubErrors } from '../errors';
import { assertJsonNesting } from '../json-nesting';
import { findJsonSyntaxError } from './json-syntax';

/** 256 KB: far above any valid request (a twin is ≤ 72 KB, a bulk of 100 identities well below). */
export const MAX_BODY_BYTES = 256 * 1024;

export async function readJsonBody(req: http.IncomingMessage): Promise<unknown> {
  checkContentType(req.headers['content-type']);
  const text = await readText(req);
  if (text.trim() === '') throw hubErrors.formatError('the request body is empty; send a JSON document');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    const e = findJsonSyntaxError(text);
    throw hubErrors.formatError(
      e
        ? `malformed JSON at position ${e.position} (line ${e.line}, column ${e.column}): ${e.message}`
        : 'malformed JSON',
    );
  }
  assertJsonNesting(value);
  return value;
}

function checkContentType(header: string | undefined): void {
  const mediaType = header?.split(';')[0]?.trim().toLowerCase();
  if (mediaType !== 'application/json') {
    throw hubErrors.unsupportedMediaType(
      `content-type ${JSON.stringify(header ?? '')} is not supported; send application/json`,
    );
  }
}

/** Collects up to MAX_BODY_BYTES; past that, keeps draining (so the answer can still be read) and fails. */
function readText(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => {
      if (size > MAX_BODY_BYTES) {
        reject(
          hubErrors.messageTooLarge(`the request body is ${size} bytes; the maximum is ${MAX_BODY_BYTES}`),
        );
      } else {
        resolve(Buffer.concat(chunks).toString('utf8'));
      }
    });
    req.on('error', reject);
  });
}
