/**
 * `anpr cloud migrate --from DATA_DIR --to URL`: moves a SQLite cloud (DATA_DIR/anpr.db) into a
 * PostgreSQL database, which `anpr cloud --database-url URL` then serves with the same answers.
 *
 * Guarantees:
 * - Nothing is written before every check passed: the URL parses (CONFIG_INVALID naming --to),
 *   DATA_DIR holds a cloud database at this release's schema version, no cloud runs on it, and
 *   the target is empty, or holds a copy of this same file begun earlier (sqlite-import-state.ts).
 * - The SQLite database is only read (query_only; closing it folds a WAL a crash left behind into
 *   the file, as any last connection's close does, changing no row). It is read under SQLite's
 *   exclusive lock, taken before the first read and held to the end: a cloud running on it is
 *   refused (SQLITE_BUSY), and a cloud started meanwhile cannot open it. Its content is the same
 *   throughout, so counts taken at the start are those of every row copied.
 * - Every table of the SQLite schema is copied (sqlite-import-tables.ts), in batches of
 *   `batchSize` rows in SQLite key order; each batch commits in one transaction with the cursor
 *   that says it was copied. Interrupted anywhere (Ctrl-C, a crash, a lost connection), the next
 *   run continues after the last committed batch and ends with the same rows: none twice (the
 *   cursor, and ON CONFLICT on every key), none missing (verified by counts).
 * - Statistics are identical: rollups and plate sketches are copied as they are (the same sums
 *   and registers), not recomputed.
 * - The result is verified: per table, the SQLite and PostgreSQL row counts (and one event_ids row
 *   per event). Only when all match is the copy marked finished; until then a cloud refuses to
 *   start on the database (pg-backend.ts), since its image sweep would take the images of events
 *   not copied yet for orphans.
 * - Images are not in the database: DATA_DIR/images stays where it is (or is copied to an object
 *   store separately; relative names are the same in both stores: docs/cloud-durability.md).
 */
import Database from 'better-sqlite3';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type pg from 'pg';
import { AppError } from '../../../shared/errors.js';
import { silentLogger, type Logger } from '../../../shared/log.js';
import { SCHEMA_VERSION } from '../../db/migrations.js';
import { openPgPool } from '../../db/pg/connect.js';
import { parseDatabaseUrl } from '../../db/pg/database-url.js';
import { ensurePartitions, migrate, monthOf, type PartitionRange } from '../../db/pg/migrations.js';
import { inTransaction } from '../../db/pg/transaction.js';
import { advance, beginImport, checkTarget, finishImport, importRecord, lockImport, progressOf, refuseConnectedCloud } from './sqlite-import-state.js';
import { batchParams, cursorOf, cursorParams, IMPORT_TABLES, insertBatch, pgCount, selectBatch, type Cursor, type ImportTable } from './sqlite-import-tables.js';

export interface SqliteImportOptions {
  /** The SQLite cloud's data dir (`--from`), holding anpr.db. */
  from: string;
  /** The PostgreSQL database URL. */
  to: string;
  /** How `to` was given, named in every message about it (default `--to`). */
  toSetting?: string;
  /** Rows per batch and transaction (default 5000). */
  batchSize?: number;
  /** One line of progress (the CLI writes them to stderr). */
  progress?: (line: string) => void;
  /** Events between two progress lines (default 100,000). */
  progressEvery?: number;
  /** Stops between two batches (Ctrl-C): the next run continues from there. */
  signal?: AbortSignal;
  /** Tests: stop after this many batches of this run, as `signal` does. */
  stopAfterBatches?: number;
  logger?: Logger;
}

export interface TableCount {
  table: string;
  sqlite: number;
  postgres: number;
}

export interface SqliteImportResult {
  /** The SQLite file copied. */
  source: string;
  /** The target, its credentials masked. */
  target: string;
  /** finished: every count matched; mismatch: some did not (see counts); interrupted: run again. */
  state: 'finished' | 'mismatch' | 'interrupted';
  /** Per table (and event_ids), empty when interrupted. */
  counts: TableCount[];
  /** The image directory, which stays where it is. */
  imagesDir: string;
}

const DB_FILE = 'anpr.db';

