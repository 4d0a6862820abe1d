/**
 * Statistics without scanning events. The writer keeps, in the same transaction as the
 * events, a rollup per minute, hour and day (count, confidence sum/min/max per camera and
 * zone) and a HyperLogLog sketch of plates per hour and day. A query splits its time range
 * into whole days, then whole hours, then whole minutes, and reads the events themselves
 * only for the partial minutes at either end — exact for any bounds, and the work grows
 * with the number of days, not the number of events.
 */
import type { Db } from '../db/open.js';
import type { Statement } from 'better-sqlite3';
import { addToSketch, estimate, mergeSketch, newSketch, sketchPosition, withPositions, type SketchPosition } from './hll.js';
import type { EventStats } from '../../shared/schemas/stats.js';

export type Interval = 'minute' | 'hour' | 'day' | 'week';

const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const WEEK = 7 * DAY;
/** 1970-01-01 was a Thursday: weeks start on Monday, 3 days earlier. */
const WEEK_OFFSET = 3 * DAY;
/** Rollup levels: 0 minute, 1 hour, 2 day. */
const LEVEL_MS = [MINUTE, HOUR, DAY] as const;
const COARSEST: Record<Interval, number> = { minute: 0, hour: 1, day: 2, week: 2 };
/** Sketches exist for hours and days only. */
const SKETCH_MIN_LEVEL = 1;
const NEG = Number.MIN_SAFE_INTEGER;
const POS = Number.MAX_SAFE_INTEGER;

export function bucketStart(ts: number, interval: Interval): number {
  switch (interval) {
    case 'minute':
      return Math.floor(ts / MINUTE) * MINUTE;
    case 'hour':
      return Math.floor(ts / HOUR) * HOUR;
    case 'day':
      return Math.floor(ts / DAY) * DAY;
    case 'week':
      return Math.floor((ts + WEEK_OFFSET) / WEEK) * WEEK - WEEK_OFFSET;
  }
}

/** A piece of a time range: whole buckets of one level, or raw events [from, to]. */
export type Segment = { kind: 'rollup'; level: number; first: number; last: number } | { kind: 'raw'; from: number; to: number };

/** Splits [a, b] (inclusive, ms; NEG/POS for open ends) into the coarsest whole buckets first. */
export function planRange(a: number, b: number, level: number, minLevel = 0): Segment[] {
  if (a > b) return [];
  if (level < minLevel) return [{ kind: 'raw', from: a, to: b }];
  const size = LEVEL_MS[level]!;
  const first = a === NEG ? NEG : Math.ceil(a / size);
  const last = b === POS ? POS : Math.floor((b + 1) / size) - 1;
  if (first > last) return planRange(a, b, level - 1, minLevel);
  const out: Segment[] = [{ kind: 'rollup', level, first, last }];
  if (a !== NEG && a < first * size) out.push(...planRange(a, first * size - 1, level - 1, minLevel));
  if (b !== POS && (last + 1) * size - 1 < b) out.push(...planRange((last + 1) * size, b, level - 1, minLevel));
  return out;
}

export interface RollupInput {
  ts: number;
  camera_id: string | null;
  zone_id: string | null;
  plate_text: string;
  confidence: number | null;
  processing_ms: number | null;
}

/** A rollup row's aggregates: count, confidence sum/min/max, processing time. */
export interface Agg {
  n: number;
  nProc?: number;
  sumProc?: number;
  nConf: number;
  sumConf: number;
  min: number | null;
  max: number | null;
}
const emptyAgg = (): Agg => ({ n: 0, nConf: 0, sumConf: 0, min: null, max: null });
function addAgg(a: Agg, n: number, nConf: number, sumConf: number, min: number | null, max: number | null): void {
  a.n += n;
  a.nConf += nConf;
  a.sumConf += sumConf;
  if (min !== null && (a.min === null || min < a.min)) a.min = min;
  if (max !== null && (a.max === null || max > a.max)) a.max = max;
}
const round = (v: number, d = 4) => Math.round(v * 10 ** d) / 10 ** d;

export type Stats = EventStats;

export interface StatsFilter {
  camera_id?: string;
  zone_id?: string;
  start?: number;
  end?: number;
}

/** Keeps the rollups and sketches; `apply` runs inside the writer's transaction. */
export class RollupWriter {
  private readonly upsert;
  private readonly sketchGet;
  private readonly sketchPut;

