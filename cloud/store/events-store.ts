/**
 * Events: durable storage, search and statistics.
 *
 * Writes go through a group-commit queue: every ingest waits for the transaction that holds
 * its row to commit (synchronous=FULL), and all ingests that arrive within one turn of the
 * event loop share that commit. The same transaction maintains the per-minute rollup and the
 * hourly distinct-plate sketches, so `stats` reads rollups instead of scanning events.
 */
import type { Db } from '../db/open.js';
import { addToSketch, estimate, mergeSketch, newSketch } from './hll.js';

export interface EventRow {
  event_id: string;
  ts: number;
  camera_id: string | null;
  zone_id: string | null;
  plate_text: string;
  confidence: number | null;
  processing_ms: number | null;
  body: string;
  frame_path: string | null;
  crop_path: string | null;
  created_at: number;
}

export interface StoredEvent extends EventRow {
  seq: number;
}

export interface EventFilter {
  camera_id?: string;
  zone_id?: string;
  plate_text?: string;
  start?: number;
  end?: number;
  min_confidence?: number;
}

export type SortField = 'timestamp' | 'confidence' | 'plate_text';

const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const WEEK = 7 * DAY;
/** 1970-01-01 was a Thursday: weeks start on Monday, 3 days earlier. */
const WEEK_OFFSET = 3 * DAY;

export type Interval = 'minute' | 'hour' | 'day' | 'week';

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

interface Pending {
  row: EventRow;
  resolve: (r: 'inserted' | 'duplicate') => void;
  reject: (e: unknown) => void;
}

interface Agg {
  n: number;
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

export interface Stats {
  total_events: number;
  avg_confidence: number | null;
  min_confidence: number | null;
  max_confidence: number | null;
  unique_plates: number;
  event_rate: { per_second: number; per_minute: number; per_hour: number };
  by_camera: Record<string, { count: number; avg_confidence: number | null }>;
  by_zone: Record<string, { count: number; avg_confidence: number | null }>;
  timeline: Array<{ timestamp: string; count: number; avg_confidence: number | null }>;
}

export class EventsStore {
  private queue: Pending[] = [];
  private scheduled = false;
  private readonly db: Db;
  private readonly stmts;

  constructor(db: Db) {
    this.db = db;
    this.stmts = {
      insert: db.prepare(
        `INSERT OR IGNORE INTO events (event_id, ts, camera_id, zone_id, plate_text, confidence, processing_ms, body, frame_path, crop_path, created_at)
         VALUES (@event_id, @ts, @camera_id, @zone_id, @plate_text, @confidence, @processing_ms, @body, @frame_path, @crop_path, @created_at)`,
      ),
      fts: db.prepare('INSERT INTO events_plate_fts (rowid, plate_text) VALUES (?, ?)'),
      rollup: db.prepare(
        `INSERT INTO stats_minute (minute, camera_id, zone_id, n, n_conf, sum_conf, min_conf, max_conf)
         VALUES (?, ?, ?, 1, ?, ?, ?, ?)
         ON CONFLICT (minute, camera_id, zone_id) DO UPDATE SET
           n = n + 1, n_conf = n_conf + excluded.n_conf, sum_conf = sum_conf + excluded.sum_conf,
           min_conf = CASE WHEN excluded.min_conf IS NULL THEN min_conf WHEN min_conf IS NULL OR excluded.min_conf < min_conf THEN excluded.min_conf ELSE min_conf END,
           max_conf = CASE WHEN excluded.max_conf IS NULL THEN max_conf WHEN max_conf IS NULL OR excluded.max_conf > max_conf THEN excluded.max_conf ELSE max_conf END`,
      ),
      sketchGet: db.prepare('SELECT regs FROM plates_hll WHERE hour = ? AND camera_id = ? AND zone_id = ?').pluck(),
      sketchPut: db.prepare('INSERT OR REPLACE INTO plates_hll (hour, camera_id, zone_id, regs) VALUES (?, ?, ?, ?)'),
      get: db.prepare('SELECT * FROM events WHERE event_id = ?'),
      exists: db.prepare('SELECT 1 FROM events WHERE event_id = ?').pluck(),
      count: db.prepare('SELECT COUNT(*) FROM events').pluck(),
    };
  }

