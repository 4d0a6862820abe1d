/**
 * Monthly partitions of `events` (PostgreSQL): created ahead of the events they will hold, and
 * dropped whole for retention (`ANPR_RETENTION_DAYS`).
 *
 * `events` is RANGE-partitioned on `ts` (ms since epoch): one partition per UTC calendar month
 * of the years 1970-9999, named `events_yYYYYmMM`, holding [first ms of the month, first ms of
 * the next); `events_default` holds any event of a month that has no partition yet (and any
 * timestamp outside those years). Stats buckets (minute, hour, day) never straddle a month
 * boundary, so a month's rollups and sketches are exactly those of its partition's events.
 *
 * Guarantees:
 * - `ensurePartitions` is idempotent and safe from any number of replicas at once: every
 *   change runs in a transaction holding the advisory lock PARTITIONS_LOCK, and a partition
 *   that exists is left alone. Events of that month already in the default partition (stored
 *   before the partition existed) are moved into it in the same transaction: no event is ever
 *   absent or present twice in between.
 * - `dropPartitionsBefore(cutoff)` removes the events of every month that ended at or before
 *   `cutoff` (partitions, and such events still in the default partition), with their stats
 *   rollups and sketches, in one transaction per month, then their `event_ids` rows (in
 *   batches, so no transaction holds a month of rows; ids a run cut short left behind go with
 *   the next run). It returns the months removed, so the
 *   caller can remove their images (an image left behind has no event, and the image sweep
 *   takes it). A month still partly within the retention is kept whole.
 * - DDL on the parent table waits at most `lockTimeoutMs` (default 5 s) for running queries,
 *   so it never stalls ingest behind a long read; it then fails and can be tried again.
 */
import type { Pool, PoolClient } from 'pg';

/** pg_advisory_xact_lock(ANPR_LOCK_SPACE, 2): partition DDL (1 is the migrations', migrations.ts). */
export const ANPR_LOCK_SPACE = 0x616e7072; // 'anpr' in ASCII
export const PARTITIONS_LOCK_ID = 2;

export interface PartitionRange {
  /** The partition's table name, e.g. `events_y2024m01`. */
  name: string;
  /** First ms of the month (inclusive). */
  from: number;
  /** First ms of the next month (exclusive). */
  to: number;
}

export interface PartitionOptions {
  /** Longest wait (ms) for the lock on `events` that partition DDL needs (default 5000). */
  lockTimeoutMs?: number;
}

const FIRST_YEAR = 1970;
const LAST_YEAR = 9999;
/** More months than this in one call is a caller's mistake, not a plan. */
const MAX_MONTHS = 600;
const EVENT_IDS_BATCH = 10_000;

/** The month (UTC) holding `ts`, or undefined outside the years partitions cover. */
export function monthOf(ts: number): PartitionRange | undefined {
  const d = new Date(ts);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth();
  if (!Number.isFinite(ts) || y < FIRST_YEAR || y > LAST_YEAR) return undefined;
  return { name: `events_y${y}m${String(m + 1).padStart(2, '0')}`, from: Date.UTC(y, m, 1), to: Date.UTC(y, m + 1, 1) };
}

/** The months (UTC) overlapping [fromMs, toMs], in order. */
export function monthsCovering(fromMs: number, toMs: number): PartitionRange[] {
  const out: PartitionRange[] = [];
  const first = monthOf(Math.max(fromMs, Date.UTC(FIRST_YEAR, 0, 1)));
  for (let m = first; m && m.from <= toMs; m = monthOf(m.to)) {
    if (out.length === MAX_MONTHS) throw new RangeError(`more than ${MAX_MONTHS} monthly partitions asked for at once`);
    out.push(m);
  }
  return out;
}

async function inTransaction<T>(pool: Pool, lockTimeoutMs: number, fn: (c: PoolClient) => Promise<T>): Promise<T> {
  const c = await pool.connect();
  try {
    await c.query('BEGIN');
    // Another replica's partition work is waited for (up to statement_timeout); only the DDL's
    // lock on the tables, which queues every query on events behind it, is bounded tighter.
    await c.query('SELECT pg_advisory_xact_lock($1, $2)', [ANPR_LOCK_SPACE, PARTITIONS_LOCK_ID]);
    await c.query(`SET LOCAL lock_timeout = ${Math.max(1, Math.round(lockTimeoutMs))}`);
    const r = await fn(c);
    await c.query('COMMIT');
    return r;
  } catch (e) {
    await c.query('ROLLBACK').catch(() => {});
    throw e;
  } finally {
    c.release();
  }
}

const exists = async (c: PoolClient, name: string) => (await c.query('SELECT to_regclass($1) IS NOT NULL AS e', [name])).rows[0].e as boolean;