  constructor(db: Db) {
    this.upsert = db.prepare(
      `INSERT INTO stats_rollup (level, bucket, camera_id, zone_id, n, n_conf, sum_conf, min_conf, max_conf, n_proc, sum_proc)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (level, bucket, camera_id, zone_id) DO UPDATE SET
         n = n + excluded.n, n_conf = n_conf + excluded.n_conf, sum_conf = sum_conf + excluded.sum_conf,
         n_proc = n_proc + excluded.n_proc, sum_proc = sum_proc + excluded.sum_proc,
         min_conf = CASE WHEN excluded.min_conf IS NULL THEN min_conf WHEN min_conf IS NULL OR excluded.min_conf < min_conf THEN excluded.min_conf ELSE min_conf END,
         max_conf = CASE WHEN excluded.max_conf IS NULL THEN max_conf WHEN max_conf IS NULL OR excluded.max_conf > max_conf THEN excluded.max_conf ELSE max_conf END`,
    );
    this.sketchGet = db.prepare('SELECT regs FROM plates_hll WHERE level = ? AND bucket = ? AND camera_id = ? AND zone_id = ?').pluck();
    this.sketchPut = db.prepare('INSERT OR REPLACE INTO plates_hll (level, bucket, camera_id, zone_id, regs) VALUES (?, ?, ?, ?, ?)');
  }

  /** Adds a batch of newly inserted events: one upsert per bucket key, not per event. */
  apply(rows: RollupInput[]): void {
    const { aggs, sketches } = rollupDeltas(rows);
    for (const { level, bucket, cam, zone, a } of aggs) {
      this.upsert.run(level, bucket, cam, zone, a.n, a.nConf, a.sumConf, a.min, a.max, a.nProc ?? 0, a.sumProc ?? 0);
    }
    for (const s of sketches) {
      const stored = this.sketchGet.get(s.level, s.bucket, s.cam, s.zone) as Buffer | undefined;
      const regs = withPositions(stored, s.plates);
      if (regs) this.sketchPut.run(s.level, s.bucket, s.cam, s.zone, Buffer.from(regs));
    }
  }
}

/** The key of a rollup row and of a sketch: level, bucket (ts / bucket size), camera and zone ('' = none). */
export interface RollupKey {
  level: number;
  bucket: number;
  cam: string;
  zone: string;
}

/**
 * What a batch of newly inserted events adds to the rollups (one entry per bucket key, not per
 * event) and to the sketches (the plates' positions per hour and day key), in first-seen order.
 */
export function rollupDeltas(rows: RollupInput[]): { aggs: Array<RollupKey & { a: Agg }>; sketches: Array<RollupKey & { plates: SketchPosition[] }> } {
  const aggs = new Map<string, RollupKey & { a: Agg }>();
  const sketches = new Map<string, RollupKey & { plates: SketchPosition[] }>();
  for (const r of rows) {
    const pos = sketchPosition(r.plate_text);
    const cam = r.camera_id ?? '';
    const zone = r.zone_id ?? '';
    const c = r.confidence;
    for (let level = 0; level < LEVEL_MS.length; level++) {
      const bucket = Math.floor(r.ts / LEVEL_MS[level]!);
      const key = `${level}\u0000${bucket}\u0000${cam}\u0000${zone}`;
      let e = aggs.get(key);
      if (!e) aggs.set(key, (e = { level, bucket, cam, zone, a: emptyAgg() }));
      addAgg(e.a, 1, c === null ? 0 : 1, c ?? 0, c, c);
      if (r.processing_ms !== null) {
        e.a.nProc = (e.a.nProc ?? 0) + 1;
        e.a.sumProc = (e.a.sumProc ?? 0) + r.processing_ms;
      }
      if (level >= SKETCH_MIN_LEVEL) {
        let s = sketches.get(key);
        if (!s) sketches.set(key, (s = { level, bucket, cam, zone, plates: [] }));
        s.plates.push(pos);
      }
    }
  }
  return { aggs: [...aggs.values()], sketches: [...sketches.values()] };
}

/** SQL conditions for the camera and zone filters (columns of events and of the rollups). */
export function dimensionFilter(f: { camera_id?: string; zone_id?: string }): { parts: string[]; params: unknown[] } {
  const parts: string[] = [];
  const params: unknown[] = [];
  if (f.camera_id !== undefined) {
    parts.push('camera_id = ?');
    params.push(f.camera_id);
  }
  if (f.zone_id !== undefined) {
    parts.push('zone_id = ?');
    params.push(f.zone_id);
  }
  return { parts, params };
}

