/**
 * Schema migrations for PostgreSQL, the counterpart of cloud/db/migrations.ts (SQLite).
 * Never edit a released migration: add a new one.
 *
 * Guarantees:
 * - Migrations apply in order, each in its own transaction together with its row in
 *   `schema_migrations(version, applied_at)`: a migration is applied whole or not at all,
 *   and recorded if and only if applied.
 * - Any number of replicas may start at once: the runner holds the session-level advisory
 *   lock pg_advisory_lock(1634627698, 1) (1634627698 = 'anpr' in ASCII; 2 is the partition
 *   DDL's, partitions.ts) from before it reads `schema_migrations` until after its last commit.
 *   A second runner waits there (at most `lockWaitMs`, default 10 min), then finds every
 *   migration applied and applies none. If a runner dies, its session ends and so does the lock.
 * - A database migrated by a newer release (a version this one does not know) is refused:
 *   CONFIG_INVALID, nothing applied.
 *
 * Schema decisions (migration 1 = everything SQLite's migrations 1-6 hold):
 * - Same tables, columns and meanings; ms timestamps are bigint, REAL is double precision,
 *   BLOB is bytea, 0/1 flags stay smallint 0/1 (rows read back in the stores' shapes).
 *   Timestamps SQLite keeps as ISO text stay text (the API serves them as stored).
 * - JSON bodies are text, never jsonb: served byte for byte as stored, and jsonb refuses
 *   `\u0000` (valid JSON, which JSON.stringify writes for a NUL) and reorders keys. The fields
 *   SQLite reads out of a body with json_extract are columns here, written by the store:
 *   config_items.zone_id (a sensor's zone, for the edge scope) and access_lists.type /
 *   .enabled (the list filters); no query parses JSON.
 * - Text that is compared, sorted or range-scanned is COLLATE "C": byte order, as SQLite's
 *   BINARY, whatever the database's locale (list_entries pages by plate range, ids sort).
 * - events is declaratively RANGE-partitioned by ts into months (partitions.ts), with a default
 *   partition. A primary key of a partitioned table must contain the partition key, so
 *   (event_id, ts) alone would allow one event_id at two timestamps. One copy per event_id is
 *   held by the database itself: `event_ids` (event_id PRIMARY KEY, ts) and a foreign key from
 *   events (ts, event_id) to it. An event row needs its id's row, and that row has one ts, so
 *   every copy of an event_id would lie in one partition, where the primary key (event_id, ts)
 *   allows one. The writer inserts both in one statement; a repeat inserts neither:
 *     WITH claimed AS (INSERT INTO event_ids (event_id, ts) VALUES ($1, $2)
 *                      ON CONFLICT (event_id) DO NOTHING RETURNING event_id, ts)
 *     INSERT INTO events (event_id, ts, …) SELECT event_id, ts, … FROM claimed
 *   (a concurrent insert of the same id waits for the first one's commit, then inserts nothing).
 *   Look an event up by id through event_ids, then `WHERE event_id = $1 AND ts = $2`, so the
 *   query reads one partition.
 * - SQLite's implicit rowid (seq) ends every index there; here seq is written out where it
 *   breaks ties in an ORDER BY (ts, seq), and the covering columns are INCLUDEd.
 * - Partial plate search: pg_trgm's GIN index on the plates dictionary (ILIKE '%…%'), the
 *   counterpart of SQLite's FTS5 trigram table. pg_trgm ships with Debian's postgresql-15 and
 *   with the managed services, and is a trusted extension: the database's owner may create it
 *   without superuser. Where it cannot be created, the migration still succeeds without the
 *   index (the same ILIKE then scans the dictionary: distinct plates, not events).
 * - The config generation is raised by PL/pgSQL triggers on config_items, once per row
 *   inserted, updated or deleted, as SQLite's three row triggers (and once per TRUNCATE).
 */
import type { Pool } from 'pg';
import { AppError } from '../../../shared/errors.js';
import { silentLogger, type Logger } from '../../../shared/log.js';
import { ANPR_LOCK_SPACE } from './partitions.js';

export { dropPartitionsBefore, ensurePartitions, listPartitions, monthOf, monthsCovering, type PartitionRange } from './partitions.js';

/** pg_advisory_lock(ANPR_LOCK_SPACE, MIGRATIONS_LOCK_ID), held while migrating. */
export const MIGRATIONS_LOCK_ID = 1;

