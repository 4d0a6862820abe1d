/**
 * PostgreSQL migrations and partitions (cloud/db/pg/migrations.ts, partitions.ts) on a real
 * PostgreSQL 15: every SQLite table and column has its counterpart; migrating twice, or from two
 * replicas at once, applies each migration once; one copy per event_id across partitions;
 * partitions made for a range and dropped by retention with their stats; the config generation
 * moves as SQLite's does.
 */
import t from 'tap';
import type { Test } from 'tap';
import Database from 'better-sqlite3';
import type pg from 'pg';
import { openPgPool, type PgDatabase } from '../../../cloud/db/pg/connect.js';
import { ANPR_LOCK_SPACE } from '../../../cloud/db/pg/partitions.js';
import { MIGRATIONS_LOCK_ID, dropPartitionsBefore, ensurePartitions, listPartitions, migrate } from '../../../cloud/db/pg/migrations.js';
import { migrate as migrateSqlite } from '../../../cloud/db/migrations.js';
import { startPostgresCluster } from '../../fixtures/postgres.js';
import { waitFor } from '../../fixtures/wait.js';

const pgc = await startPostgresCluster(t);

async function freshDb(t: Test, migrated = true): Promise<PgDatabase> {
  const db = await openPgPool(await pgc.createDatabase());
  t.teardown(() => db.close());
  if (migrated) await migrate(db.pool);
  return db;
}

const month = (y: number, m: number, d = 1, h = 0) => Date.UTC(y, m - 1, d, h);

/** Stores an event as the writer will: its id claimed in event_ids, then the row, in one statement. */
async function storeEvent(q: pg.Pool | pg.PoolClient, id: string, ts: number): Promise<boolean> {
  const r = await q.query(
    `WITH claimed AS (INSERT INTO event_ids (event_id, ts) VALUES ($1, $2) ON CONFLICT (event_id) DO NOTHING RETURNING event_id, ts)
     INSERT INTO events (event_id, ts, camera_id, plate_text, body, created_at)
     SELECT event_id, ts, 'cam-001', 'AB123CD', '{"k":"\\u0000"}', $2 FROM claimed`,
    [id, ts],
  );
  return r.rowCount === 1;
}