/** Creates one month's partition, moving its events out of the default partition; under the lock. */
async function createMonth(c: PoolClient, m: PartitionRange): Promise<boolean> {
  if (await exists(c, m.name)) return false;
  // Integers we computed: DDL takes no bind parameters.
  const bounds = `FOR VALUES FROM (${m.from}) TO (${m.to})`;
  const strays = (await c.query('SELECT EXISTS (SELECT 1 FROM events_default WHERE ts >= $1 AND ts < $2) AS e', [m.from, m.to])).rows[0].e as boolean;
  if (!strays) {
    await c.query(`CREATE TABLE ${m.name} PARTITION OF events ${bounds}`);
    return true;
  }
  // Creating the partition checks that the default one holds none of its rows: take them out
  // first, and put them back into the new partition, all in this transaction.
  await c.query('CREATE TEMP TABLE events_moving (LIKE events) ON COMMIT DROP');
  await c.query('WITH moved AS (DELETE FROM events_default WHERE ts >= $1 AND ts < $2 RETURNING *) INSERT INTO events_moving SELECT * FROM moved', [m.from, m.to]);
  await c.query(`CREATE TABLE ${m.name} PARTITION OF events ${bounds}`);
  await c.query(`INSERT INTO ${m.name} SELECT * FROM events_moving`);
  return true;
}

/**
 * Creates the monthly partitions overlapping [fromMs, toMs] that do not exist yet; returns
 * the names of those it created. Idempotent; safe concurrently (see the guarantees above).
 */
export async function ensurePartitions(pool: Pool, fromMs: number, toMs: number, opts: PartitionOptions = {}): Promise<string[]> {
  const created: string[] = [];
  for (const m of monthsCovering(fromMs, toMs)) {
    if (await inTransaction(pool, opts.lockTimeoutMs ?? 5_000, (c) => createMonth(c, m))) created.push(m.name);
  }
  return created;
}

/** The monthly partitions of `events` that exist, in time order. */
export async function listPartitions(pool: Pool | PoolClient): Promise<PartitionRange[]> {
  const r = await pool.query(
    `SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound
       FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
      WHERE i.inhparent = 'events'::regclass`,
  );
  const out: PartitionRange[] = [];
  for (const row of r.rows as Array<{ name: string; bound: string }>) {
    const b = /FROM \('?(-?\d+)'?\) TO \('?(-?\d+)'?\)/.exec(row.bound);
    if (b) out.push({ name: row.name, from: Number(b[1]), to: Number(b[2]) });
  }
  return out.sort((a, b) => a.from - b.from);
}

/** Rollup levels and their bucket sizes (cloud/store/event-stats.ts); sketches exist from level 1. */
const LEVEL_MS = [60_000, 3_600_000, 86_400_000];

/**
 * Removes the events of every month that ended at or before `cutoffMs`, with their stats and
 * event ids; returns the months removed, oldest first (see the guarantees above).
 */
export async function dropPartitionsBefore(pool: Pool, cutoffMs: number, opts: PartitionOptions = {}): Promise<PartitionRange[]> {
  const lockTimeoutMs = opts.lockTimeoutMs ?? 5_000;
  // Events of months without a partition: give them one first, so one path removes everything.
  const strays = await pool.query(
    `SELECT DISTINCT (extract(epoch FROM date_trunc('month', to_timestamp(ts / 1000.0) AT TIME ZONE 'UTC')) * 1000)::bigint AS month
       FROM events_default WHERE ts >= 0 AND ts < $1`,
    [cutoffMs],
  );
  for (const { month } of strays.rows as Array<{ month: number | string }>) {
    const m = monthOf(Number(month));
    if (m && m.to <= cutoffMs) await ensurePartitions(pool, m.from, m.from, opts);
  }
  const dropped: PartitionRange[] = [];
  for (const p of (await listPartitions(pool)).filter((x) => x.to <= cutoffMs)) {
    const gone = await inTransaction(pool, lockTimeoutMs, async (c) => {
      if (!(await exists(c, p.name))) return false; // another replica dropped it meanwhile
      await c.query(`DROP TABLE ${p.name}`);
      for (const [level, size] of LEVEL_MS.entries()) {
        const range = [level, p.from / size, p.to / size];
        await c.query('DELETE FROM stats_rollup WHERE level = $1 AND bucket >= $2 AND bucket < $3', range);
        await c.query('DELETE FROM plates_hll WHERE level = $1 AND bucket >= $2 AND bucket < $3', range);
      }
      return true;
    });
    if (gone) dropped.push(p);
  }
  // Their event ids, and any a run cut short left behind: every id older than the month holding
  // the cutoff that no event row references any more (an event stored meanwhile keeps its id).
  const boundary = monthOf(cutoffMs)?.from ?? cutoffMs;
  for (;;) {
    const r = await pool.query(
      `DELETE FROM event_ids WHERE (ts, event_id) IN (
         SELECT i.ts, i.event_id FROM event_ids i
          WHERE i.ts >= 0 AND i.ts < $1 AND NOT EXISTS (SELECT 1 FROM events e WHERE e.ts = i.ts AND e.event_id = i.event_id)
          LIMIT $2)`,
      [boundary, EVENT_IDS_BATCH],
    );
    if ((r.rowCount ?? 0) < EVENT_IDS_BATCH) break;
  }
  return dropped;
}
