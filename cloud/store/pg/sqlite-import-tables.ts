/**
 * What `anpr cloud migrate` copies from a SQLite cloud (cloud/db/migrations.ts) into PostgreSQL
 * (cloud/db/pg/migrations.ts): every table, its columns with their PostgreSQL types, the key it
 * is read by, and one batch written as one statement.
 *
 * - Tables come in an order that satisfies the foreign keys (users before refresh tokens, lists
 *   before entries) and the config generation after the config items, whose triggers raise it
 *   while they are copied: the source's number then overwrites it.
 * - A batch is read in SQLite key order after a cursor (the rowid, or the primary key of a
 *   WITHOUT ROWID table), so a resumed copy starts exactly after the last committed batch.
 * - Rows are copied as they are, rollups and plate sketches included: the same values and bytes
 *   answer the same statistics (the SQLite writer kept them exact in the events' transactions).
 *   PostgreSQL's columns that SQLite reads out of a body with json_extract are filled from the
 *   body as the PostgreSQL stores fill them (config_items.zone_id, access_lists.type/enabled).
 * - Events keep their `seq` (ties in every listing order break on it, as in SQLite), and each
 *   claims its `event_ids` row in the same statement, as the PostgreSQL writer does
 *   (pg-event-insert.ts); a repeated key inserts nothing.
 * - The SQLite plates dictionary's ids and its FTS5 index have no counterpart: PostgreSQL keys
 *   the dictionary by the text and indexes it with pg_trgm.
 */
import type pg from 'pg';

export interface ImportTable {
  /** The table, the same name in both schemas. */
  name: string;
  /** Columns read from SQLite, and their PostgreSQL types (the element type of the unnest arrays). */
  columns: ReadonlyArray<readonly [string, string]>;
  /** PostgreSQL columns computed from the row (from its JSON body), and how. */
  derived?: { columns: ReadonlyArray<readonly [string, string]>; of(row: Record<string, unknown>): unknown[] };
  /** SQLite columns that are not copied, with why (test/cloud/pg/migrate-from-sqlite.test.ts checks every other column is). */
  skipped?: Record<string, string>;
  /** What the copy pages by: the rowid, or the primary key of a WITHOUT ROWID table. */
  key: 'rowid' | readonly string[];
  /** PostgreSQL's primary key (the ON CONFLICT target). */
  conflict: string;
  /** Overwrite a row the target already holds (the config generation's, made by the schema). Default: keep it. */
  overwrite?: boolean;
}