t.test('migration 1 holds every table and column of the SQLite schema after all its migrations', async (t) => {
  const db = await freshDb(t, false);
  t.same(await migrate(db.pool), [1, 2], 'applied');
  const sqlite = new Database(':memory:');
  migrateSqlite(sqlite);
  const tables = (sqlite.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'plates_fts%'").pluck().all() as string[]).sort();
  const pgCols = async (table: string) =>
    (await db.pool.query('SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1', [table])).rows.map((r: { column_name: string }) => r.column_name);
  for (const table of tables) {
    const want = (sqlite.prepare(`SELECT name FROM pragma_table_info(?)`).pluck().all(table) as string[]).filter((c) => !(table === 'plates' && c === 'id'));
    const have = await pgCols(table);
    t.same(want.filter((c) => !have.includes(c)), [], `${table}: every column (${want.join(', ')})`);
  }
  sqlite.close();
  t.same(await pgCols('event_ids'), ['event_id', 'ts'], 'and the event id registry');
  const ext = await db.pool.query("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'");
  t.equal(ext.rowCount, 1, "pg_trgm is available in Debian's postgresql-15 and created");
  t.equal((await db.pool.query("SELECT 1 FROM pg_indexes WHERE indexname = 'plates_trgm'")).rowCount, 1, 'with the trigram index on the plates dictionary');
  await db.pool.query("INSERT INTO plates (plate_text) VALUES ('AB123CD'), ('XY999ZZ'), ('KAB12')");
  t.same((await db.pool.query("SELECT plate_text FROM plates WHERE plate_text ILIKE $1 ORDER BY plate_text", ['%ab12%'])).rows.map((r: { plate_text: string }) => r.plate_text), ['AB123CD', 'KAB12'], 'partial, case-insensitive');
});

t.test('applying again is a no-op', async (t) => {
  const db = await freshDb(t);
  const before = (await db.pool.query('SELECT version, applied_at FROM schema_migrations')).rows;
  t.same(await migrate(db.pool), []);
  t.same((await db.pool.query('SELECT version, applied_at FROM schema_migrations')).rows, before);
});

t.test('two replicas migrating at once: the second waits for the lock, then applies nothing', async (t) => {
  const url = await pgc.createDatabase();
  const [a, b, holder] = await Promise.all([openPgPool(url), openPgPool(url), openPgPool(url)]);
  t.teardown(() => Promise.all([a.close(), b.close(), holder.close()]));
  // Hold the lock so both runners are surely waiting on it together, then let them race.
  const c = await holder.pool.connect();
  await c.query('SELECT pg_advisory_lock($1, $2)', [ANPR_LOCK_SPACE, MIGRATIONS_LOCK_ID]);
  const runs = Promise.all([migrate(a.pool), migrate(b.pool)]);
  await waitFor(async () => {
    const r = await holder.pool.query("SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND classid = $1 AND objid = $2", [ANPR_LOCK_SPACE, MIGRATIONS_LOCK_ID]);
    return r.rows[0].n === 2;
  }, 'both runners waiting on the advisory lock');
  await c.query('SELECT pg_advisory_unlock($1, $2)', [ANPR_LOCK_SPACE, MIGRATIONS_LOCK_ID]);
  c.release();
  const [ra, rb] = await runs;
  t.same([...ra, ...rb], [1, 2], `one of them applied the migrations, the other nothing (${JSON.stringify([ra, rb])})`);
  t.same((await a.pool.query('SELECT version, count(*) AS n FROM schema_migrations GROUP BY version ORDER BY version')).rows, [{ version: 1, n: 1 }, { version: 2, n: 1 }]);
});

t.test('one copy per event_id, across partitions and concurrent writers', async (t) => {
  const db = await freshDb(t);
  await ensurePartitions(db.pool, month(2024, 1), month(2024, 2));
  t.equal(await storeEvent(db.pool, 'evt-1', month(2024, 1, 10)), true, 'stored in January');
  t.equal(await storeEvent(db.pool, 'evt-1', month(2024, 2, 10)), false, 'the same id at a February time: nothing stored');
  t.equal(await storeEvent(db.pool, 'evt-1', month(2024, 1, 10)), false, 'the same id again: nothing stored');
  // Even a writer that skips event_ids cannot store a second copy: the foreign key refuses it.
  await t.rejects(
    db.pool.query("INSERT INTO events (event_id, ts, plate_text, body, created_at) VALUES ('evt-1', $1, 'X', '{}', 0)", [month(2024, 2, 11)]),
    { code: '23503' },
  );
  await t.rejects(
    db.pool.query("INSERT INTO events (event_id, ts, plate_text, body, created_at) VALUES ('evt-1', $1, 'X', '{}', 0)", [month(2024, 1, 10)]),
    { code: '23505' },
  );

  // Two transactions storing one id at once: the second waits for the first, then stores nothing.
  const [c1, c2] = [await db.pool.connect(), await db.pool.connect()];
  t.teardown(() => {
    c1.release();
    c2.release();
  });
  await c1.query('BEGIN');
  await c2.query('BEGIN');
  t.equal(await storeEvent(c1, 'evt-2', month(2024, 1, 12)), true);
  const second = storeEvent(c2, 'evt-2', month(2024, 2, 12));
  await waitFor(async () => (await db.pool.query("SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()")).rowCount! > 0, 'the second writer waiting');
  await c1.query('COMMIT');
  t.equal(await second, false, 'the second writer stored nothing');
  await c2.query('COMMIT');

  const rows = await db.pool.query("SELECT event_id, tableoid::regclass::text AS part, body FROM events WHERE event_id IN ('evt-1', 'evt-2') ORDER BY event_id");
  t.same(rows.rows, [
    { event_id: 'evt-1', part: 'events_y2024m01', body: '{"k":"\\u0000"}' },
    { event_id: 'evt-2', part: 'events_y2024m01', body: '{"k":"\\u0000"}' },
  ], 'one row each, in its month, the body byte for byte');
});

t.test('monthly partitions for a range (idempotent, concurrent), and retention dropping whole months with their stats', async (t) => {
  const db = await freshDb(t);
  // An event stored before its month had a partition lands in the default partition.
  t.equal(await storeEvent(db.pool, 'evt-dec', month(2023, 12, 20)), true);
  t.equal(await storeEvent(db.pool, 'evt-nov', month(2023, 11, 5)), true);
  const [x, y] = await Promise.all([ensurePartitions(db.pool, month(2023, 12, 15), month(2024, 3, 3)), ensurePartitions(db.pool, month(2023, 12, 15), month(2024, 3, 3))]);
  t.same([...x, ...y].sort(), ['events_y2023m12', 'events_y2024m01', 'events_y2024m02', 'events_y2024m03'], 'each month created once by the two callers');
  t.same(await ensurePartitions(db.pool, month(2024, 1), month(2024, 3)), [], 'again: nothing to do');
  t.same((await listPartitions(db.pool)).map((p) => [p.name, p.from, p.to]), [
    ['events_y2023m12', month(2023, 12), month(2024, 1)],
    ['events_y2024m01', month(2024, 1), month(2024, 2)],
    ['events_y2024m02', month(2024, 2), month(2024, 3)],
    ['events_y2024m03', month(2024, 3), month(2024, 4)],
  ]);
  const partOf = async (id: string) => (await db.pool.query('SELECT tableoid::regclass::text AS p FROM events WHERE event_id = $1', [id])).rows[0]?.p as string | undefined;
  t.equal(await partOf('evt-dec'), 'events_y2023m12', 'moved out of the default partition into its month');
  t.equal(await partOf('evt-nov'), 'events_default', 'a month without a partition stays in the default');

  for (const [id, ts] of [['evt-jan', month(2024, 1, 31, 23)], ['evt-feb', month(2024, 2, 1)], ['evt-mar', month(2024, 3, 2)]] as const) {
    t.equal(await storeEvent(db.pool, id, ts), true);
    for (const [level, size] of [[0, 60_000], [1, 3_600_000], [2, 86_400_000]]) {
      await db.pool.query("INSERT INTO stats_rollup VALUES ($1, $2, 'cam-001', '', 1, 0, 0, NULL, NULL, 0, 0)", [level, Math.floor(ts / size!)]);
      if (level! > 0) await db.pool.query("INSERT INTO plates_hll VALUES ($1, $2, 'cam-001', '', '\\x00')", [level, Math.floor(ts / size!)]);
    }
  }

  // Keep from mid-February: December, January (and November's strays) go; February is partly kept, so kept whole.
  const dropped = await dropPartitionsBefore(db.pool, month(2024, 2, 15));
  t.same(dropped.map((p) => [p.name, p.from, p.to]), [
    ['events_y2023m11', month(2023, 11), month(2023, 12)],
    ['events_y2023m12', month(2023, 12), month(2024, 1)],
    ['events_y2024m01', month(2024, 1), month(2024, 2)],
  ], 'the months removed, for the caller to remove their images');
  t.same((await listPartitions(db.pool)).map((p) => p.name), ['events_y2024m02', 'events_y2024m03']);
  const ids = async (table: string) => (await db.pool.query(`SELECT event_id FROM ${table} ORDER BY ts`)).rows.map((r: { event_id: string }) => r.event_id);
  t.same(await ids('events'), ['evt-feb', 'evt-mar']);
  t.same(await ids('event_ids'), ['evt-feb', 'evt-mar'], 'their ids go too: no stale duplicate answer');
  const rollups = await db.pool.query('SELECT level, count(*)::int AS n FROM stats_rollup GROUP BY level ORDER BY level');
  t.same(rollups.rows, [{ level: 0, n: 2 }, { level: 1, n: 2 }, { level: 2, n: 2 }], "January's rollups gone, February's and March's kept");
  t.equal((await db.pool.query('SELECT count(*)::int AS n FROM plates_hll')).rows[0].n, 4, 'and the sketches');
  t.same(await dropPartitionsBefore(db.pool, month(2024, 2, 15)), [], 'again: nothing to do');
});

t.test('the config generation moves on insert, update and delete of config items, as the SQLite triggers move it', async (t) => {
  const db = await freshDb(t);
  const sqlite = new Database(':memory:');
  t.teardown(() => sqlite.close());
  migrateSqlite(sqlite);
  const now = '2024-01-01T00:00:00.000Z';
  const steps = [
    `INSERT INTO config_items (kind, id, body, created_at, updated_at) VALUES ('cameras', 'cam-001', '{}', '${now}', '${now}')`,
    `INSERT INTO config_items (kind, id, body, created_at, updated_at) VALUES ('cameras', 'cam-002', '{}', '${now}', '${now}')`,
    `UPDATE config_items SET body = '{"a":1}' WHERE id = 'cam-001'`,
    `UPDATE config_items SET enabled = 1`,
    `UPDATE config_items SET enabled = 1 WHERE id = 'cam-009'`,
    `DELETE FROM config_items WHERE id = 'cam-002'`,
    `DELETE FROM config_items WHERE id = 'cam-002'`,
  ];
  const seen: Array<[number, number]> = [];
  for (const sql of steps) {
    sqlite.exec(sql);
    await db.pool.query(sql);
    const lite = sqlite.prepare('SELECT n FROM config_generation WHERE id = 1').pluck().get() as number;
    seen.push([lite, (await db.pool.query('SELECT n FROM config_generation WHERE id = 1')).rows[0].n as number]);
  }
  t.same(seen.map(([, p]) => p), seen.map(([l]) => l), `the same numbers (${JSON.stringify(seen)})`);
  t.same(seen.map(([l]) => l), [1, 2, 3, 5, 5, 6, 6]);
});
