/**
 * One batch of events stored in one PostgreSQL transaction: the rows, their event ids, the plates
 * dictionary, the stats rollups and the distinct-plates sketches (cloud/store/event-stats.ts),
 * committed together or not at all. Runs inside `inTransaction` (cloud/db/pg/transaction.ts).
 *
 * Guarantees:
 * - Durable on return: the commit waits for its WAL flush (`synchronous_commit = on` for this
 *   transaction, whatever the server's or the role's default).
 * - One copy per event_id: the row and its `event_ids` row are inserted by one statement, and a
 *   repeat inserts neither (cloud/db/pg/migrations.ts). A repeat of an id within the batch is a
 *   duplicate of its first occurrence.
 * - Exact rollups and sketches with any number of writers (replicas, or concurrent batches):
 *   rollup rows are upserted by adding to them (`stats_rollup.n + excluded.n`: no lost update),
 *   sketches are read FOR UPDATE, merged and written back under that row lock.
 * - No deadlock between writers: every batch takes its locks in one global order, category by
 *   category (event ids sorted, plates sorted, rollup keys sorted, sketch keys sorted), and a
 *   writer only ever waits for a key of a category it has not finished. Rows of `events` take
 *   their sequence numbers in the batch's order, so seq follows arrival as in SQLite's writer.
 */
import { rollupDeltas, type RollupKey } from '../event-stats.js';
import type { EventRow } from '../events-store.js';
import { withPositions } from '../hll.js';
import type pg from 'pg';

export type InsertResult = 'inserted' | 'duplicate';

const INSERT_EVENTS = `
  WITH v AS (
    SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::float8[], $7::float8[],
                         $8::text[], $9::text[], $10::text[], $11::bigint[], $12::text[], $13::smallint[])
      WITH ORDINALITY AS v(event_id, ts, camera_id, zone_id, plate_text, confidence, processing_ms,
                           body, frame_path, crop_path, created_at, decision_action, decision_alert, ord)
  ), claimed AS (
    INSERT INTO event_ids (event_id, ts) SELECT event_id, ts FROM v ORDER BY event_id COLLATE "C"
    ON CONFLICT (event_id) DO NOTHING RETURNING event_id
  )
  INSERT INTO events (event_id, ts, camera_id, zone_id, plate_text, confidence, processing_ms, body, frame_path, crop_path, created_at, decision_action, decision_alert)
  SELECT v.event_id, v.ts, v.camera_id, v.zone_id, v.plate_text, v.confidence, v.processing_ms, v.body, v.frame_path, v.crop_path, v.created_at, v.decision_action, v.decision_alert
    FROM v JOIN claimed USING (event_id) ORDER BY v.ord
  RETURNING event_id`;

const INSERT_PLATES = `
  INSERT INTO plates (plate_text) SELECT p FROM unnest($1::text[]) WITH ORDINALITY AS u(p, ord) ORDER BY ord
  ON CONFLICT (plate_text) DO NOTHING`;

const UPSERT_ROLLUPS = `
  INSERT INTO stats_rollup AS r (level, bucket, camera_id, zone_id, n, n_conf, sum_conf, min_conf, max_conf, n_proc, sum_proc)
  SELECT level, bucket, camera_id, zone_id, n, n_conf, sum_conf, min_conf, max_conf, n_proc, sum_proc
    FROM unnest($1::smallint[], $2::bigint[], $3::text[], $4::text[], $5::int[], $6::int[], $7::float8[], $8::float8[], $9::float8[], $10::int[], $11::float8[])
      WITH ORDINALITY AS u(level, bucket, camera_id, zone_id, n, n_conf, sum_conf, min_conf, max_conf, n_proc, sum_proc, ord)
   ORDER BY ord
  ON CONFLICT (level, bucket, camera_id, zone_id) DO UPDATE SET
    n = r.n + excluded.n, n_conf = r.n_conf + excluded.n_conf, sum_conf = r.sum_conf + excluded.sum_conf,
    n_proc = r.n_proc + excluded.n_proc, sum_proc = r.sum_proc + excluded.sum_proc,
    -- LEAST and GREATEST skip NULLs: a bucket without any confidence keeps NULL.
    min_conf = LEAST(r.min_conf, excluded.min_conf), max_conf = GREATEST(r.max_conf, excluded.max_conf)`;

const LOCK_SKETCHES = `
  SELECT h.level, h.bucket, h.camera_id, h.zone_id, h.regs FROM plates_hll h
    JOIN unnest($1::smallint[], $2::bigint[], $3::text[], $4::text[]) AS k(level, bucket, camera_id, zone_id)
      ON h.level = k.level AND h.bucket = k.bucket AND h.camera_id = k.camera_id AND h.zone_id = k.zone_id
   ORDER BY h.level, h.bucket, h.camera_id, h.zone_id
   FOR UPDATE OF h`;

const UPDATE_SKETCHES = `
  UPDATE plates_hll h SET regs = k.regs
    FROM unnest($1::smallint[], $2::bigint[], $3::text[], $4::text[], $5::bytea[]) AS k(level, bucket, camera_id, zone_id, regs)
   WHERE h.level = k.level AND h.bucket = k.bucket AND h.camera_id = k.camera_id AND h.zone_id = k.zone_id`;

