/**
 * Where `anpr cloud migrate` keeps its progress in the target PostgreSQL database, and the checks
 * made before anything is written there.
 *
 * - `sqlite_import` (one row): the SQLite file being copied (its real path), the row counts it
 *   had when the copy began, when it began, and when every table's counts matched (null until
 *   then). `sqlite_import_progress`: per table, the SQLite key of the last row copied and how
 *   many rows were, written in the transaction of the batch it describes, so a copy interrupted
 *   at any point resumes exactly after its last commit. Both tables stay after the copy, as the
 *   record of where the data came from; the cloud's schema (migrations.ts) does not know them.
 * - A target is accepted when it has no table at all, or is an anpr cloud database whose tables
 *   hold nothing (the config generation at 0), or when `sqlite_import` names this same file
 *   (a resumed copy). Anything else is refused with CONFIG_INVALID naming `--to` and what it holds,
 *   before any write.
 * - One copy at a time per database: the session advisory lock (ANPR_LOCK_SPACE, 4) is held for
 *   the whole run; a second run is refused at once.
 * - A cloud never starts on a database whose copy has not finished (`unfinishedImport`, called by
 *   pg-backend.ts): its image sweep would take the images of events not copied yet for orphans.
 */
import type pg from 'pg';
import { AppError } from '../../../shared/errors.js';
import { ANPR_LOCK_SPACE } from '../../db/pg/partitions.js';
import type { Cursor } from './sqlite-import-tables.js';

/** pg_advisory_lock(ANPR_LOCK_SPACE, 4): one `anpr cloud migrate` per database (1 migrations, 2 partitions, 3 edge registration). */
export const IMPORT_LOCK_ID = 4;

const STATE_TABLES = ['sqlite_import', 'sqlite_import_progress'];

const CREATE_STATE = `
  CREATE TABLE IF NOT EXISTS sqlite_import (
    id integer PRIMARY KEY CHECK (id = 1),
    source text NOT NULL,                -- the SQLite file's real path
    source_counts text NOT NULL,         -- JSON {table: rows} when the copy began
    started_at bigint NOT NULL,
    finished_at bigint                   -- every count matched; null until then
  );
  CREATE TABLE IF NOT EXISTS sqlite_import_progress (
    table_name text COLLATE "C" PRIMARY KEY,
    cursor text,                         -- JSON: the SQLite key of the last row copied
    copied bigint NOT NULL
  );`;

export interface ImportRecord {
  source: string;
  counts: Record<string, number>;
  startedAt: number;
  finishedAt: number | null;
}

/** The tables of the current schema (partitions excluded). */
async function tablesOf(c: pg.PoolClient): Promise<string[]> {
  const r = await c.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND NOT c.relispartition ORDER BY 1`,
  );
  return r.rows.map((x) => x.name);
}

/** The import this database records, or null when none began here. */
export async function importRecord(q: pg.Pool | pg.PoolClient): Promise<ImportRecord | null> {
  if (!(await q.query<{ e: boolean }>("SELECT to_regclass('sqlite_import') IS NOT NULL AS e")).rows[0]!.e) return null;
  const row = (await q.query<{ source: string; source_counts: string; started_at: number; finished_at: number | null }>('SELECT * FROM sqlite_import WHERE id = 1')).rows[0];
  return row ? { source: row.source, counts: JSON.parse(row.source_counts) as Record<string, number>, startedAt: row.started_at, finishedAt: row.finished_at } : null;
}

/**
 * Holds the import lock on `c` for the session, or refuses: another run copies into this
 * database now.
 */
export async function lockImport(c: pg.PoolClient, target: string): Promise<void> {
  const got = (await c.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS ok', [ANPR_LOCK_SPACE, IMPORT_LOCK_ID])).rows[0]!.ok;
  if (got) return;
  const holder = (await c.query<{ pid: number; state: string | null }>(
    `SELECT a.pid, a.state FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
      WHERE l.locktype = 'advisory' AND l.granted AND l.classid = $1 AND l.objid = $2 AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
    [ANPR_LOCK_SPACE, IMPORT_LOCK_ID],
  )).rows[0];
  const who = holder ? ` (server process ${holder.pid}, ${holder.state ?? 'state unknown'})` : '';
  // A run cut off by a lost connection keeps its session, and the lock, until the server notices.
  throw new AppError(
    'SERVICE_UNAVAILABLE',
    `Another \`anpr cloud migrate\` is copying into ${target} now${who}: wait for it to end; if that run was cut off, end its session (SELECT pg_terminate_backend(${holder?.pid ?? 'PID'})) and run this again`,
  );
}

