/**
 * The PostgreSQL backend (`--database-url` / ANPR_DATABASE_URL): any number of cloud replicas
 * on one database.
 *
 * Guarantees:
 * - Opening waits for a database that is not up yet (connect.ts: retry with backoff, each try
 *   logged) and refuses a setting that can never work with a message naming it; then applies
 *   the migrations under an advisory lock, so replicas starting together apply each once.
 *   A database that `anpr cloud migrate` is still filling from SQLite is refused
 *   (sqlite-import-state.ts): its image sweep would take images of events not copied yet.
 * - Events have monthly partitions from the previous month to two months ahead, kept so by a
 *   maintenance run at start and every 6 hours (unref'd; every replica runs it, each step is
 *   idempotent and locked).
 * - Retention (`retentionDays`, ANPR_RETENTION_DAYS): the maintenance run drops whole months
 *   that ended more than that many days ago, with their rollups and event ids, then calls
 *   `onEventsDropped` (the service sweeps their images: they belong to no event any more).
 *   A month is dropped only once all of it is past the cutoff, so events are kept at least
 *   `retentionDays` and at most a month longer.
 */
import { silentLogger } from '../../../shared/log.js';
import { AppError } from '../../../shared/errors.js';
import { openPgPool, type PgOptions } from '../../db/pg/connect.js';
import { pgFailure } from '../../db/pg/transaction.js';
import { dropPartitionsBefore, ensurePartitions, migrate } from '../../db/pg/migrations.js';
import type { DatabaseBackend } from '../backend.js';
import { PgApiKeysStore } from './pg-api-keys-store.js';
import { PgConfigStore } from './pg-config-store.js';
import { PgEdgesStore } from './pg-edges-store.js';
import { PgEventsStore } from './pg-events-store.js';
import { PgListsStore } from './pg-lists-store.js';
import { PgRefreshTokenStore } from './pg-refresh-tokens-store.js';
import { PgUsersStore } from './pg-users-store.js';
import { refuseUnfinishedImport } from './sqlite-import-state.js';

const DAY_MS = 86_400_000;
const MONTH_MS = 31 * DAY_MS;
/** How often partitions are created ahead and retention runs. */
export const MAINTENANCE_EVERY_MS = 6 * 3_600_000;

export interface PgBackendOptions extends PgOptions {
  /** Lifetime of web sign-ins' refresh tokens. */
  refreshTtlMs: number;
  /** Keep events this many days (undefined: for ever). */
  retentionDays?: number;
  /** Called after months of events were dropped by retention (their images are orphans now). */
  onEventsDropped?: (months: Array<{ from: number; to: number }>) => Promise<void> | void;
  now?: () => number;
}

/** Parses ANPR_RETENTION_DAYS: a whole number of days ≥ 1, or undefined when not set. */
export function retentionDaysOf(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 36_500) {
    throw new AppError('CONFIG_INVALID', `ANPR_RETENTION_DAYS must be a whole number of days from 1 to 36500, not '${value}'`);
  }
  return n;
}

export async function openPgBackend(url: string, opts: PgBackendOptions): Promise<DatabaseBackend & { maintain(): Promise<void> }> {
  const log = (opts.logger ?? silentLogger).child({ component: 'postgres' });
  const now = opts.now ?? Date.now;
  const database = await openPgPool(url, { ...opts, logger: log });
  const { pool } = database;
  let events: PgEventsStore | undefined;
  try {
    await refuseUnfinishedImport(pool, database.url);
    await migrate(pool, { logger: log });
    await ensurePartitions(pool, now() - MONTH_MS, now() + 2 * MONTH_MS);
    events = new PgEventsStore(pool, log);
  } catch (e) {
    await database.close();
    throw e;
  }

  const maintain = async () => {
    await ensurePartitions(pool, now() - MONTH_MS, now() + 2 * MONTH_MS);
    if (opts.retentionDays === undefined) return;
    const dropped = await dropPartitionsBefore(pool, now() - opts.retentionDays * DAY_MS);
    if (!dropped.length) return;
    log.info({ months: dropped.map((m) => m.name), retention_days: opts.retentionDays }, 'dropped events past the retention period');
    await opts.onEventsDropped?.(dropped);
  };
  let running: Promise<void> = Promise.resolve();
  const maintainNow = () => {
    running = running.then(() => maintain()).catch((e: unknown) => log.warn({ err: e }, 'database maintenance failed; it runs again later'));
  };
  // Retention is applied at start too: a cloud restarted after a long stop does not keep old months 6 hours more.
  maintainNow();
  const timer = setInterval(maintainNow, MAINTENANCE_EVERY_MS).unref();

  return {
    kind: 'postgres',
    maintain,
    failure: pgFailure,
    postgres: {
      pool,
      // The first replica's value wins; the others read it.
      async shared(name, make) {
        await pool.query('INSERT INTO shared_secrets (name, value, created_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING', [name, make(), now()]);
        return (await pool.query<{ value: string }>('SELECT value FROM shared_secrets WHERE name = $1', [name])).rows[0]!.value;
      },
    },
    stores: {
      events,
      config: new PgConfigStore(pool),
      lists: new PgListsStore(pool),
      users: new PgUsersStore(pool),
      apiKeys: new PgApiKeysStore(pool),
      edges: new PgEdgesStore(pool),
      refreshTokens: new PgRefreshTokenStore(pool, opts.refreshTtlMs),
    },
    async probe(detailed) {
      const p = await database.probe();
      if (!p.ok) return { ok: false, error: p.error };
      return detailed ? { ok: true, details: { engine: 'postgresql', url: database.url } } : { ok: true };
    },
    async close() {
      clearInterval(timer);
      await running;
      await events!.close();
      await database.close();
    },
  };
}
