/**
 * Opens the cloud's SQLite database and brings its schema up to date.
 *
 * One process owns the file and is its only writer (the service); `anpr apikey` and the
 * other admin commands open it briefly and rely on busy_timeout to wait for the writer.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { migrate } from './migrations.js';

export type Db = Database.Database;

export function openDb(file: string): Db {
  mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file);
  // First, before any pragma that takes a lock: wait (up to 5 s) instead of failing at once
  // when a CLI command and the service touch the file together.
  db.pragma('busy_timeout = 5000');
  // WAL: readers never block the writer, and a crash never corrupts committed rows.
  db.pragma('journal_mode = WAL');
  // FULL: a 202 from ingest means the event survives a power cut; commits are grouped
  // (cloud/store/events-store.ts) so the fsync cost is shared by many events.
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  // 64 MiB page cache: list and stats queries over millions of rows stay in memory.
  db.pragma('cache_size = -65536');
  db.pragma('temp_store = MEMORY');
  migrate(db);
  return db;
}
