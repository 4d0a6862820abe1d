/**
 * Small helpers the PostgreSQL stores share: positional parameters, one statement outside a
 * transaction with the failure mapping of cloud/db/pg/transaction.ts, a page and its total in
 * one snapshot, and bulk writes cut into batches.
 *
 * Inside `inTransaction` the stores call `client.query` directly: the retry of a
 * serialization failure or deadlock reads the raw SQLSTATE, which `pgFailure` would hide.
 */
import type pg from 'pg';
import { pgFailure } from '../../db/pg/transaction.js';

/** Positional parameters ($1, $2, …) collected while a statement is written. */
export class Params {
  readonly values: unknown[] = [];

  /** The placeholder of `value`: use it as often as the statement needs the value. */
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

/** One statement through the pool; a database that cannot answer now becomes the API's 503 (pgFailure). */
export async function query<R extends pg.QueryResultRow>(pool: pg.Pool, text: string, values: unknown[] = []): Promise<R[]> {
  try {
    return (await pool.query<R>(text, values)).rows;
  } catch (e) {
    throw pgFailure(e);
  }
}

/** One writing statement through the pool, as `query`; resolves to the number of rows it changed. */
export async function run(pool: pg.Pool, text: string, values: unknown[] = []): Promise<number> {
  try {
    return (await pool.query(text, values)).rowCount ?? 0;
  } catch (e) {
    throw pgFailure(e);
  }
}

/**
 * One page (`skip`, `limit`) of `cols` of the rows of `table` matching `where`, in `order`
 * (columns of `cols`, comma-separated; the first of `cols` NOT NULL), and how many rows match. One statement, so the total
 * counts the very rows the page was cut from, also while another replica writes; a page past
 * the end still gets its total (the count's one row, joined to no page row).
 */
export async function pageWithTotal<R extends pg.QueryResultRow>(
  pool: pg.Pool,
  table: string,
  where: string,
  p: Params,
  cols: string,
  order: string,
  skip: number,
  limit: number,
): Promise<{ rows: R[]; total: number }> {
  const outerOrder = order.split(',').map((c) => `p.${c.trim()}`).join(', ');
  const text = `SELECT c.total, p.* FROM (SELECT count(*)::int AS total FROM ${table} WHERE ${where}) c
    LEFT JOIN (SELECT ${cols} FROM ${table} WHERE ${where} ORDER BY ${order} LIMIT ${p.add(limit)} OFFSET ${p.add(skip)}) p ON true
    ORDER BY ${outerOrder}`;
  const rows = await query<R & { total: number }>(pool, text, p.values);
  const total = rows.length ? rows[0]!.total : 0;
  // The first page column is never null in a page row (ids are primary keys): null = no page row.
  const first = cols.split(',')[0]!.trim();
  return { rows: rows.filter((r) => r[first] !== null), total };
}

/** Rows per statement in bulk writes: 200,000 entries go as 20 statements of a few MB each. */
export const BATCH_ROWS = 10_000;

/** `items` in consecutive slices of at most `size`. */
export function* batches<T>(items: readonly T[], size = BATCH_ROWS): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}