/** The SQLite file, opened for reading under the exclusive lock (see the guarantees above). */
function openSource(file: string): Database.Database {
  let db: Database.Database | undefined;
  try {
    db = new Database(file, { fileMustExist: true });
    // A brief admin command (`anpr apikey`) holding the file is waited for; a running cloud is not.
    db.pragma('busy_timeout = 1000');
    // Exclusive: taken by the first read below and kept until close. In WAL mode every open
    // connection holds a shared lock on the file, so a running cloud makes that read SQLITE_BUSY.
    db.pragma('locking_mode = EXCLUSIVE');
    db.pragma('query_only = 1');
    db.prepare('SELECT count(*) FROM sqlite_master').get();
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version !== SCHEMA_VERSION) {
      throw new AppError('CONFIG_INVALID', version < SCHEMA_VERSION
        ? `${file} (--from) is at schema version ${version}, older than this release's ${SCHEMA_VERSION}: start \`anpr cloud\` on it once with this release (it migrates the file at start), stop it, then migrate`
        : `${file} (--from) is at schema version ${version}, newer than this release knows (${SCHEMA_VERSION}): migrate with a release at least as new`);
    }
    return db;
  } catch (e) {
    db?.close();
    if (e instanceof AppError) throw e;
    const code = (e as { code?: string }).code ?? '';
    if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
      throw new AppError('SERVICE_UNAVAILABLE', `${file} (--from) is in use: stop the cloud running on it (systemctl stop anpr-cloud) and any \`anpr\` command on that data dir, then run this again`);
    }
    throw new AppError('CONFIG_INVALID', `cannot read ${file} (--from) as a cloud database: ${(e as Error).message}`, { cause: e });
  }
}

/** The months (UTC) holding events, one indexed look-up each. */
function monthsWithEvents(db: Database.Database): PartitionRange[] {
  const first = db.prepare('SELECT min(ts) FROM events WHERE ts >= ?').pluck();
  const out: PartitionRange[] = [];
  for (let ts = first.get(0) as number | null; ts !== null; ) {
    const m = monthOf(ts);
    if (!m) break; // past the years partitions cover: those stay in the default partition
    out.push(m);
    ts = first.get(m.to) as number | null;
  }
  return out;
}

const fmt = (n: number) => n.toLocaleString('en-US');

/** Copies the SQLite cloud of `opts.from` into `opts.to` (see the guarantees above); resolves with the counts. */
export async function importSqliteCloud(opts: SqliteImportOptions): Promise<SqliteImportResult> {
  const setting = opts.toSetting ?? '--to';
  const display = parseDatabaseUrl(opts.to, setting).display;
  const target = `${display} (${setting})`;
  const dir = resolve(opts.from);
  if (!existsSync(join(dir, DB_FILE))) {
    throw new AppError('RESOURCE_NOT_FOUND', `no cloud data in ${dir} (no ${DB_FILE}): check --from, the data dir of the SQLite cloud (\`anpr cloud --data-dir\`)`);
  }
  const source = realpathSync(join(dir, DB_FILE));
  const progress = opts.progress ?? (() => {});
  const log = (opts.logger ?? silentLogger).child({ component: 'sqlite-import' });
  const imagesDir = join(dir, 'images');
  const sqlite = openSource(source);
  try {
    const sqliteCounts = Object.fromEntries(IMPORT_TABLES.map((t) => [t.name, sqlite.prepare(`SELECT count(*) FROM ${t.name}`).pluck().get() as number]));
    const database = await openPgPool(opts.to, { setting, applicationName: 'anpr-migrate', max: 3, statementTimeoutMs: 600_000, logger: log, signal: opts.signal });
    // The import lock lives as long as this session; closing it (never returned to the pool) ends the lock too.
    const session = await database.pool.connect().catch(async (e: unknown) => {
      await database.close();
      throw e;
    });
    try {
      await lockImport(session, target);
      await refuseConnectedCloud(session, target);
      const mode = await checkTarget(session, source, target);
      await migrate(database.pool, { logger: log });
      let resumed: string | undefined;
      if (mode === 'fresh') {
        await inTransaction(database.pool, (tx) => beginImport(tx, source, sqliteCounts, Date.now()));
      } else {
        const record = (await importRecord(session))!;
        const began = record.counts;
        resumed = record.finishedAt === null ? 'Resuming the copy of' : `Checking the copy (finished ${new Date(record.finishedAt).toISOString()}) of`;
        const changed = IMPORT_TABLES.filter((t) => began[t.name] !== sqliteCounts[t.name]).map((t) => `${t.name} ${fmt(began[t.name] ?? 0)} then, ${fmt(sqliteCounts[t.name]!)} now`);
        if (changed.length > 0) {
          throw new AppError('CONFIG_INVALID', `${source} (--from) changed since this copy began (${changed.join('; ')}): a cloud or an \`anpr\` command wrote to it in between. Migrate again into a new, empty database, and keep the cloud stopped until the copy ends`);
        }
      }
      progress(`${resumed ?? 'Copying'} ${source} into ${display}`);
      const months = monthsWithEvents(sqlite);
      for (const m of months) await ensurePartitions(database.pool, m.from, m.from);
      const month = (m: PartitionRange) => new Date(m.from).toISOString().slice(0, 7);
      if (months.length) progress(`events: ${months.length} monthly partitions (${month(months[0]!)} to ${month(months.at(-1)!)})`);

      const run = { batches: 0, stopped: false };
      for (const t of IMPORT_TABLES) {
        await copyTable(t, sqlite, database.pool, sqliteCounts[t.name]!, opts, run, progress);
        if (run.stopped) return { source, target: display, state: 'interrupted', counts: [], imagesDir };
      }
      await database.pool.query("SELECT setval('events_seq', m) FROM (SELECT max(seq) AS m FROM events) x WHERE m IS NOT NULL");
      if (await copyJwtSecret(database.pool, dir)) progress('jwt-secret: the data dir\'s signing secret is the database\'s (signed-in sessions stay valid)');

      const counts: TableCount[] = [];
      for (const t of IMPORT_TABLES) counts.push({ table: t.name, sqlite: sqliteCounts[t.name]!, postgres: await pgCount(database.pool, t.name) });
      counts.push({ table: 'event_ids', sqlite: sqliteCounts.events!, postgres: await pgCount(database.pool, 'event_ids') });
      const ok = counts.every((c) => c.sqlite === c.postgres);
      if (ok) await finishImport(session, Date.now());
      return { source, target: display, state: ok ? 'finished' : 'mismatch', counts, imagesDir };
    } finally {
      session.release(true);
      await database.close();
    }
  } finally {
    sqlite.close();
  }
}

