/**
 * The SQL of event searches on PostgreSQL: filters, sort orders and the partial plate match,
 * written to select and order exactly the rows SQLite's (cloud/store/events-store.ts) do.
 *
 * - NULL confidence sorts lowest, as in SQLite: first ascending, last descending (PostgreSQL
 *   puts NULLs last ascending unless told).
 * - `alert: false` is every event whose decision_alert is not 1, NULL included (SQLite's `IS NOT 1`).
 * - The partial plate match folds case as SQLite's does: every cased letter for a search of three
 *   characters or more (the FTS5 trigram index folds them), ASCII letters only below that (LIKE).
 *   It is a regular expression over the plates dictionary, each letter a bracket of its cases, so
 *   pg_trgm's index answers it whatever the database's locale; ILIKE would fold by that locale.
 */
import type { EventFilter, SortField } from '../events-store.js';
import { usesTrigrams } from '../plate-dictionary.js';
import type { Params } from './sql.js';

/** `AND camera_id = $n AND zone_id = $m` for the filters given (columns of events and of the rollups). */
export function dimensionSql(f: { camera_id?: string; zone_id?: string }, p: Params): string {
  let sql = '';
  if (f.camera_id !== undefined) sql += ` AND camera_id = ${p.add(f.camera_id)}`;
  if (f.zone_id !== undefined) sql += ` AND zone_id = ${p.add(f.zone_id)}`;
  return sql;
}

/** The conditions of a search, each prefixed with AND (empty for none). */
export function filterSql(f: EventFilter, p: Params): string {
  let sql = dimensionSql(f, p);
  if (f.start !== undefined) sql += ` AND ts >= ${p.add(f.start)}`;
  if (f.end !== undefined) sql += ` AND ts <= ${p.add(f.end)}`;
  if (f.min_confidence !== undefined) sql += ` AND confidence >= ${p.add(f.min_confidence)}`;
  if (f.action !== undefined) sql += ` AND decision_action = ${p.add(f.action)}`;
  // A literal 1: the partial index events_alert_ts serves only a query that names it.
  if (f.alert !== undefined) sql += f.alert ? ' AND decision_alert = 1' : ' AND decision_alert IS DISTINCT FROM 1';
  if (f.plate_text !== undefined && f.plate_text !== '') {
    const re = plateRegex(f.plate_text);
    sql += re === null ? ' AND false' : ` AND plate_text IN (SELECT plate_text FROM plates WHERE plate_text ~ ${p.add(re)})`;
  }
  return sql;
}

/** `WHERE …` for the conditions (empty for none). */
export function whereSql(conditions: string): string {
  return conditions ? `WHERE ${conditions.slice(' AND '.length)}` : '';
}

/** ORDER BY of a page of `list`: the sort column, then seq, NULL confidence lowest. */
export function listOrder(sort: SortField, order: 'asc' | 'desc'): string {
  const dir = order === 'asc' ? 'ASC' : 'DESC';
  if (sort === 'confidence') return `confidence ${dir} ${order === 'asc' ? 'NULLS FIRST' : 'NULLS LAST'}, seq ${dir}`;
  return `${sort === 'plate_text' ? 'plate_text' : 'ts'} ${dir}, seq ${dir}`;
}

/** The keyset of `pageAfter`: a total order (NULL confidence as -1, below every confidence). */
export function keysetColumn(sort: SortField): string {
  return sort === 'confidence' ? 'coalesce(confidence, -1.0)' : sort === 'plate_text' ? 'plate_text' : 'ts';
}

const LETTER_OR_DIGIT = /^[\p{L}\p{N}]$/u;

/**
 * A regular expression (PostgreSQL's) matching the plates that contain `q`, case folded as
 * SQLite's search folds it (see above); null when no plate can match (a NUL, which no stored
 * text holds).
 */
export function plateRegex(q: string): string | null {
  if (q.includes('\u0000')) return null;
  const everyLetter = usesTrigrams(q);
  let re = '';
  for (const ch of q) {
    if (!LETTER_OR_DIGIT.test(ch)) {
      // A backslash before a character that is not a letter or digit takes it literally.
      re += `\\${ch}`;
      continue;
    }
    const cases = new Set([ch]);
    if (everyLetter || ch < '\u0080') {
      for (const v of [ch.toLowerCase(), ch.toUpperCase()]) {
        if ([...v].length === 1 && (everyLetter || v < '\u0080')) cases.add(v);
      }
    }
    re += cases.size === 1 ? ch : `[${[...cases].join('')}]`;
  }
  return re;
}
