/**
 * The database behind the cloud: its stores (cloud/store/contracts.ts), a health probe and
 * its closing. `sqlite` is the embedded default (one data directory); `postgres` serves any
 * number of replicas (issue 12).
 */
import type pg from 'pg';
import type { SharedValue } from '../auth/secrets.js';
import type { Db } from '../db/open.js';
import type { Stores } from './contracts.js';

export interface DatabaseProbe {
  ok: boolean;
  error?: string;
  /** For `/healthz/detailed`: engine, size, location; never a credential. */
  details?: Record<string, unknown>;
}

export interface DatabaseBackend {
  kind: 'sqlite' | 'postgres';
  stores: Stores;
  /** Asks the database for real; bounded in time and never throws (`/healthz`). */
  probe(detailed: boolean): Promise<DatabaseProbe>;
  /** Commits what is queued (the events writer) and closes the connections. */
  close(): Promise<void>;
  /** The SQLite database and its file (tests, and tools that work on the file); absent for PostgreSQL. */
  sqlite?: { db: Db; file: string };
  /** The API's error for a failure of this database's driver (a 503 for a lost connection), else the error itself. */
  failure?: (e: unknown) => unknown;
  /** PostgreSQL: the pool (the stream's LISTEN/NOTIFY), and values every replica shares. */
  postgres?: { pool: pg.Pool; shared: SharedValue };
}