  /** Queues a row for the next group commit; resolves once it is durable (or a duplicate). */
  insert(row: EventRow): Promise<'inserted' | 'duplicate'> {
    return new Promise((resolve, reject) => {
      this.queue.push({ row, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;
    const results: Array<'inserted' | 'duplicate'> = [];
    try {
      this.db.transaction(() => {
        const sketches = new Map<string, { hour: number; cam: string; zone: string; regs: Uint8Array; dirty: boolean }>();
        for (const p of batch) {
          const r = p.row;
          const info = this.stmts.insert.run(r);
          if (info.changes === 0) {
            results.push('duplicate');
            continue;
          }
          results.push('inserted');
          this.stmts.fts.run(info.lastInsertRowid, r.plate_text);
          const cam = r.camera_id ?? '';
          const zone = r.zone_id ?? '';
          const c = r.confidence;
          this.stmts.rollup.run(Math.floor(r.ts / MINUTE), cam, zone, c === null ? 0 : 1, c ?? 0, c, c);
          const hour = Math.floor(r.ts / HOUR);
          const key = `${hour}\u0000${cam}\u0000${zone}`;
          let s = sketches.get(key);
          if (!s) {
            const stored = this.stmts.sketchGet.get(hour, cam, zone) as Buffer | undefined;
            s = { hour, cam, zone, regs: stored ? new Uint8Array(stored) : newSketch(), dirty: false };
            sketches.set(key, s);
          }
          if (addToSketch(s.regs, r.plate_text)) s.dirty = true;
        }
        for (const s of sketches.values()) {
          if (s.dirty) this.stmts.sketchPut.run(s.hour, s.cam, s.zone, Buffer.from(s.regs));
        }
      })();
    } catch (e) {
      for (const p of batch) p.reject(e);
      return;
    }
    batch.forEach((p, i) => p.resolve(results[i]!));
  }

  get(eventId: string): StoredEvent | undefined {
    return this.stmts.get.get(eventId) as StoredEvent | undefined;
  }

  exists(eventId: string): boolean {
    return this.stmts.exists.get(eventId) !== undefined;
  }

  countAll(): number {
    return this.stmts.count.get() as number;
  }

  private where(f: EventFilter): { sql: string; params: unknown[] } {
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
    if (f.start !== undefined) {
      parts.push('ts >= ?');
      params.push(f.start);
    }
    if (f.end !== undefined) {
      parts.push('ts <= ?');
      params.push(f.end);
    }
    if (f.min_confidence !== undefined) {
      parts.push('confidence >= ?');
      params.push(f.min_confidence);
    }
    if (f.plate_text !== undefined && f.plate_text !== '') {
      const q = f.plate_text;
      if ([...q].length >= 3) {
        // Trigram index; the phrase is quoted so user text is never FTS syntax.
        parts.push('seq IN (SELECT rowid FROM events_plate_fts WHERE events_plate_fts MATCH ?)');
        params.push(`"${q.replace(/"/g, '""')}"`);
      } else {
        parts.push("plate_text LIKE ? ESCAPE '\\'");
        params.push(`%${q.replace(/[\\%_]/g, (m) => '\\' + m)}%`);
      }
    }
    return { sql: parts.length ? `WHERE ${parts.join(' AND ')}` : '', params };
  }

  list(f: EventFilter, sort: SortField, order: 'asc' | 'desc', skip: number, limit: number): { items: StoredEvent[]; total: number } {
    const { sql, params } = this.where(f);
    const dir = order === 'asc' ? 'ASC' : 'DESC';
    const col = sort === 'confidence' ? 'confidence' : sort === 'plate_text' ? 'plate_text' : 'ts';
    const items = this.db
      .prepare(`SELECT * FROM events ${sql} ORDER BY ${col} ${dir}, seq ${dir} LIMIT ? OFFSET ?`)
      .all(...params, limit, skip) as StoredEvent[];
    const total = this.db.prepare(`SELECT COUNT(*) FROM events ${sql}`).pluck().get(...params) as number;
    return { items, total };
  }

  /**
   * Statistics over [start, end]. Whole minutes come from the rollup; the partial minutes at
   * either edge come from the events themselves, so results are exact for any bounds.
   * unique_plates is a HyperLogLog estimate (see hll.ts).
   */
  stats(f: Omit<EventFilter, 'plate_text' | 'min_confidence'>, interval: Interval, now = Date.now()): Stats {
    const start = f.start;
    const end = f.end;
    const firstMin = start === undefined ? Number.MIN_SAFE_INTEGER : Math.ceil(start / MINUTE);
    const lastMin = end === undefined ? Number.MAX_SAFE_INTEGER : Math.floor((end + 1) / MINUTE) - 1;

    const dimSql: string[] = [];
    const dimParams: unknown[] = [];
    if (f.camera_id !== undefined) {
      dimSql.push('camera_id = ?');
      dimParams.push(f.camera_id);
    }
    if (f.zone_id !== undefined) {
      dimSql.push('zone_id = ?');
      dimParams.push(f.zone_id);
    }
    const dims = dimSql.length ? ' AND ' + dimSql.join(' AND ') : '';

    const total = emptyAgg();
    const byCam = new Map<string, Agg>();
    const byZone = new Map<string, Agg>();
    const timeline = new Map<number, Agg>();
    const at = <K>(m: Map<K, Agg>, k: K) => {
      let a = m.get(k);
      if (!a) m.set(k, (a = emptyAgg()));
      return a;
    };

    let firstTs: number | null = null;
    let lastTs: number | null = null;
    if (firstMin <= lastMin) {
      const rows = this.db
        .prepare(
          `SELECT minute, camera_id, zone_id, n, n_conf, sum_conf, min_conf, max_conf FROM stats_minute
           WHERE minute >= ? AND minute <= ?${dims}`,
        )
        .raw()
        .all(firstMin, lastMin, ...dimParams) as Array<[number, string, string, number, number, number, number | null, number | null]>;
      for (const [minute, cam, zone, n, nConf, sumConf, mn, mx] of rows) {
        addAgg(total, n, nConf, sumConf, mn, mx);
        if (cam !== '') addAgg(at(byCam, cam), n, nConf, sumConf, mn, mx);
        if (zone !== '') addAgg(at(byZone, zone), n, nConf, sumConf, mn, mx);
        addAgg(at(timeline, bucketStart(minute * MINUTE, interval)), n, nConf, sumConf, mn, mx);
        const t0 = minute * MINUTE;
        if (firstTs === null || t0 < firstTs) firstTs = t0;
        if (lastTs === null || t0 > lastTs) lastTs = t0;
      }
    }

    // Partial minutes at the edges, straight from the events.
    const edges: Array<[number, number]> = [];
    if (start !== undefined) edges.push([start, Math.min(firstMin * MINUTE - 1, end ?? Number.MAX_SAFE_INTEGER)]);
    if (end !== undefined && lastMin >= firstMin) edges.push([(lastMin + 1) * MINUTE, end]);
    if (start !== undefined && end !== undefined && firstMin > lastMin) edges.splice(0, edges.length, [start, end]);
    const edgeStmt = this.db.prepare(`SELECT ts, camera_id, zone_id, confidence FROM events WHERE ts >= ? AND ts <= ?${dims}`).raw();
    for (const [a, b] of edges) {
      if (a > b) continue;
      for (const [ts, cam, zone, conf] of edgeStmt.all(a, b, ...dimParams) as Array<[number, string | null, string | null, number | null]>) {
        const has = conf === null ? 0 : 1;
        addAgg(total, 1, has, conf ?? 0, conf, conf);
        if (cam) addAgg(at(byCam, cam), 1, has, conf ?? 0, conf, conf);
        if (zone) addAgg(at(byZone, zone), 1, has, conf ?? 0, conf, conf);
        addAgg(at(timeline, bucketStart(ts, interval)), 1, has, conf ?? 0, conf, conf);
        if (firstTs === null || ts < firstTs) firstTs = ts;
        if (lastTs === null || ts > lastTs) lastTs = ts;
      }
    }

    // Distinct plates: merge the hourly sketches of whole hours, add the edge hours' plates.
    const firstHour = start === undefined ? Number.MIN_SAFE_INTEGER : Math.ceil(start / HOUR);
    const lastHour = end === undefined ? Number.MAX_SAFE_INTEGER : Math.floor((end + 1) / HOUR) - 1;
    const sketch = newSketch();
    if (firstHour <= lastHour) {
      const regs = this.db
        .prepare(`SELECT regs FROM plates_hll WHERE hour >= ? AND hour <= ?${dims}`)
        .pluck()
        .all(firstHour, lastHour, ...dimParams) as Buffer[];
      for (const r of regs) mergeSketch(sketch, new Uint8Array(r.buffer, r.byteOffset, r.byteLength));
    }
    const hourEdges: Array<[number, number]> = [];
    if (firstHour > lastHour) {
      if (start !== undefined || end !== undefined) hourEdges.push([start ?? Number.MIN_SAFE_INTEGER, end ?? Number.MAX_SAFE_INTEGER]);
    } else {
      if (start !== undefined) hourEdges.push([start, firstHour * HOUR - 1]);
      if (end !== undefined) hourEdges.push([(lastHour + 1) * HOUR, end]);
    }
    const plateStmt = this.db.prepare(`SELECT plate_text FROM events WHERE ts >= ? AND ts <= ?${dims}`).pluck();
    for (const [a, b] of hourEdges) {
      if (a > b) continue;
      for (const p of plateStmt.iterate(a, b, ...dimParams) as Iterable<string>) addToSketch(sketch, p);
    }

    const windowStart = start ?? firstTs ?? now;
    const windowEnd = end ?? Math.max(now, lastTs ?? now);
    const seconds = Math.max(1, (windowEnd - windowStart) / 1000);
    const perSecond = total.n / seconds;
    const avg = (a: Agg) => (a.nConf ? round(a.sumConf / a.nConf) : null);
    const obj = (m: Map<string, Agg>) =>
      Object.fromEntries([...m.entries()].sort(([x], [y]) => x.localeCompare(y)).map(([k, a]) => [k, { count: a.n, avg_confidence: avg(a) }]));
    return {
      total_events: total.n,
      avg_confidence: avg(total),
      min_confidence: total.min,
      max_confidence: total.max,
      unique_plates: total.n === 0 ? 0 : Math.min(total.n, estimate(sketch)),
      event_rate: { per_second: round(perSecond, 6), per_minute: round(perSecond * 60, 4), per_hour: round(perSecond * 3600, 2) },
      by_camera: obj(byCam),
      by_zone: obj(byZone),
      timeline: [...timeline.entries()]
        .sort(([a], [b]) => a - b)
        .map(([t, a]) => ({ timestamp: new Date(t).toISOString().replace('.000Z', 'Z'), count: a.n, avg_confidence: avg(a) })),
    };
  }

  /** Events per minute and mean processing time over the last `minutes` minutes. */
  recentRate(minutes: number, now = Date.now()): { perMinute: number; avgProcessingMs: number | null } {
    const since = now - minutes * MINUTE;
    const r = this.db
      .prepare('SELECT COUNT(*) AS n, AVG(processing_ms) AS p FROM events WHERE created_at >= ?')
      .get(since) as { n: number; p: number | null };
    return { perMinute: round(r.n / minutes, 3), avgProcessingMs: r.p === null ? null : round(r.p, 1) };
  }

  /**
   * One page of a long read (CSV export) by keyset: rows strictly after `after` in the
   * (sort key, seq) order. Each call is a short query, so a slow reader never holds the
   * connection or a snapshot, and memory stays one page whatever the result size.
   */
  pageAfter(f: EventFilter, sort: SortField, order: 'asc' | 'desc', after: ExportCursor | null, limit: number): { items: StoredEvent[]; next: ExportCursor | null } {
    const { sql, params } = this.where(f);
    // NULL confidence sorts lowest, as in list(); coalesce keeps row-value comparison total.
    const key = sort === 'confidence' ? 'coalesce(confidence, -1.0)' : sort === 'plate_text' ? 'plate_text' : 'ts';
    const dir = order === 'asc' ? 'ASC' : 'DESC';
    const cmp = order === 'asc' ? '>' : '<';
    const parts = sql ? [sql] : [];
    const args = [...params];
    if (after) {
      parts.push(`${sql ? 'AND' : 'WHERE'} (${key}, seq) ${cmp} (?, ?)`);
      args.push(after.key, after.seq);
    }
    const items = this.db
      .prepare(`SELECT * FROM events ${parts.join(' ')} ORDER BY ${key} ${dir}, seq ${dir} LIMIT ?`)
      .all(...args, limit) as StoredEvent[];
    const last = items[items.length - 1];
    const next = items.length < limit || !last ? null : { key: sort === 'confidence' ? (last.confidence ?? -1) : sort === 'plate_text' ? last.plate_text : last.ts, seq: last.seq };
    return { items, next };
  }

  /**
   * Replaces an event's plate text (an operator's correction). The event keeps its original
   * read: `body.correction` holds the first plate text and every change (who, when, from,
   * to, why). The text search index follows; counts and rollups do not change.
   */
  correctPlate(eventId: string, plateText: string, by: string, reason: string | null, now = Date.now()): StoredEvent | undefined {
    return this.db.transaction(() => {
      const row = this.stmts.get.get(eventId) as StoredEvent | undefined;
      if (!row) return undefined;
      const body = JSON.parse(row.body) as Record<string, unknown> & { correction?: PlateCorrection };
      const prev = body.correction;
      const correction: PlateCorrection = {
        original_plate_text: prev?.original_plate_text ?? row.plate_text,
        corrected_by: by,
        corrected_at: new Date(now).toISOString(),
        history: [...(prev?.history ?? []), { from: row.plate_text, to: plateText, by, at: new Date(now).toISOString(), reason }],
      };
      body.correction = correction;
      const text = JSON.stringify(body);
      this.db.prepare('UPDATE events SET plate_text = ?, body = ? WHERE seq = ?').run(plateText, text, row.seq);
      this.db.prepare("INSERT INTO events_plate_fts (events_plate_fts, rowid, plate_text) VALUES ('delete', ?, ?)").run(row.seq, row.plate_text);
      this.stmts.fts.run(row.seq, plateText);
      return { ...row, plate_text: plateText, body: text };
    })();
  }
}

export interface ExportCursor {
  key: number | string;
  seq: number;
}

/** The audit trail of an event's plate text, kept in the event's body. */
export interface PlateCorrection {
  original_plate_text: string;
  corrected_by: string;
  corrected_at: string;
  history: Array<{ from: string; to: string; by: string; at: string; reason: string | null }>;
}
