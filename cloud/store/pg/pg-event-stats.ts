/**
 * Statistics and counts from the rollups on PostgreSQL: the same plan of whole days, hours and
 * minutes, and the same assembly (StatsBuilder in cloud/store/event-stats.ts), as SQLite's, so
 * both backends give the same answer. Each piece of the plan is one branch of a UNION ALL: a
 * statistic is a few round trips whatever its range, and the raw events read are those of the
 * partial minutes (or hours, for distinct plates) at either end.
 */
import { countPlan, recentBuckets, recentRateOf, StatsBuilder, type Interval, type Segment, type Stats, type StatsFilter } from '../event-stats.js';
import type pg from 'pg';
import { dimensionSql } from './pg-event-sql.js';
import { Params, query } from './sql.js';

/** Rollup rows of a level in [first, last] buckets, or raw events in [from, to] (ms), as `branch` writes them. */
function unionOf(plan: Segment[], f: StatsFilter, p: Params, branch: (s: Segment, range: string, dims: string) => string): string {
  return plan
    .map((s) => {
      const range = s.kind === 'raw' ? `ts >= ${p.add(s.from)} AND ts <= ${p.add(s.to)}` : `level = ${p.add(s.level)} AND bucket >= ${p.add(s.first)} AND bucket <= ${p.add(s.last)}`;
      return branch(s, range, dimensionSql(f, p));
    })
    .join(' UNION ALL ');
}

type CountRow = pg.QueryResultRow & { level: number; t: number; camera_id: string | null; zone_id: string | null; n: number; n_conf: number; sum_conf: number; min_conf: number | null; max_conf: number | null };

async function addCounts(pool: pg.Pool, f: StatsFilter, stats: StatsBuilder): Promise<void> {
  if (stats.counts.length === 0) return;
  const p = new Params();
  // A raw event's row carries its confidence in min_conf (addEvent counts it as SQLite does).
  const sql = unionOf(stats.counts, f, p, (s, range, dims) =>
    s.kind === 'raw'
      ? `SELECT -1 AS level, ts AS t, camera_id, zone_id, 1 AS n, 0 AS n_conf, 0::float8 AS sum_conf, confidence AS min_conf, NULL::float8 AS max_conf FROM events WHERE ${range}${dims}`
      : `SELECT level::int AS level, bucket AS t, camera_id, zone_id, n, n_conf, sum_conf, min_conf, max_conf FROM stats_rollup WHERE ${range}${dims}`,
  );
  for (const r of await query<CountRow>(pool, sql, p.values)) {
    if (r.level < 0) stats.addEvent(r.t, r.camera_id, r.zone_id, r.min_conf);
    else stats.addRollup(r.level, r.t, r.camera_id!, r.zone_id!, r.n, r.n_conf, r.sum_conf, r.min_conf, r.max_conf);
  }
}

/** The distinct-plates sketches and the plates of partial hours. */
async function readPlates(pool: pg.Pool, f: StatsFilter, plan: Segment[]): Promise<Array<{ regs: Buffer | null; plate_text: string | null }>> {
  if (plan.length === 0) return [];
  const p = new Params();
  const sql = unionOf(plan, f, p, (s, range, dims) =>
    s.kind === 'raw' ? `SELECT NULL::bytea AS regs, plate_text FROM events WHERE ${range}${dims}` : `SELECT regs, NULL::text AS plate_text FROM plates_hll WHERE ${range}${dims}`,
  );
  return query(pool, sql, p.values);
}

/** Totals, rates, per camera, per zone and timeline over [start, end]: computeStats's answer. */
export async function pgStats(pool: pg.Pool, f: StatsFilter, interval: Interval, now: number): Promise<Stats> {
  const stats = new StatsBuilder(f, interval);
  const first = async () => {
    if (f.start !== undefined) return null;
    const p = new Params();
    const dims = dimensionSql(f, p);
    return (await query<{ first: number | null }>(pool, `SELECT MIN(ts) AS first FROM events WHERE true${dims}`, p.values))[0]!.first;
  };
  // Three reads at once (three pooled connections). Sketch rows exist only beside rollup rows,
  // so when nothing is counted the plates read found nothing to merge either.
  const [, plates, firstTs] = await Promise.all([addCounts(pool, f, stats), readPlates(pool, f, stats.sketches), first()]);
  if (stats.total > 0) {
    for (const r of plates) {
      if (r.regs) stats.addSketch(new Uint8Array(r.regs.buffer, r.regs.byteOffset, r.regs.byteLength));
      else stats.addPlate(r.plate_text!);
    }
  }
  return stats.result(firstTs, now);
}

/**
 * The number of events matching camera, zone and time bounds, from the rollups: countEvents's
 * answer (cloud/store/event-stats.ts), in one statement.
 */
export async function pgCountEvents(pool: pg.Pool, f: StatsFilter): Promise<number> {
  const plan = countPlan(f);
  if (plan.length === 0) return 0;
  const p = new Params();
  const terms = plan.map((s) => {
    if (s.kind === 'raw') return `(SELECT count(*) FROM events WHERE ts >= ${p.add(s.from)} AND ts <= ${p.add(s.to)}${dimensionSql(f, p)})`;
    // SUM of an integer column is a bigint (read as a number).
    return `(SELECT COALESCE(SUM(n), 0) FROM stats_rollup WHERE level = ${p.add(s.level)} AND bucket >= ${p.add(s.first)} AND bucket <= ${p.add(s.last)}${dimensionSql(f, p)})`;
  });
  return (await query<{ n: number }>(pool, `SELECT ${terms.join(' + ')} AS n`, p.values))[0]!.n;
}

/** Events per minute and mean processing time over the last `minutes` minutes: recentRate's answer. */
export async function pgRecentRate(pool: pg.Pool, minutes: number, now: number): Promise<{ perMinute: number; avgProcessingMs: number | null }> {
  const [after, upTo] = recentBuckets(minutes, now);
  const [r] = await query<{ n: number | null; np: number | null; sp: number | null }>(
    pool,
    'SELECT SUM(n) AS n, SUM(n_proc) AS np, SUM(sum_proc) AS sp FROM stats_rollup WHERE level = 0 AND bucket > $1 AND bucket <= $2',
    [after, upTo],
  );
  return recentRateOf(minutes, r!.n, r!.np, r!.sp);
}