/** Refuses a target a cloud is connected to (its pool's application_name, connect.ts). */
export async function refuseConnectedCloud(c: pg.PoolClient, target: string): Promise<void> {
  const n = (await c.query<{ n: number }>(
    "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'anpr-cloud' AND pid <> pg_backend_pid()",
  )).rows[0]!.n;
  if (n > 0) throw new AppError('CONFIG_INVALID', `An anpr cloud is connected to ${target} (${n} connections): stop every cloud on that database before migrating into it`);
}

/**
 * Accepts the target for a copy of `source` (see the module header): 'resume' when it records
 * this same source, 'fresh' when it holds nothing. Writes nothing; refuses with CONFIG_INVALID.
 */
export async function checkTarget(c: pg.PoolClient, source: string, target: string): Promise<'fresh' | 'resume'> {
  const tables = await tablesOf(c);
  const record = tables.includes('sqlite_import') ? await importRecord(c) : null;
  if (record) {
    if (record.source === source) return 'resume';
    throw new AppError('CONFIG_INVALID', `${target} is being filled from another SQLite database, ${record.source}, not ${source} (--from): check --from, or use a new, empty database for it`);
  }
  if (tables.length === 0) return 'fresh';
  if (!tables.includes('schema_migrations')) {
    throw new AppError('CONFIG_INVALID', `${target} holds tables that are not an anpr cloud's (${tables.slice(0, 5).join(', ')}${tables.length > 5 ? ', …' : ''}): use a new, empty database for it (createdb)`);
  }
  const held: string[] = [];
  for (const t of tables.filter((x) => x !== 'schema_migrations' && !STATE_TABLES.includes(x))) {
    const sql = t === 'config_generation' ? 'SELECT EXISTS (SELECT 1 FROM config_generation WHERE n <> 0) AS e' : `SELECT EXISTS (SELECT 1 FROM "${t}") AS e`;
    if ((await c.query<{ e: boolean }>(sql)).rows[0]!.e) held.push(t);
  }
  if (held.length > 0) {
    throw new AppError('CONFIG_INVALID', `${target} already holds data that did not come from ${source} (--from), in ${held.join(', ')} (was a cloud started on it?): use a new, empty database for it (createdb)`);
  }
  return 'fresh';
}

/** Creates the progress tables and records the copy of `source` beginning (a fresh target). */
export async function beginImport(c: pg.PoolClient, source: string, counts: Record<string, number>, now: number): Promise<void> {
  await c.query(CREATE_STATE);
  await c.query('INSERT INTO sqlite_import (id, source, source_counts, started_at) VALUES (1, $1, $2, $3)', [source, JSON.stringify(counts), now]);
}

/** The cursor and rows copied so far of `table` (null, 0 before its first batch). */
export async function progressOf(q: pg.Pool | pg.PoolClient, table: string): Promise<{ cursor: Cursor | null; copied: number }> {
  const row = (await q.query<{ cursor: string | null; copied: number }>('SELECT cursor, copied FROM sqlite_import_progress WHERE table_name = $1', [table])).rows[0];
  return row ? { cursor: row.cursor === null ? null : (JSON.parse(row.cursor) as Cursor), copied: row.copied } : { cursor: null, copied: 0 };
}

/** Records a batch of `table` copied up to `cursor`: call in the batch's transaction. */
export async function advance(tx: pg.PoolClient, table: string, cursor: Cursor, rows: number): Promise<void> {
  await tx.query(
    `INSERT INTO sqlite_import_progress AS p (table_name, cursor, copied) VALUES ($1, $2, $3)
     ON CONFLICT (table_name) DO UPDATE SET cursor = excluded.cursor, copied = p.copied + excluded.copied`,
    [table, JSON.stringify(cursor), rows],
  );
}

/** Marks the copy finished (every count matched). */
export async function finishImport(c: pg.PoolClient, now: number): Promise<void> {
  await c.query('UPDATE sqlite_import SET finished_at = $1 WHERE id = 1', [now]);
}

/**
 * Refuses to serve a database whose copy from SQLite has not finished (see the module header);
 * one query when there is no such copy.
 */
export async function refuseUnfinishedImport(q: pg.Pool | pg.PoolClient, display: string): Promise<void> {
  const record = await importRecord(q);
  if (record && record.finishedAt === null) {
    throw new AppError(
      'CONFIG_INVALID',
      `${display} (--database-url / ANPR_DATABASE_URL) is being filled from the SQLite database ${record.source}, and that copy has not finished: run \`anpr cloud migrate --from DATA_DIR --to URL\` again until it ends with every count matching`,
    );
  }
}
