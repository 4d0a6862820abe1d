/**
 * Request body limits for the whole app, the first thing a request meets after its id.
 *
 * Guarantees:
 * - Every request has a limit: the JSON limit (default 64 KiB, ANPR_MAX_JSON_BYTES) unless a
 *   rule gives its route a larger one (multipart event ingest, image uploads); GET and HEAD
 *   take no body at all (nothing would read it, and the server would drain it unbounded).
 * - The limit is checked before any body is buffered and before authentication: a declared
 *   Content-Length over it is refused from the header alone, the body never read; a body
 *   without a declared length (chunked) is counted while it streams and refused as soon as
 *   it passes the limit, so at most `limit` bytes of it are ever held.
 * - Refused is 413 PAYLOAD_TOO_LARGE with the contract's error body, and the connection is
 *   closed, so the rest of a huge upload is not read.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { AppError } from '../../shared/errors.js';
import type { Env } from './types.js';

/** The default: a JSON request of this API is small; 64 KiB holds the largest valid one with room to spare. */
export const DEFAULT_MAX_JSON_BYTES = 64 * 1024;

/** A route whose bodies may be larger than the JSON limit. */
export interface BodyLimitRule {
  method: string;
  /** The exact path, or a pattern for paths with a parameter (`/config/lists/{id}/entries`). */
  path: string | RegExp;
  /** Only for multipart/form-data bodies (a JSON body to the same route keeps the JSON limit). */
  multipart?: boolean;
  maxBytes: number;
}

/** The limit of one request: the first matching rule's, else `jsonMax`. */
export function limitOf(c: Context, jsonMax: number, rules: readonly BodyLimitRule[]): number {
  for (const r of rules) {
    if (r.method !== c.req.method || (typeof r.path === 'string' ? r.path !== c.req.path : !r.path.test(c.req.path))) continue;
    if (r.multipart && !(c.req.header('content-type') ?? '').toLowerCase().startsWith('multipart/form-data')) continue;
    return r.maxBytes;
  }
  return jsonMax;
}

export function bodyLimits(jsonMax: number, rules: readonly BodyLimitRule[]): MiddlewareHandler<Env> {
  const tooLarge = (c: Context, max: number): never => {
    // Close rather than drain what the client still sends.
    c.header('connection', 'close');
    throw new AppError('PAYLOAD_TOO_LARGE', max === 0 ? `${c.req.method} requests take no body` : `Request body exceeds ${max} bytes`);
  };
  // One streaming counter per distinct limit (hono's bodyLimit: counts each chunk, holds at most maxSize).
  const streaming = new Map<number, MiddlewareHandler>();
  const counter = (max: number) => {
    let m = streaming.get(max);
    if (!m) streaming.set(max, (m = bodyLimit({ maxSize: max, onError: (c) => tooLarge(c, max) })));
    return m;
  };
  return async (c, next) => {
    const max = c.req.method === 'GET' || c.req.method === 'HEAD' ? 0 : limitOf(c, jsonMax, rules);
    // From the headers alone while they settle it: touching the body stream would make the
    // Node adapter build a full Request for every request (a third of the CPU of an ingest).
    if (c.req.header('transfer-encoding') === undefined) {
      const length = c.req.header('content-length');
      // Without either header an HTTP/1.1 request has no body.
      if (length === undefined) return next();
      if (!(Number(length) <= max)) tooLarge(c, max);
      return next();
    }
    return max === 0 ? tooLarge(c, 0) : counter(max)(c, next);
  };
}

/** A byte count from a setting: an integer from 1 KiB to 64 MiB, else CONFIG_INVALID. */
export function parseByteLimit(name: string, value: string | number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1024 || n > 64 * 1024 * 1024) throw new AppError('CONFIG_INVALID', `${name} must be a whole number of bytes from 1024 to 67108864 (got '${value}')`);
  return n;
}
