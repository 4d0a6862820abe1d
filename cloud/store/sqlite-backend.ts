/**
 * The embedded backend: one SQLite file in the data directory (WAL, one writer thread for
 * events: cloud/store/event-writer.ts), its synchronous stores served through the async
 * contracts (asyncView).
 */
import { mkdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { silentLogger, type Logger } from '../../shared/log.js';
import { openDb, type Db } from '../db/open.js';
import { SqliteApiKeysStore } from '../auth/api-keys.js';
import { SqliteRefreshTokenStore } from '../auth/refresh-tokens.js';
import { SqliteUsersStore } from '../auth/users-store.js';
import { SqliteEdgesStore } from '../edges/edges-store.js';
import { asyncView } from './async-view.js';
import { SqliteConfigStore } from './config-store.js';
import type { ApiKeysStore, EdgesStore, UsersStore } from './contracts.js';
import type { DatabaseBackend } from './backend.js';
import { SqliteEventsStore } from './events-store.js';
import { SqliteListsStore } from './lists-store.js';

/** What the admin commands need of a data dir (`anpr apikey`, `anpr user`, `anpr edges`). */
export interface CloudData {
  dir: string;
  dbFile: string;
  db: Db;
  users: UsersStore;
  apiKeys: ApiKeysStore;
  edges: EdgesStore;
}

/** Opens (creating when new) the data dir's database and its account stores. */
export function openCloudData(dataDir: string): CloudData {
  const dir = resolve(dataDir);
  mkdirSync(dir, { recursive: true, mode: 0o750 });
  const dbFile = join(dir, 'anpr.db');
  const db = openDb(dbFile);
  return { dir, dbFile, db, users: asyncView(new SqliteUsersStore(db)), apiKeys: asyncView(new SqliteApiKeysStore(db)), edges: asyncView(new SqliteEdgesStore(db)) };
}

const sizeOf = (f: string) => {
  try {
    return statSync(f).size;
  } catch {
    return 0;
  }
};

/** Every store of the data dir's database; `refreshTtlMs` is the lifetime of web sign-ins. */
export function openSqliteBackend(dataDir: string, refreshTtlMs: number, log: Logger = silentLogger): DatabaseBackend & { sqlite: { db: Db; file: string } } {
  const data = openCloudData(dataDir);
  const { db, dbFile } = data;
  const events = asyncView(new SqliteEventsStore(db, dbFile, log));
  return {
    kind: 'sqlite',
    sqlite: { db, file: dbFile },
    stores: {
      events,
      config: asyncView(new SqliteConfigStore(db)),
      lists: asyncView(new SqliteListsStore(db)),
      users: data.users,
      apiKeys: data.apiKeys,
      edges: data.edges,
      refreshTokens: asyncView(new SqliteRefreshTokenStore(db, refreshTtlMs)),
    },
    async probe(detailed) {
      try {
        db.prepare('SELECT 1').get();
        if (!detailed) return { ok: true };
        return {
          ok: true,
          details: { engine: 'sqlite', file: dbFile, size_bytes: sizeOf(dbFile), wal_bytes: sizeOf(`${dbFile}-wal`), journal_mode: db.pragma('journal_mode', { simple: true }) },
        };
      } catch (e) {
        return { ok: false, error: (e as Error).message };
      }
    },
    async close() {
      // Queued events commit before the database closes.
      await events.close();
      db.close();
    },
  };
}
