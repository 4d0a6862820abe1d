/**
 * The one place where errors become HTTP responses, in the contract's error body:
 * `{ detail, error_code, timestamp, request_id }` (+ `errors` for validation failures).
 * Anything unexpected is logged and answered 500 INTERNAL_ERROR without internals.
 */
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { AppError, ErrorCode, fieldErrors, type FieldError } from '../../shared/errors.js';
import type { Logger } from '../../shared/log.js';
import { storageUnavailable } from '../db/open.js';
import type { Env } from './types.js';
import type { ZodType } from 'zod';
import { MAX_BODY_DEPTH, jsonTooDeep } from '../../shared/schemas/json-bounds.js';

export function errorBody(c: Context<Env>, code: string, detail: string, extra: Record<string, unknown> = {}) {
  return {
    detail,
    error_code: code,
    timestamp: new Date().toISOString(),
    request_id: c.get('requestId') ?? 'unknown',
    ...extra,
  };
}

/**
 * `databaseFailure`: the backend's reading of an error its driver raised (PostgreSQL: a lost
 * connection or a timeout is a 503), for one that reached here without passing a store's mapping.
 */
export function errorHandler(log: Logger, databaseFailure?: (e: unknown) => unknown) {
  return (err: Error, c: Context<Env>) => {
    // The database locked past busy_timeout, full or failing: a retryable 503, not a 500.
    if (!(err instanceof AppError)) err = storageUnavailable((err as { code?: string }).code) ?? err;
    if (!(err instanceof AppError) && databaseFailure) err = databaseFailure(err) as Error;
    if (err instanceof AppError) {
      const extra: Record<string, unknown> = { ...(err.extra ?? {}) };
      if (err.errors) extra.errors = err.errors;
      // A retryable refusal (429, 503) says when to retry in the header as well as the body.
      if (typeof extra.retry_after_seconds === 'number') c.header('Retry-After', String(extra.retry_after_seconds));
      if (err.status >= 500) log.error({ err, request_id: c.get('requestId') }, 'request failed');
      return c.json(errorBody(c, err.code, err.message, extra), err.status as 400);
    }
    if (err instanceof HTTPException) {
      const status = err.status;
      const code =
        status === 413 ? ErrorCode.PAYLOAD_TOO_LARGE : status === 401 ? ErrorCode.AUTHENTICATION_FAILED : status === 404 ? ErrorCode.RESOURCE_NOT_FOUND : ErrorCode.INVALID_REQUEST;
      return c.json(errorBody(c, code, err.message || 'Invalid request'), status);
    }
    log.error({ err, request_id: c.get('requestId') }, 'unhandled error');
    return c.json(errorBody(c, ErrorCode.INTERNAL_ERROR, 'Internal server error'), 500);
  };
}

/** Parses `value` with `schema` or throws a 400 VALIDATION_ERROR naming each bad field. */
export function validate<T>(schema: ZodType<T>, value: unknown, detail = 'Validation error'): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  throw new AppError('VALIDATION_ERROR', detail, { errors: fieldErrors(r.error.issues as never) });
}

/** Query-string parameters: unknown ones are errors too (a typo must not silently widen a search). */
export function validateQuery<T>(schema: ZodType<T>, c: Context, detail = 'Invalid query parameters'): T {
  return validate(schema, c.req.query(), detail);
}

/** `body` when it nests at most MAX_BODY_DEPTH levels, else a 400 naming the top-level field. */
export function checkBodyDepth<T>(body: T): T {
  const deep = jsonTooDeep(body, MAX_BODY_DEPTH);
  if (deep) {
    const field = deep.length ? String(deep[0]) : '(body)';
    throw new AppError('VALIDATION_ERROR', 'Validation error', { errors: [{ field, message: `${field}: nests deeper than ${MAX_BODY_DEPTH} levels` }] });
  }
  return body;
}

/**
 * The request's JSON body, or a 400 INVALID_REQUEST when it is not JSON, or a 400 naming the
 * field that nests deeper than MAX_BODY_DEPTH (JSON.parse does not recurse; what reads the
 * value afterwards may, so nothing deeper gets past here).
 */
export async function readJson(c: Context): Promise<unknown> {
  let body: unknown;
  try {
    body = await c.req.json();
  } catch {
    throw new AppError('INVALID_REQUEST', 'Malformed JSON body');
  }
  return checkBodyDepth(body);
}

export function notFound(what: string): AppError {
  return new AppError('RESOURCE_NOT_FOUND', `${what} not found`);
}

export type { FieldError };