/** The body's JSON object, or an empty one for a body that does not parse (its derived columns are then null). */
function bodyOf(row: Record<string, unknown>): Record<string, unknown> {
  try {
    const v = JSON.parse(String(row.body)) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** Every table of the SQLite schema (but the plates FTS index), in copy order. */
export const IMPORT_TABLES: readonly ImportTable[] = [
  {
    name: 'users',
    columns: [['username', 'text'], ['password_hash', 'text'], ['role', 'text'], ['disabled', 'smallint'], ['created_at', 'text'], ['token_version', 'integer']],
    key: 'rowid',
    conflict: 'username',
  },
  {
    name: 'edges',
    columns: [['id', 'text'], ['name', 'text'], ['created_at', 'text'], ['instance_id', 'text'], ['last_seen_at', 'bigint'], ['heartbeat', 'text']],
    key: 'rowid',
    conflict: 'id',
  },
  {
    name: 'api_keys',
    columns: [['id', 'text'], ['name', 'text'], ['prefix', 'text'], ['key_hash', 'text'], ['created_at', 'text'], ['last_used_at', 'text'], ['revoked_at', 'text'], ['edge_id', 'text']],
    key: 'rowid',
    conflict: 'id',
  },
  {
    name: 'refresh_tokens',
    columns: [['id', 'text'], ['family_id', 'text'], ['username', 'text'], ['token_hash', 'text'], ['created_at', 'bigint'], ['expires_at', 'bigint'], ['used_at', 'bigint'], ['revoked_at', 'bigint']],
    key: 'rowid',
    conflict: 'id',
  },
  {
    name: 'config_items',
    columns: [['kind', 'text'], ['id', 'text'], ['body', 'text'], ['enabled', 'smallint'], ['camera_id', 'text'], ['type', 'text'], ['edge_id', 'text'], ['created_at', 'text'], ['updated_at', 'text']],
    // A sensor's zone, which SQLite's edge scope reads with json_extract (pg-config-store.ts).
    derived: { columns: [['zone_id', 'text']], of: (row) => [typeof bodyOf(row).zone_id === 'string' ? bodyOf(row).zone_id : null] },
    key: 'rowid',
    conflict: 'kind, id',
  },
  {
    name: 'id_counters',
    columns: [['kind', 'text'], ['next', 'bigint']],
    key: 'rowid',
    conflict: 'kind',
  },
  {
    name: 'config_generation',
    columns: [['id', 'integer'], ['n', 'bigint']],
    key: 'rowid',
    conflict: 'id',
    overwrite: true,
  },
  {
    name: 'access_lists',
    columns: [['id', 'text'], ['body', 'text'], ['edge_id', 'text'], ['version', 'bigint'], ['entries_count', 'integer'], ['created_at', 'text'], ['updated_at', 'text']],
    // The list filters, which SQLite reads with json_extract (pg-lists-store.ts filterColumns).
    derived: {
      columns: [['type', 'text'], ['enabled', 'smallint']],
      of: (row) => {
        const b = bodyOf(row);
        return [typeof b.type === 'string' ? b.type : null, typeof b.enabled === 'boolean' ? Number(b.enabled) : null];
      },
    },
    key: 'rowid',
    conflict: 'id',
  },
  {
    name: 'list_entries',
    columns: [['list_id', 'text'], ['plate', 'text'], ['body', 'text']],
    key: ['list_id', 'plate'],
    conflict: 'list_id, plate',
  },
  {
    name: 'plates',
    columns: [['plate_text', 'text']],
    skipped: { id: 'SQLite keys the dictionary by a rowid for its FTS5 index; PostgreSQL by the text (pg_trgm)' },
    key: 'rowid',
    conflict: 'plate_text',
  },
  {
    name: 'stats_rollup',
    columns: [['level', 'smallint'], ['bucket', 'bigint'], ['camera_id', 'text'], ['zone_id', 'text'], ['n', 'integer'], ['n_conf', 'integer'], ['sum_conf', 'float8'], ['min_conf', 'float8'], ['max_conf', 'float8'], ['n_proc', 'integer'], ['sum_proc', 'float8']],
    key: ['level', 'bucket', 'camera_id', 'zone_id'],
    conflict: 'level, bucket, camera_id, zone_id',
  },
  {
    name: 'plates_hll',
    columns: [['level', 'smallint'], ['bucket', 'bigint'], ['camera_id', 'text'], ['zone_id', 'text'], ['regs', 'bytea']],
    key: ['level', 'bucket', 'camera_id', 'zone_id'],
    conflict: 'level, bucket, camera_id, zone_id',
  },
  {
    name: 'events',
    columns: [
      ['seq', 'bigint'], ['event_id', 'text'], ['ts', 'bigint'], ['camera_id', 'text'], ['zone_id', 'text'], ['plate_text', 'text'], ['confidence', 'float8'],
      ['processing_ms', 'float8'], ['body', 'text'], ['frame_path', 'text'], ['crop_path', 'text'], ['created_at', 'bigint'], ['decision_action', 'text'], ['decision_alert', 'smallint'],
    ],
    key: 'rowid',
    conflict: 'event_id',
  },
];

/** A position in a table's SQLite key order: the rowid, or the key columns' values. */
export type Cursor = number | unknown[];

/** The SQLite statement reading the batch after `cursor` (bound as the first parameters; the limit last). */
export function selectBatch(t: ImportTable, hasCursor: boolean): string {
  const cols = t.columns.map(([c]) => c).join(', ');
  if (t.key === 'rowid') {
    return `SELECT rowid AS _key, ${cols} FROM ${t.name} ${hasCursor ? 'WHERE rowid > ?' : ''} ORDER BY rowid LIMIT ?`;
  }
  const key = t.key.join(', ');
  // Row values compare column by column with each column's collation (BINARY): the primary key's order.
  const after = hasCursor ? `WHERE (${key}) > (${t.key.map(() => '?').join(', ')})` : '';
  return `SELECT ${cols} FROM ${t.name} ${after} ORDER BY ${key} LIMIT ?`;
}

/** The cursor after `row`, the last row of a batch. */
export function cursorOf(t: ImportTable, row: Record<string, unknown>): Cursor {
  return t.key === 'rowid' ? (row._key as number) : t.key.map((k) => row[k]);
}

/** The statement parameters that resume after `cursor`. */
export function cursorParams(cursor: Cursor | null): unknown[] {
  return cursor === null ? [] : Array.isArray(cursor) ? cursor : [cursor];
}

/** Every column written to PostgreSQL, with its type: read ones, then derived ones. */
function written(t: ImportTable): ReadonlyArray<readonly [string, string]> {
  return [...t.columns, ...(t.derived?.columns ?? [])];
}

/** The PostgreSQL statement storing one batch: one array parameter per column. */
export function insertBatch(t: ImportTable): string {
  const cols = written(t);
  const names = cols.map(([c]) => c).join(', ');
  const arrays = cols.map(([, type], i) => `$${i + 1}::${type}[]`).join(', ');
  if (t.name === 'events') {
    // As the PostgreSQL writer: each event claims its id in event_ids in the same statement.
    return `
      WITH v AS (SELECT * FROM unnest(${arrays}) AS v(${names})),
      claimed AS (INSERT INTO event_ids (event_id, ts) SELECT event_id, ts FROM v ON CONFLICT (event_id) DO NOTHING RETURNING event_id)
      INSERT INTO events (${names}) SELECT v.* FROM v JOIN claimed USING (event_id)`;
  }
  const update = cols.filter(([c]) => !t.conflict.split(', ').includes(c)).map(([c]) => `${c} = excluded.${c}`).join(', ');
  return `INSERT INTO ${t.name} (${names}) SELECT * FROM unnest(${arrays}) AS v(${names})
    ON CONFLICT (${t.conflict}) ${t.overwrite ? `DO UPDATE SET ${update}` : 'DO NOTHING'}`;
}

/** The parameters of `insertBatch` for `rows`: one array per column. */
export function batchParams(t: ImportTable, rows: ReadonlyArray<Record<string, unknown>>): unknown[][] {
  const derived = t.derived ? rows.map((r) => t.derived!.of(r)) : [];
  return [
    ...t.columns.map(([c]) => rows.map((r) => r[c] ?? null)),
    ...(t.derived?.columns ?? []).map((_, i) => derived.map((d) => d[i] ?? null)),
  ];
}

/** Rows of `table` in PostgreSQL. */
export async function pgCount(pool: pg.Pool, table: string): Promise<number> {
  return (await pool.query<{ n: number }>(`SELECT count(*) AS n FROM ${table}`)).rows[0]!.n;
}
