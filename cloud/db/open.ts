/**
 * Opens the cloud's SQLite database and brings its schema up to date.
 *
 * One process owns the file (the service), with two writing connections: the events writer
 * thread (ingest: cloud/store/event-writer-worker.ts) and the service's own connection
 * (corrections, config, users, API keys, refresh tokens). `anpr apikey` and the other admin
 * commands open it briefly. WAL lets one write at a time; busy_timeout makes the others wait.
 * A transaction that reads before it writes must be `.immediate()`: a deferred one is not
 * retried by busy_timeout and fails with SQLITE_BUSY when the other connection committed
 * or holds the lock in between. docs/cloud-durability.md lists which write goes where.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { migrate } from './migrations.js';
import { AppError } from '../../shared/errors.js';

export type Db = Database.Database;

function syncMode(): 'FULL' | 'NORMAL' {
  const v = (process.env.ANPR_SQLITE_SYNC ?? 'FULL').toUpperCase();
  if (v !== 'FULL' && v !== 'NORMAL') throw new AppError('CONFIG_INVALID', `ANPR_SQLITE_SYNC must be FULL or NORMAL, got '${v}'`);
  return v;
}

export function openDb(file: string): Db {
  mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file);
  // First, before any pragma that takes a lock: wait (up to 5 s) instead of failing at once
  // when a CLI command and the service touch the file together.
  db.pragma('busy_timeout = 5000');
  // WAL: readers never block the writer, and a crash never corrupts committed rows.
  db.pragma('journal_mode = WAL');
  // FULL: a 202 from ingest means the event survives a power cut; commits are grouped
  // (cloud/store/event-writer.ts) so the fsync cost is shared by many events.
  // ANPR_SQLITE_SYNC=NORMAL trades that for speed: still safe against a crash of the
  // process, but a power cut may lose the last commits (edges then re-send, as their
  // outbox keeps events until acknowledged — but an acknowledged one would be gone).
  db.pragma(`synchronous = ${syncMode()}`);
  db.pragma('foreign_keys = ON');
  // 64 MiB page cache: list and stats queries over millions of rows stay in memory.
  db.pragma('cache_size = -65536');
  db.pragma('temp_store = MEMORY');
  migrate(db);
  return db;
}

/** Seconds a client is told to wait before retrying a write the database refused. */
export const STORAGE_RETRY_AFTER_S = 1;

/**
 * A write the database refused for a passing reason — locked past busy_timeout, disk full,
 * I/O error — as a retryable 503 (its transaction rolled back: nothing was written), else
 * undefined. `code` is SQLite's extended code (SqliteError.code).
 */
export function storageUnavailable(code: string | undefined): AppError | undefined {
  if (!code || !/^SQLITE_(BUSY|LOCKED|FULL|IOERR)/.test(code)) return undefined;
  return new AppError('SERVICE_UNAVAILABLE', `The database cannot write now (${code}); nothing was stored, retry later`, {
    extra: { retry_after_seconds: STORAGE_RETRY_AFTER_S },
  });
}