/**
 * Statistics over [start, end] assembled from what a backend reads: `counts` lists the pieces of
 * the range (whole buckets of rollups, or raw events) to feed to `addRollup` / `addEvent`;
 * when `total > 0`, `sketches` lists those of the distinct-plates sketches (`addSketch`, or
 * `addPlate` for each raw event). Keeps the answer the same whatever the backend.
 */
export class StatsBuilder {
  readonly counts: Segment[];
  readonly sketches: Segment[];
  private readonly sum = emptyAgg();
  private readonly byCam = new Map<string, Agg>();
  private readonly byZone = new Map<string, Agg>();
  private readonly timeline = new Map<number, Agg>();
  private readonly sketch = newSketch();

  constructor(
    private readonly f: StatsFilter,
    private readonly interval: Interval,
  ) {
    const a = f.start ?? NEG;
    const b = f.end ?? POS;
    this.counts = planRange(a, b, COARSEST[interval]);
    this.sketches = planRange(a, b, 2, SKETCH_MIN_LEVEL);
  }

  /** Events counted so far. */
  get total(): number {
    return this.sum.n;
  }

  private add(t0: number, cam: string | null, zone: string | null, n: number, nConf: number, sum: number, mn: number | null, mx: number | null): void {
    const at = <K>(m: Map<K, Agg>, k: K) => {
      let x = m.get(k);
      if (!x) m.set(k, (x = emptyAgg()));
      return x;
    };
    addAgg(this.sum, n, nConf, sum, mn, mx);
    if (cam) addAgg(at(this.byCam, cam), n, nConf, sum, mn, mx);
    if (zone) addAgg(at(this.byZone, zone), n, nConf, sum, mn, mx);
    addAgg(at(this.timeline, bucketStart(t0, this.interval)), n, nConf, sum, mn, mx);
  }

  /** One event of a raw segment. */
  addEvent(ts: number, cam: string | null, zone: string | null, conf: number | null): void {
    this.add(ts, cam, zone, 1, conf === null ? 0 : 1, conf ?? 0, conf, conf);
  }

  /** One rollup row of a segment of `level`. */
  addRollup(level: number, bucket: number, cam: string, zone: string, n: number, nConf: number, sum: number, mn: number | null, mx: number | null): void {
    this.add(bucket * LEVEL_MS[level]!, cam, zone, n, nConf, sum, mn, mx);
  }

  addSketch(regs: Uint8Array): void {
    mergeSketch(this.sketch, regs);
  }

  addPlate(plateText: string): void {
    addToSketch(this.sketch, plateText);
  }

  /** The statistics; `firstTs` (the earliest matching event) is read only when there is no `start`. */
  result(firstTs: number | null, now: number): Stats {
    const { f, sum: total } = this;
    const windowStart = f.start ?? firstTs ?? now;
    const windowEnd = f.end ?? Math.max(now, windowStart);
    const perSecond = total.n / Math.max(1, (windowEnd - windowStart) / 1000);
    const avg = (x: Agg) => (x.nConf ? round(x.sumConf / x.nConf) : null);
    const obj = (m: Map<string, Agg>) =>
      Object.fromEntries([...m.entries()].sort(([x], [y]) => x.localeCompare(y)).map(([k, x]) => [k, { count: x.n, avg_confidence: avg(x) }]));
    return {
      total_events: total.n,
      avg_confidence: avg(total),
      min_confidence: total.min,
      max_confidence: total.max,
      unique_plates: total.n === 0 ? 0 : Math.min(total.n, estimate(this.sketch)),
      event_rate: { per_second: round(perSecond, 6), per_minute: round(perSecond * 60, 4), per_hour: round(perSecond * 3600, 2) },
      by_camera: obj(this.byCam),
      by_zone: obj(this.byZone),
      timeline: [...this.timeline.entries()]
        .sort(([x], [y]) => x - y)
        .map(([t0, x]) => ({ timestamp: new Date(t0).toISOString().replace('.000Z', 'Z'), count: x.n, avg_confidence: avg(x) })),
    };
  }
}