export const MIGRATIONS: string[] = [
  // 1: everything SQLite's migrations 1-6 hold
  `
  -- One row per event ever stored: the events' foreign key makes event_id unique across partitions.
  CREATE TABLE event_ids (
    event_id text COLLATE "C" PRIMARY KEY,
    ts bigint NOT NULL,
    UNIQUE (ts, event_id)                  -- the foreign key's target; retention deletes by ts through it
  );

  CREATE SEQUENCE events_seq AS bigint;
  CREATE TABLE events (
    seq bigint NOT NULL DEFAULT nextval('events_seq'),
    event_id text COLLATE "C" NOT NULL,
    ts bigint NOT NULL,                    -- event time, ms since epoch: the partition key
    camera_id text COLLATE "C",
    zone_id text COLLATE "C",
    plate_text text COLLATE "C" NOT NULL,
    confidence double precision,
    processing_ms double precision,
    body text NOT NULL,                    -- raw_candidates, vehicle_info, tpms_status, metadata, correction (JSON)
    frame_path text,
    crop_path text,
    created_at bigint NOT NULL,
    decision_action text COLLATE "C",      -- open | deny | alert | none; null = no decision
    decision_alert smallint CHECK (decision_alert IN (0, 1)), -- 1 = a watch list alerted; null = no decision
    PRIMARY KEY (event_id, ts),
    FOREIGN KEY (ts, event_id) REFERENCES event_ids (ts, event_id)
  ) PARTITION BY RANGE (ts);
  ALTER SEQUENCE events_seq OWNED BY events.seq;
  -- Events of a month with no partition yet (partitions.ts creates months ahead and moves them).
  CREATE TABLE events_default PARTITION OF events DEFAULT;
  CREATE INDEX events_ts ON events (ts, seq);
  -- Covering for the other filters, so a search's COUNT(*) can answer from the index.
  CREATE INDEX events_camera_ts ON events (camera_id, ts, seq) INCLUDE (zone_id, confidence);
  CREATE INDEX events_zone_ts ON events (zone_id, ts, seq) INCLUDE (camera_id, confidence);
  CREATE INDEX events_plate ON events (plate_text, seq);
  CREATE INDEX events_conf ON events (confidence, seq);
  CREATE INDEX events_action_ts ON events (decision_action, ts, seq) WHERE decision_action IS NOT NULL;
  CREATE INDEX events_alert_ts ON events (ts, seq) WHERE decision_alert = 1;

  -- Every plate text ever stored, once: a partial plate search matches this (much smaller) set
  -- through the trigram index, then takes their events through events_plate.
  CREATE TABLE plates (
    plate_text text COLLATE "C" PRIMARY KEY
  );
  DO $$
  DECLARE trgm_schema name;
  BEGIN
    BEGIN
      CREATE EXTENSION IF NOT EXISTS pg_trgm;
    EXCEPTION WHEN OTHERS THEN
      RAISE NOTICE 'pg_trgm unavailable (%): plate search scans the plates dictionary', SQLERRM;
    END;
    SELECT n.nspname INTO trgm_schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm';
    IF trgm_schema IS NOT NULL THEN
      EXECUTE format('CREATE INDEX plates_trgm ON plates USING gin (plate_text %I.gin_trgm_ops)', trgm_schema);
    END IF;
  END $$;

  -- Rollups per minute (level 0), hour (1) and day (2), per camera and zone ('' = none), kept by
  -- the writer in the events' transaction (cloud/store/event-stats.ts). Counts are integer so
  -- that SUM() is a bigint (read as a number), not a numeric.
  CREATE TABLE stats_rollup (
    level smallint NOT NULL,
    bucket bigint NOT NULL,                -- ts / bucket size
    camera_id text COLLATE "C" NOT NULL,
    zone_id text COLLATE "C" NOT NULL,
    n integer NOT NULL,
    n_conf integer NOT NULL,
    sum_conf double precision NOT NULL,
    min_conf double precision,
    max_conf double precision,
    n_proc integer NOT NULL,               -- events that reported processing_time_ms
    sum_proc double precision NOT NULL,
    PRIMARY KEY (level, bucket, camera_id, zone_id)
  );

  -- Distinct plates: a HyperLogLog sketch per hour (1) and day (2), camera and zone (hll.ts).
  CREATE TABLE plates_hll (
    level smallint NOT NULL,
    bucket bigint NOT NULL,
    camera_id text COLLATE "C" NOT NULL,
    zone_id text COLLATE "C" NOT NULL,
    regs bytea NOT NULL,
    PRIMARY KEY (level, bucket, camera_id, zone_id)
  );

  CREATE TABLE config_items (
    kind text COLLATE "C" NOT NULL,        -- cameras | zones | models | sensors | exporters
    id text COLLATE "C" NOT NULL,
    body text NOT NULL,                    -- the resource as validated (JSON)
    enabled smallint,                      -- extracted for filters
    camera_id text COLLATE "C",
    type text COLLATE "C",
    edge_id text COLLATE "C",
    zone_id text COLLATE "C",              -- a sensor's body.zone_id (SQLite reads it with json_extract)
    created_at text COLLATE "C" NOT NULL,
    updated_at text COLLATE "C" NOT NULL,
    PRIMARY KEY (kind, id)
  );
  CREATE INDEX config_items_edge ON config_items (kind, edge_id);
  CREATE TABLE id_counters (kind text COLLATE "C" PRIMARY KEY, next bigint NOT NULL);

  -- A generation number of the config items, raised by every change whoever makes it (this
  -- service, another replica, psql): an edge's config version is recomputed only when it moved
  -- (cloud/edges/edge-config.ts). ListsStore raises it too, in its own transactions.
  CREATE TABLE config_generation (id integer PRIMARY KEY CHECK (id = 1), n bigint NOT NULL);
  INSERT INTO config_generation (id, n) VALUES (1, 0);
  CREATE FUNCTION config_generation_bump() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    UPDATE config_generation SET n = n + 1 WHERE id = 1;
    RETURN NULL;
  END $$;
  CREATE TRIGGER config_items_gen AFTER INSERT OR UPDATE OR DELETE ON config_items
    FOR EACH ROW EXECUTE FUNCTION config_generation_bump();
  CREATE TRIGGER config_items_gen_truncate AFTER TRUNCATE ON config_items
    FOR EACH STATEMENT EXECUTE FUNCTION config_generation_bump();

  CREATE TABLE users (
    username text COLLATE "C" PRIMARY KEY,
    password_hash text NOT NULL,
    role text NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
    disabled smallint NOT NULL DEFAULT 0,
    created_at text COLLATE "C" NOT NULL,
    -- Carried by access tokens (cloud/auth/middleware.ts); raising it ends those issued before.
    token_version integer NOT NULL DEFAULT 0
  );

  CREATE TABLE api_keys (
    id text COLLATE "C" PRIMARY KEY,
    name text COLLATE "C" NOT NULL,
    prefix text NOT NULL,                  -- first characters, shown in listings
    key_hash text NOT NULL UNIQUE,         -- sha256 of the whole key; the key itself is never stored
    created_at text COLLATE "C" NOT NULL,
    last_used_at text,
    revoked_at text,
    edge_id text COLLATE "C"               -- the edge the key belongs to (cloud/edges/)
  );
  CREATE INDEX api_keys_edge ON api_keys (edge_id);

  -- Refresh tokens of the web app (cloud/auth/refresh-tokens.ts): rotation in families.
  CREATE TABLE refresh_tokens (
    id text COLLATE "C" PRIMARY KEY,
    family_id text COLLATE "C" NOT NULL,   -- every rotation of one sign-in shares it
    username text COLLATE "C" NOT NULL REFERENCES users (username) ON DELETE CASCADE,
    token_hash text NOT NULL,              -- sha256 of the secret part; the token itself is never stored
    created_at bigint NOT NULL,
    expires_at bigint NOT NULL,
    used_at bigint,                        -- set when rotated; a second use is a reuse
    revoked_at bigint
  );
  CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
  CREATE INDEX refresh_tokens_user ON refresh_tokens (username);
  CREATE INDEX refresh_tokens_expires ON refresh_tokens (expires_at);

  CREATE TABLE edges (
    id text COLLATE "C" PRIMARY KEY,
    name text NOT NULL,
    created_at text COLLATE "C" NOT NULL,
    instance_id text,                      -- the installation heard last (a second box with the same id is refused)
    last_seen_at bigint,                   -- ms, cloud clock, of the last accepted heartbeat
    heartbeat text                         -- the last heartbeat body (JSON), as accepted
  );

  -- Access lists (cloud/store/lists-store.ts): a list's fields, and its entries one row each
  -- keyed by the normalised plate. version is the config generation of its last change.
  CREATE TABLE access_lists (
    id text COLLATE "C" PRIMARY KEY,
    body text NOT NULL,                    -- the list's fields as validated, without id and entries (JSON)
    edge_id text COLLATE "C",              -- null = every edge
    version bigint NOT NULL,
    entries_count integer NOT NULL DEFAULT 0,
    created_at text COLLATE "C" NOT NULL,
    updated_at text COLLATE "C" NOT NULL,
    type text COLLATE "C",                 -- body.type and body.enabled (0/1), for the filters
    enabled smallint
  );
  CREATE INDEX access_lists_edge ON access_lists (edge_id);
  CREATE TABLE list_entries (
    list_id text COLLATE "C" NOT NULL REFERENCES access_lists (id) ON DELETE CASCADE,
    plate text COLLATE "C" NOT NULL,       -- normalised (shared/plate normalizePlate)
    body text NOT NULL,                    -- the entry as validated (JSON)
    PRIMARY KEY (list_id, plate)
  );
  `,
  // 2: what replicas share beyond the data: values made once by whichever replica needs one
  // first (the JWT signing secret: a session signed in on one replica is valid on all), the
  // sign-in throttle's counters and the rate limits' counts.
  `
  CREATE TABLE shared_secrets (
    name text COLLATE "C" PRIMARY KEY,
    value text NOT NULL,
    created_at bigint NOT NULL
  );
  -- Failed sign-ins per account (ip '') and per account and address, for every replica
  -- (cloud/auth/pg-login-throttle.ts; the SQLite cloud keeps them in its process).
  CREATE TABLE login_failures (
    username text COLLATE "C" NOT NULL,
    ip text COLLATE "C" NOT NULL,
    failures integer NOT NULL,
    locked_until bigint NOT NULL,
    last_at bigint NOT NULL,
    PRIMARY KEY (username, ip)
  );
  CREATE INDEX login_failures_last_at ON login_failures (last_at);
  -- Requests per rate-limit category, caller and window, summed over replicas
  -- (cloud/http/pg-rate-counts.ts).
  CREATE TABLE rate_counts (
    category text COLLATE "C" NOT NULL,
    who text COLLATE "C" NOT NULL,
    window_start bigint NOT NULL,
    n integer NOT NULL,
    PRIMARY KEY (category, who, window_start)
  );

  -- Sorting by confidence puts NULL lowest, as SQLite does (ASC NULLS FIRST, DESC NULLS LAST):
  -- the index must say so, or PostgreSQL sorts every matching row (300 ms at 1M events).
  CREATE INDEX events_conf_nulls_low ON events (confidence NULLS FIRST, seq);
  DROP INDEX events_conf;
  `,
];