const INSERT_SKETCHES = `
  INSERT INTO plates_hll (level, bucket, camera_id, zone_id, regs)
  SELECT level, bucket, camera_id, zone_id, regs
    FROM unnest($1::smallint[], $2::bigint[], $3::text[], $4::text[], $5::bytea[]) WITH ORDINALITY AS k(level, bucket, camera_id, zone_id, regs, ord)
   ORDER BY ord
  ON CONFLICT (level, bucket, camera_id, zone_id) DO NOTHING
  RETURNING level, bucket, camera_id, zone_id`;

/** Byte order of UTF-16 code units, the same in every writer: the lock order of text keys. */
const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const byKey = (a: RollupKey, b: RollupKey) => a.level - b.level || a.bucket - b.bucket || byText(a.cam, b.cam) || byText(a.zone, b.zone);
const keyOf = (k: { level: number; bucket: number; cam?: string; zone?: string; camera_id?: string; zone_id?: string }) =>
  `${k.level}\u0000${k.bucket}\u0000${k.cam ?? k.camera_id}\u0000${k.zone ?? k.zone_id}`;
const keyColumns = (keys: RollupKey[]) => [keys.map((k) => k.level), keys.map((k) => k.bucket), keys.map((k) => k.cam), keys.map((k) => k.zone)];

/** Rows of one statement inside the transaction: raw errors, so `inTransaction` sees a deadlock's SQLSTATE. */
async function rowsOf<R>(tx: pg.PoolClient, text: string, values?: unknown[]): Promise<R[]> {
  return (await tx.query(text, values)).rows as R[];
}

/** Stores `rows` (see the guarantees above); the result of each row, in order. Call inside `inTransaction`. */
export async function insertEvents(tx: pg.PoolClient, rows: readonly EventRow[]): Promise<InsertResult[]> {
  await rowsOf(tx, 'SET LOCAL synchronous_commit = on');
  const first = new Map<string, number>();
  rows.forEach((r, i) => first.has(r.event_id) || first.set(r.event_id, i));
  const batch = [...first.values()].map((i) => rows[i]!);
  const col = <K extends keyof EventRow>(k: K) => batch.map((r) => r[k] ?? null);
  const stored = await rowsOf<{ event_id: string }>(tx, INSERT_EVENTS, [
    col('event_id'), col('ts'), col('camera_id'), col('zone_id'), col('plate_text'), col('confidence'), col('processing_ms'),
    col('body'), col('frame_path'), col('crop_path'), col('created_at'), col('decision_action'), col('decision_alert'),
  ]);
  const insertedIds = new Set(stored.map((r) => r.event_id));
  const inserted = batch.filter((r) => insertedIds.has(r.event_id));
  if (inserted.length > 0) {
    await rowsOf(tx, INSERT_PLATES, [[...new Set(inserted.map((r) => r.plate_text))].sort(byText)]);
    await addToStats(tx, inserted);
  }
  return rows.map((r, i) => (first.get(r.event_id) === i && insertedIds.has(r.event_id) ? 'inserted' : 'duplicate'));
}

/** The rollups and sketches of newly inserted rows. */
async function addToStats(tx: pg.PoolClient, inserted: EventRow[]): Promise<void> {
  const { aggs, sketches } = rollupDeltas(inserted);
  aggs.sort(byKey);
  await rowsOf(tx, UPSERT_ROLLUPS, [
    ...keyColumns(aggs),
    aggs.map((x) => x.a.n), aggs.map((x) => x.a.nConf), aggs.map((x) => x.a.sumConf), aggs.map((x) => x.a.min), aggs.map((x) => x.a.max),
    aggs.map((x) => x.a.nProc ?? 0), aggs.map((x) => x.a.sumProc ?? 0),
  ]);
  // Each sketch key is also a rollup key this transaction now holds locked, so another writer of
  // the same sketch waits at the rollups; the row lock below keeps the merge safe on its own.
  let pending = sketches.sort(byKey);
  while (pending.length > 0) {
    const locked = await rowsOf<{ level: number; bucket: number; camera_id: string; zone_id: string; regs: Buffer }>(tx, LOCK_SKETCHES, keyColumns(pending));
    const have = new Map(locked.map((r) => [keyOf(r), r.regs]));
    const updates: Array<RollupKey & { regs: Buffer }> = [];
    const creates: Array<RollupKey & { regs: Buffer }> = [];
    for (const s of pending) {
      const before = have.get(keyOf(s));
      const regs = withPositions(before, s.plates);
      if (regs) (before ? updates : creates).push({ ...s, regs: Buffer.from(regs.buffer, regs.byteOffset, regs.byteLength) });
    }
    if (updates.length > 0) await rowsOf(tx, UPDATE_SKETCHES, [...keyColumns(updates), updates.map((u) => u.regs)]);
    if (creates.length === 0) break;
    const created = new Set((await rowsOf<{ level: number; bucket: number; camera_id: string; zone_id: string }>(tx, INSERT_SKETCHES, [...keyColumns(creates), creates.map((c) => c.regs)])).map(keyOf));
    // A sketch another writer created meanwhile: merge into it, under its lock, on the next turn.
    const raced = new Set(creates.map(keyOf).filter((k) => !created.has(k)));
    pending = pending.filter((s) => raced.has(keyOf(s)));
  }
}
