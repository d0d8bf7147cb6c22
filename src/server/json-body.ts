import type { FastifyInstance } from 'fastify';
import { MalformedJsonError } from './http-errors.js';

/** Largest JSON request body accepted by default. */
export const DEFAULT_MAX_JSON_BYTES = 1024 * 1024;

/** `application/json` and the `+json` types (merge-patch and friends). */
const JSON_TYPE = /^application\/(?:[\w.-]+\+)?json$/;

/**
 * Replaces fastify's JSON parser (which answers every mistake with the same sentence) with
 * one whose 400 says what is wrong and where. An empty body reads as no body, for POSTs
 * that take none.
 */
export function registerJsonBody(app: FastifyInstance, maxBytes: number): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    JSON_TYPE,
    { parseAs: 'string', bodyLimit: maxBytes },
    (_req, body, done) => {
      try {
        done(null, parseJsonBody(typeof body === 'string' ? body : body.toString('utf8')));
      } catch (error) {
        done(error instanceof Error ? error : new Error(String(error)), undefined);
      }
    },
  );
}

export function parseJsonBody(text: string): unknown {
  if (text.trim() === '') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text, refuseProtoKeys);
  } catch (error) {
    if (error instanceof MalformedJsonError) throw error;
    throw new MalformedJsonError(
      `the request body is not valid JSON: ${syntaxMessage(error, text)}`,
      {
        cause: error,
      },
    );
  }
  return value;
}

/** `__proto__` keys are a prototype-pollution vector for whoever merges the object later. */
function refuseProtoKeys(key: string, value: unknown): unknown {
  if (key === '__proto__') {
    throw new MalformedJsonError('the request body must not contain a "__proto__" key');
  }
  return value;
}

/** V8's message, with the line and column when it gives a position. */
function syntaxMessage(error: unknown, text: string): string {
  const message = error instanceof Error ? error.message : String(error);
  const position = /at position (\d+)/.exec(message)?.[1];
  if (position === undefined) return message;
  const before = text.slice(0, Number(position)).split('\n');
  return `${message} (line ${before.length}, column ${(before.at(-1)?.length ?? 0) + 1})`;
}
