/**
 * Schema migrations, applied in order inside one transaction each; `user_version` records
 * how far a database has come. Never edit a released migration: add a new one.
 */
import type Database from 'better-sqlite3';

const MIGRATIONS: string[] = [
  // 1: events, rollups for stats, config resources, users, api keys, settings
  `
  CREATE TABLE events (
    seq INTEGER PRIMARY KEY,
    event_id TEXT NOT NULL UNIQUE,
    ts INTEGER NOT NULL,                 -- event time, ms since epoch
    camera_id TEXT,
    zone_id TEXT,
    plate_text TEXT NOT NULL,
    confidence REAL,
    processing_ms REAL,
    body TEXT NOT NULL,                  -- raw_candidates, vehicle_info, tpms_status, metadata (JSON)
    frame_path TEXT,
    crop_path TEXT,
    created_at INTEGER NOT NULL
  );
  CREATE INDEX events_ts ON events(ts);
  -- Covering for the other filters, so a search's COUNT(*) never visits the table rows.
  CREATE INDEX events_camera_ts ON events(camera_id, ts, zone_id, confidence);
  CREATE INDEX events_zone_ts ON events(zone_id, ts, camera_id, confidence);
  CREATE INDEX events_plate ON events(plate_text);
  CREATE INDEX events_conf ON events(confidence);

  -- Every plate text ever stored, once, with a trigram index: a partial plate search
  -- matches the (much smaller) set of distinct plates, then takes their events through
  -- events_plate. Only a plate never seen before costs an index insert.
  CREATE TABLE plates (
    id INTEGER PRIMARY KEY,
    plate_text TEXT NOT NULL UNIQUE
  );
  CREATE VIRTUAL TABLE plates_fts USING fts5(plate_text, content='plates', content_rowid='id', tokenize='trigram');

  -- Rollups per minute (level 0), hour (1) and day (2), per camera and zone ('' = none),
  -- kept by the writer in the events' transaction (cloud/store/event-stats.ts).
  CREATE TABLE stats_rollup (
    level INTEGER NOT NULL,
    bucket INTEGER NOT NULL,             -- ts / bucket size
    camera_id TEXT NOT NULL,
    zone_id TEXT NOT NULL,
    n INTEGER NOT NULL,
    n_conf INTEGER NOT NULL,
    sum_conf REAL NOT NULL,
    min_conf REAL,
    max_conf REAL,
    n_proc INTEGER NOT NULL,             -- events that reported processing_time_ms
    sum_proc REAL NOT NULL,
    PRIMARY KEY (level, bucket, camera_id, zone_id)
  ) WITHOUT ROWID;

  -- Distinct plates: a HyperLogLog sketch per hour (1) and day (2), camera and zone (hll.ts).
  CREATE TABLE plates_hll (
    level INTEGER NOT NULL,
    bucket INTEGER NOT NULL,
    camera_id TEXT NOT NULL,
    zone_id TEXT NOT NULL,
    regs BLOB NOT NULL,
    PRIMARY KEY (level, bucket, camera_id, zone_id)
  ) WITHOUT ROWID;

  CREATE TABLE config_items (
    kind TEXT NOT NULL,                  -- cameras | zones | models | sensors | exporters
    id TEXT NOT NULL,
    body TEXT NOT NULL,                  -- the resource as validated (JSON)
    enabled INTEGER,                     -- extracted for filters
    camera_id TEXT,
    type TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (kind, id)
  );
  CREATE TABLE id_counters (kind TEXT PRIMARY KEY, next INTEGER NOT NULL);

  CREATE TABLE users (
    username TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
    disabled INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
  );

  CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    prefix TEXT NOT NULL,                -- first characters, shown in listings
    key_hash TEXT NOT NULL UNIQUE,       -- sha256 of the whole key; the key itself is never stored
    created_at TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at TEXT
  );
  `,
  // 2: refresh tokens for the web app (cloud/auth/refresh-tokens.ts): rotation in families
  `
  CREATE TABLE refresh_tokens (
    id TEXT PRIMARY KEY,
    family_id TEXT NOT NULL,             -- every rotation of one sign-in shares it
    username TEXT NOT NULL REFERENCES users(username) ON DELETE CASCADE,
    token_hash TEXT NOT NULL,            -- sha256 of the secret part; the token itself is never stored
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER,                     -- set when rotated; a second use is a reuse
    revoked_at INTEGER
  );
  CREATE INDEX refresh_tokens_family ON refresh_tokens(family_id);
  CREATE INDEX refresh_tokens_user ON refresh_tokens(username);
  CREATE INDEX refresh_tokens_expires ON refresh_tokens(expires_at);
  `,
  // 3: access tokens carry the user's token version (cloud/auth/middleware.ts); raising it
  // (password reset, disabling) ends every access token issued before
  `
  ALTER TABLE users ADD COLUMN token_version INTEGER NOT NULL DEFAULT 0;
  `,
  // 4: edges are first-class (cloud/edges/): each API key belongs to one edge; cameras and
  // exporters name their edge (config_items.edge_id, also in the body). Keys made before take
  // their name as edge id (a space becomes '-'); when that leaves exactly one edge, the cameras
  // so far are its (a one-box site keeps working), else they wait for an admin to assign them.
  `
  CREATE TABLE edges (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created_at TEXT NOT NULL,
    instance_id TEXT,                    -- the installation heard last (a second box with the same id is refused)
    last_seen_at INTEGER,                -- ms, cloud clock, of the last accepted heartbeat
    heartbeat TEXT                       -- the last heartbeat body (JSON), as accepted
  );
  ALTER TABLE api_keys ADD COLUMN edge_id TEXT;
  UPDATE api_keys SET edge_id = replace(name, ' ', '-');
  INSERT OR IGNORE INTO edges (id, name, created_at)
    SELECT edge_id, min(name), min(created_at) FROM api_keys WHERE revoked_at IS NULL GROUP BY edge_id;
  CREATE INDEX api_keys_edge ON api_keys(edge_id);
  ALTER TABLE config_items ADD COLUMN edge_id TEXT;
  UPDATE config_items
    SET edge_id = CASE WHEN (SELECT COUNT(*) FROM edges) = 1 THEN (SELECT id FROM edges) END
    WHERE kind = 'cameras';
  UPDATE config_items SET body = json_set(body, '$.edge_id', edge_id) WHERE kind IN ('cameras', 'exporters');
  CREATE INDEX config_items_edge ON config_items(kind, edge_id);
  `,
  // 5: a generation number of the config items, raised by every change whoever makes it (this
  // service, `anpr` commands, another process): an edge's config version is recomputed only
  // when it moved (cloud/edges/edge-config.ts), not for every heartbeat and poll
  `
  CREATE TABLE config_generation (id INTEGER PRIMARY KEY CHECK (id = 1), n INTEGER NOT NULL);
  INSERT INTO config_generation (id, n) VALUES (1, 0);
  CREATE TRIGGER config_items_gen_insert AFTER INSERT ON config_items BEGIN UPDATE config_generation SET n = n + 1 WHERE id = 1; END;
  CREATE TRIGGER config_items_gen_update AFTER UPDATE ON config_items BEGIN UPDATE config_generation SET n = n + 1 WHERE id = 1; END;
  CREATE TRIGGER config_items_gen_delete AFTER DELETE ON config_items BEGIN UPDATE config_generation SET n = n + 1 WHERE id = 1; END;
  `,
  // 6: access lists (cloud/store/lists-store.ts): a list's fields, and its entries one row each
  // keyed by the normalised plate, so 100,000 entries page by index and one entry changes
  // alone. `version` is the config generation of its last change (raised by the store in the
  // change's transaction). Events get the edge's decision as columns, filled at ingest, for
  // `GET /events?action=&alert=`; events stored before are filled from their body here.
  `
  CREATE TABLE access_lists (
    id TEXT PRIMARY KEY,
    body TEXT NOT NULL,                  -- the list's fields as validated, without id and entries (JSON)
    edge_id TEXT,                        -- null = every edge
    version INTEGER NOT NULL,
    entries_count INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
  );
  CREATE INDEX access_lists_edge ON access_lists(edge_id);
  CREATE TABLE list_entries (
    list_id TEXT NOT NULL REFERENCES access_lists(id) ON DELETE CASCADE,
    plate TEXT NOT NULL,                 -- normalised (shared/plate normalizePlate)
    body TEXT NOT NULL,                  -- the entry as validated (JSON)
    PRIMARY KEY (list_id, plate)
  ) WITHOUT ROWID;

  ALTER TABLE events ADD COLUMN decision_action TEXT;   -- open | deny | alert | none; null = no decision
  ALTER TABLE events ADD COLUMN decision_alert INTEGER; -- 1 = a watch list alerted; null = no decision
  UPDATE events SET
    decision_action = json_extract(body, '$.decision.action'),
    decision_alert = CASE WHEN json_extract(body, '$.decision.alert') = 1 OR json_extract(body, '$.decision.action') = 'alert' THEN 1 ELSE 0 END
    WHERE json_valid(body) AND json_type(body, '$.decision') = 'object';
  CREATE INDEX events_action_ts ON events(decision_action, ts) WHERE decision_action IS NOT NULL;
  CREATE INDEX events_alert_ts ON events(decision_alert, ts) WHERE decision_alert = 1;
  `,
];

/** The schema version a database migrated by this release is at (its `user_version`). */
export const SCHEMA_VERSION = MIGRATIONS.length;

/** Applies the migrations not applied yet, up to version `upTo` (default: all; tests build old databases with it). */
export function migrate(db: Database.Database, upTo = MIGRATIONS.length): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  for (let v = current; v < Math.min(upTo, MIGRATIONS.length); v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}
