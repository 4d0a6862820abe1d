/**
 * Events: durable storage, search and statistics.
 *
 * Writes go through a group-commit queue: every ingest waits for the transaction that holds
 * its row to commit (synchronous=FULL), and all ingests that arrive within one turn of the
 * event loop share that commit. The same transaction maintains the rollups and plate
 * sketches of event-stats.ts, so `stats` never scans the events table.
 */
import type { Db } from '../db/open.js';
import { RollupWriter, computeStats, type Interval, type Stats } from './event-stats.js';

export { bucketStart, type Interval, type Stats } from './event-stats.js';

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
const round = (v: number, d = 4) => Math.round(v * 10 ** d) / 10 ** d;

interface Pending {
  row: EventRow;
  resolve: (r: 'inserted' | 'duplicate') => void;
  reject: (e: unknown) => void;
}

export class EventsStore {
  private queue: Pending[] = [];
  private scheduled = false;
  private readonly db: Db;
  private readonly rollups: RollupWriter;
  private readonly stmts;

  constructor(db: Db) {
    this.db = db;
    this.rollups = new RollupWriter(db);
    this.stmts = {
      insert: db.prepare(
        `INSERT OR IGNORE INTO events (event_id, ts, camera_id, zone_id, plate_text, confidence, processing_ms, body, frame_path, crop_path, created_at)
         VALUES (@event_id, @ts, @camera_id, @zone_id, @plate_text, @confidence, @processing_ms, @body, @frame_path, @crop_path, @created_at)`,
      ),
      fts: db.prepare('INSERT INTO events_plate_fts (rowid, plate_text) VALUES (?, ?)'),
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
        const inserted: EventRow[] = [];
        for (const p of batch) {
          const r = p.row;
          const info = this.stmts.insert.run(r);
          if (info.changes === 0) {
            results.push('duplicate');
            continue;
          }
          results.push('inserted');
          this.stmts.fts.run(info.lastInsertRowid, r.plate_text);
          inserted.push(r);
        }
        this.rollups.apply(inserted);
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

  /** Statistics over [start, end] from the rollups (see event-stats.ts). */
  stats(f: Omit<EventFilter, 'plate_text' | 'min_confidence'>, interval: Interval, now = Date.now()): Stats {
    return computeStats(this.db, f, interval, now);
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