export interface MigrateOptions {
  logger?: Logger;
  /** Apply up to this version (default: all; tests build old databases with it). */
  upTo?: number;
  /** Longest wait (ms) for another replica's migrations (default 10 min). */
  lockWaitMs?: number;
}

/**
 * Applies the migrations not applied yet (see the guarantees above); returns the versions
 * this call applied (none when another replica did, or when the database was up to date).
 */
export async function migrate(pool: Pool, opts: MigrateOptions = {}): Promise<number[]> {
  const log = (opts.logger ?? silentLogger).child({ component: 'postgres-migrations' });
  const upTo = Math.min(opts.upTo ?? MIGRATIONS.length, MIGRATIONS.length);
  const c = await pool.connect();
  try {
    // A migration may run long (an index on a big table): no statement bound. The lock wait
    // has one, so a replica stuck behind a hung one fails loudly instead of waiting for ever.
    await c.query('SET statement_timeout = 0');
    await c.query(`SET lock_timeout = ${Math.max(1, Math.round(opts.lockWaitMs ?? 600_000))}`);
    await c.query('SELECT pg_advisory_lock($1, $2)', [ANPR_LOCK_SPACE, MIGRATIONS_LOCK_ID]);
    try {
      await c.query('CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, applied_at bigint NOT NULL)');
      const done = new Set((await c.query('SELECT version FROM schema_migrations')).rows.map((r: { version: number }) => r.version));
      const newest = Math.max(0, ...done);
      if (newest > MIGRATIONS.length) {
        throw new AppError('CONFIG_INVALID', `The database is at schema version ${newest}, newer than this release knows (${MIGRATIONS.length}): run a release at least as new`);
      }
      const applied: number[] = [];
      for (let v = 1; v <= upTo; v++) {
        if (done.has(v)) continue;
        await c.query('BEGIN');
        try {
          await c.query(MIGRATIONS[v - 1]!);
          await c.query('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)', [v, Date.now()]);
          await c.query('COMMIT');
        } catch (e) {
          await c.query('ROLLBACK').catch(() => {});
          throw new AppError('INTERNAL_ERROR', `PostgreSQL migration ${v} failed and was rolled back: ${(e as Error).message}`, { cause: e });
        }
        applied.push(v);
        log.info({ version: v }, 'database migration applied');
      }
      return applied;
    } finally {
      await c.query('SELECT pg_advisory_unlock($1, $2)', [ANPR_LOCK_SPACE, MIGRATIONS_LOCK_ID]).catch(() => {});
    }
  } finally {
    // Closed, never returned to the pool: its session settings go with it, and so does the
    // lock should unlocking have failed.
    c.release(true);
  }
}