/** Copies one table from its cursor on; sets `run.stopped` when told to stop between batches. */
async function copyTable(
  t: ImportTable,
  sqlite: Database.Database,
  pool: pg.Pool,
  total: number,
  opts: SqliteImportOptions,
  run: { batches: number; stopped: boolean },
  progress: (line: string) => void,
): Promise<void> {
  const size = opts.batchSize ?? 5_000;
  const every = opts.progressEvery ?? 100_000;
  const first = sqlite.prepare(selectBatch(t, false));
  const after = sqlite.prepare(selectBatch(t, true));
  const read = (c: Cursor | null) => (c === null ? first.all(size) : after.all(...cursorParams(c), size)) as Array<Record<string, unknown>>;
  const insert = insertBatch(t);
  const start = await progressOf(pool, t.name);
  let copied = start.copied;
  let prev = start.cursor;
  let rows = read(prev);
  let shown = copied;
  const t0 = Date.now();
  while (rows.length > 0) {
    if (opts.signal?.aborted || (opts.stopAfterBatches !== undefined && run.batches >= opts.stopAfterBatches)) {
      run.stopped = true;
      progress(`${t.name}: stopped after ${fmt(copied)} of ${fmt(total)} rows; run the same command again to continue`);
      return;
    }
    const batch = rows;
    const cursor = cursorOf(t, batch.at(-1)!);
    let next: Array<Record<string, unknown>> = [];
    try {
      await inTransaction(pool, async (tx) => {
        const stored = tx.query(insert, batchParams(t, batch));
        // The next batch is read from SQLite while PostgreSQL stores this one.
        next = batch.length < size ? [] : read(cursor);
        await stored;
        await advance(tx, t.name, cursor, batch.length);
      });
    } catch (e) {
      const why = e instanceof AppError && e.code === 'SERVICE_UNAVAILABLE' ? 'the database could not take it (connection lost, server stopping or a statement timeout)' : (e as Error).message;
      const at = prev === null ? 'its first batch' : `the batch after key ${JSON.stringify(prev)}`;
      throw new AppError(e instanceof AppError ? e.code : 'INTERNAL_ERROR', `copying ${t.name} failed at ${at}: ${why}. Nothing of that batch was stored; run the same command again to continue`, { cause: e });
    }
    prev = cursor;
    copied += batch.length;
    run.batches++;
    rows = next;
    if (t.name === 'events' && copied - shown >= every && rows.length > 0) {
      shown = copied;
      const rate = Math.round((copied - start.copied) / Math.max(0.001, (Date.now() - t0) / 1000));
      progress(`events: ${fmt(copied)} of ${fmt(total)} (${Math.floor((copied / Math.max(1, total)) * 100)}%), ${fmt(rate)}/s`);
    }
  }
  progress(`${t.name}: ${fmt(copied)} row${copied === 1 ? '' : 's'}${start.copied > 0 ? ` (${fmt(start.copied)} of them copied by an earlier run)` : ''}`);
}

/**
 * The data dir's JWT signing secret becomes the database's (the PostgreSQL cloud keeps it in
 * shared_secrets, cloud/auth/secrets.ts), so access tokens issued before stay valid. False when
 * there is no such file or table (ANPR_JWT_SECRET set, or a schema without it).
 */
async function copyJwtSecret(pool: pg.Pool, dir: string): Promise<boolean> {
  const file = join(dir, 'jwt-secret');
  if (!existsSync(file)) return false;
  if (!(await pool.query<{ e: boolean }>("SELECT to_regclass('shared_secrets') IS NOT NULL AS e")).rows[0]!.e) return false;
  await pool.query('INSERT INTO shared_secrets (name, value, created_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING', ['jwt-secret', readFileSync(file, 'utf8').trim(), Date.now()]);
  return true;
}