/** Totals, rates, per camera, per zone and timeline over [start, end]. */
export function computeStats(db: Db, f: StatsFilter, interval: Interval, now = Date.now()): Stats {
  const { parts: dimSql, params: dimParams } = dimensionFilter(f);
  const dims = dimSql.length ? ' AND ' + dimSql.join(' AND ') : '';
  const stats = new StatsBuilder(f, interval);

  const rollupStmt = db
    .prepare(`SELECT bucket, camera_id, zone_id, n, n_conf, sum_conf, min_conf, max_conf FROM stats_rollup WHERE level = ? AND bucket >= ? AND bucket <= ?${dims}`)
    .raw();
  const rawStmt = db.prepare(`SELECT ts, camera_id, zone_id, confidence FROM events WHERE ts >= ? AND ts <= ?${dims}`).raw();
  for (const s of stats.counts) {
    if (s.kind === 'raw') {
      for (const [ts, cam, zone, conf] of rawStmt.iterate(s.from, s.to, ...dimParams) as Iterable<[number, string | null, string | null, number | null]>) {
        stats.addEvent(ts, cam, zone, conf);
      }
    } else {
      for (const [bucket, cam, zone, n, nConf, sum, mn, mx] of rollupStmt.iterate(s.level, s.first, s.last, ...dimParams) as Iterable<
        [number, string, string, number, number, number, number | null, number | null]
      >) {
        stats.addRollup(s.level, bucket, cam, zone, n, nConf, sum, mn, mx);
      }
    }
  }

  // Distinct plates: merge the day and hour sketches; plates of partial hours go in directly.
  const sketchStmt = db.prepare(`SELECT regs FROM plates_hll WHERE level = ? AND bucket >= ? AND bucket <= ?${dims}`).pluck();
  const plateStmt = db.prepare(`SELECT plate_text FROM events WHERE ts >= ? AND ts <= ?${dims}`).pluck();
  if (stats.total > 0) {
    for (const s of stats.sketches) {
      if (s.kind === 'raw') {
        for (const p of plateStmt.iterate(s.from, s.to, ...dimParams) as Iterable<string>) stats.addPlate(p);
      } else {
        for (const r of sketchStmt.iterate(s.level, s.first, s.last, ...dimParams) as Iterable<Buffer>) {
          stats.addSketch(new Uint8Array(r.buffer, r.byteOffset, r.byteLength));
        }
      }
    }
  }

  const first = f.start === undefined ? (db.prepare(`SELECT MIN(ts) FROM events WHERE 1 = 1${dims}`).pluck().get(...dimParams) as number | null) : null;
  return stats.result(first, now);
}

/** The pieces of the range of a count by camera, zone and time (`countEvents`). */
export function countPlan(f: StatsFilter): Segment[] {
  return planRange(f.start ?? NEG, f.end ?? POS, 2);
}

/**
 * The number of events matching camera, zone and time bounds, from the rollups: whole days, then
 * hours, then minutes, and the events themselves only in the partial minutes at either end. Exact
 * (the rollups commit with their events, and events are never deleted or moved), and its cost
 * grows with the number of days, not of events: a `COUNT(*)` over 10 million events walks
 * millions of index entries for every page of `GET /events`.
 */
export function countEvents(prepare: (sql: string) => Statement, f: StatsFilter): number {
  const { parts, params } = dimensionFilter(f);
  const dims = parts.length ? ' AND ' + parts.join(' AND ') : '';
  let n = 0;
  for (const s of countPlan(f)) {
    n +=
      s.kind === 'raw'
        ? (prepare(`SELECT COUNT(*) FROM events WHERE ts >= ? AND ts <= ?${dims}`).pluck().get(s.from, s.to, ...params) as number)
        : (prepare(`SELECT COALESCE(SUM(n), 0) FROM stats_rollup WHERE level = ? AND bucket >= ? AND bucket <= ?${dims}`).pluck().get(s.level, s.first, s.last, ...params) as number);
  }
  return n;
}

/** Events per minute and mean processing time over the last `minutes` whole minutes of event time. */
export function recentRate(db: Db, minutes: number, now = Date.now()): { perMinute: number; avgProcessingMs: number | null } {
  const [after, upTo] = recentBuckets(minutes, now);
  const r = db
    .prepare('SELECT SUM(n) AS n, SUM(n_proc) AS np, SUM(sum_proc) AS sp FROM stats_rollup WHERE level = 0 AND bucket > ? AND bucket <= ?')
    .get(after, upTo) as { n: number | null; np: number | null; sp: number | null };
  return recentRateOf(minutes, r.n, r.np, r.sp);
}

/** The minute buckets of `recentRate`: those after the first and up to the second. */
export function recentBuckets(minutes: number, now: number): [number, number] {
  return [Math.floor(now / MINUTE) - minutes, Math.floor(now / MINUTE)];
}

/** `recentRate`'s answer from the sums of the minute rollups (null: no rollup row). */
export function recentRateOf(minutes: number, n: number | null, nProc: number | null, sumProc: number | null): { perMinute: number; avgProcessingMs: number | null } {
  return { perMinute: round((n ?? 0) / minutes, 3), avgProcessingMs: nProc ? round((sumProc ?? 0) / nProc, 1) : null };
}
