/**
 * One PostgreSQL transaction for a store method, and the mapping of the server's failures to
 * the API's errors.
 *
 * Guarantees:
 * - `inTransaction` commits what `fn` did, or rolls all of it back (a store method never
 *   half-applies a change); the connection goes back to the pool either way, and one that
 *   failed mid-transaction is discarded rather than reused.
 * - A serialization failure (40001) or deadlock (40P01) between replicas is retried, at most
 *   `MAX_TRIES` times with a short random wait: `fn` must only touch the database.
 * - `pgFailure` turns what a caller can do nothing about into 503 SERVICE_UNAVAILABLE with a
 *   Retry-After (connection lost, server shutting down, too many connections, statement
 *   timeout): the write was not committed and its retry is safe. A NUL in a text value
 *   (22021, which PostgreSQL cannot store and SQLite can) is a 400. Anything else is rethrown.
 */
import type pg from 'pg';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppError } from '../../../shared/errors.js';

export const MAX_TRIES = 5;
/** Retry-After (seconds) of a 503 for a database that cannot take the request now. */
export const PG_RETRY_AFTER_S = 2;

const RETRY_CODES = new Set(['40001', '40P01']);
/** SQLSTATE classes and codes of a database that is unreachable or refusing work for now. */
// Not all of class 08: 08P01 (protocol violation) is a bug of ours, and must not pass for a 503.
const UNAVAILABLE = /^(0800[0-6]|57P0[1-3]|53300|57014|55P03)$/;
const CLIENT_UNAVAILABLE = /^(Connection terminated|Query read timeout|timeout exceeded when trying to connect|Client has encountered a connection error)/;
const NODE_UNAVAILABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH']);

export interface TransactionOptions {
  /** Default: read committed (PostgreSQL's). */
  isolation?: 'repeatable read' | 'serializable';
}

export async function inTransaction<T>(pool: pg.Pool, fn: (c: pg.PoolClient) => Promise<T>, opts: TransactionOptions = {}): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (e) {
      throw pgFailure(e);
    }
    let broken: Error | undefined;
    try {
      await client.query(opts.isolation ? `BEGIN ISOLATION LEVEL ${opts.isolation.toUpperCase()}` : 'BEGIN');
      const out = await fn(client);
      await client.query('COMMIT');
      return out;
    } catch (e) {
      try {
        await client.query('ROLLBACK');
      } catch (rollbackError) {
        broken = rollbackError as Error;
      }
      const code = (e as { code?: string }).code;
      if (code && RETRY_CODES.has(code) && attempt < MAX_TRIES) {
        await sleep(5 + Math.random() * 20 * attempt);
        continue;
      }
      throw pgFailure(e);
    } finally {
      client.release(broken);
    }
  }
}

/** The API's error for a failure of the database, or the error itself when it is not one. */
export function pgFailure(e: unknown): unknown {
  if (e instanceof AppError) return e;
  const code = (e as { code?: unknown }).code;
  // node-postgres's own failures carry no SQLSTATE: a connection that ended or timed out.
  if (code === undefined && e instanceof Error && CLIENT_UNAVAILABLE.test(e.message)) return unavailable();
  if (typeof code !== 'string') return e;
  if (code === '22021') {
    return new AppError('VALIDATION_ERROR', 'Validation error', { errors: [{ field: '(body)', message: 'text values must not contain NUL characters' }] });
  }
  if (UNAVAILABLE.test(code) || NODE_UNAVAILABLE.has(code)) return unavailable();
  return e;
}

const unavailable = () =>
  new AppError('SERVICE_UNAVAILABLE', 'The database cannot take this request now; nothing was stored, retry it', {
    extra: { retry_after_seconds: PG_RETRY_AFTER_S },
  });
