/**
 * Events: durable storage, search and statistics.
 *
 * Writes go to the writer thread (event-writer.ts), which group-commits them with
 * synchronous=FULL: every ingest waits for the transaction that holds its row, and the
 * same transaction maintains the rollups and plate sketches of event-stats.ts, so
 * `stats` never scans the events table. Reads run here, on the service's connection.
 */
import { StatementCache } from '../db/statements.js';
import { clampDepth } from '../../shared/schemas/json-bounds.js';
import type { Db } from '../db/open.js';
import type Database from 'better-sqlite3';
type Statement = Database.Statement<unknown[]>;
import { computeStats, countEvents, dimensionFilter, recentRate, type Interval, type Stats } from './event-stats.js';
import { EventWriter } from './event-writer.js';
import { silentLogger, type Logger } from '../../shared/log.js';
import { plateContains, plateRecorder } from './plate-dictionary.js';
import type { DecisionAction } from '../../shared/schemas/lists.js';

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
  /** The edge's decision (`body.decision.action`), a column for the action filter; null/absent = none. */
  decision_action?: DecisionAction | null;
  /** 1 when the decision alerted (a watch list matched, or action `alert`), 0 when not; null/absent = no decision. */
  decision_alert?: 0 | 1 | null;
}

/** The decision columns of an event row, from its (validated) decision. */
export function decisionColumns(d: { action: DecisionAction; alert?: boolean } | null | undefined): Pick<EventRow, 'decision_action' | 'decision_alert'> {
  if (!d) return { decision_action: null, decision_alert: null };
  return { decision_action: d.action, decision_alert: d.alert || d.action === 'alert' ? 1 : 0 };
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
  /** Events whose decision took this action (events without a decision match none). */
  action?: DecisionAction;
  /** true: events whose decision alerted; false: every other event. */
  alert?: boolean;
}

/** The filters the stats rollups are keyed by (event-stats.ts). */
const ROLLUP_FILTERS = new Set(['camera_id', 'zone_id', 'start', 'end']);

export type SortField = 'timestamp' | 'confidence' | 'plate_text';

export class SqliteEventsStore {
  private readonly db: Db;
  private readonly writer: EventWriter;
  private readonly stmts;
  private readonly recordPlate: (plateText: string) => void;

  constructor(db: Db, dbFile: string = db.name, logger: Logger = silentLogger) {
    this.db = db;
    this.statements = new StatementCache(db);
    this.recordPlate = plateRecorder(db);
    this.stmts = {
      get: db.prepare('SELECT * FROM events WHERE event_id = ?'),
      exists: db.prepare('SELECT 1 FROM events WHERE event_id = ?').pluck(),
      images: db.prepare('SELECT frame_path, crop_path FROM events WHERE event_id = ?'),
      count: db.prepare('SELECT COUNT(*) FROM events').pluck(),
    };
    this.writer = new EventWriter(dbFile, (id) => this.get(id), logger);
  }

  /**
   * Resolves once the row is durable, or says it was already there; rejects with 503
   * SERVICE_UNAVAILABLE when the writer thread died before committing it (event-writer.ts).
   */
  insert(row: EventRow): Promise<'inserted' | 'duplicate'> {
    return this.writer.insert(row);
  }

  /** Commits what is queued and stops the writer thread. */
  close(): Promise<void> {
    return this.writer.close();
  }

  get(eventId: string): StoredEvent | undefined {
    return this.stmts.get.get(eventId) as StoredEvent | undefined;
  }

  /** Whether the stored event `eventId` points at the image `rel` (the startup image sweep). */
  ownsImage(eventId: string, rel: string): boolean {
    const row = this.stmts.images.get(eventId) as { frame_path: string | null; crop_path: string | null } | undefined;
    return row !== undefined && (row.frame_path === rel || row.crop_path === rel);
  }

  exists(eventId: string): boolean {
    return this.stmts.exists.get(eventId) !== undefined;
  }

  countAll(): number {
    return this.stmts.count.get() as number;
  }

  private where(f: EventFilter): { sql: string; params: unknown[] } {
    const { parts, params } = dimensionFilter(f);
    if (f.start !== undefined) {
      parts.push('ts >= ?');
      params.push(f.start);
    }
    if (f.end !== undefined) {
      parts.push('ts <= ?');
      params.push(f.end);
    }
    if (f.min_confidence !== undefined) {
      // With a camera or zone, their covering index answers; '+' keeps the planner from
      // preferring the confidence index and visiting a table row per candidate.
      parts.push(f.camera_id !== undefined || f.zone_id !== undefined ? '+confidence >= ?' : 'confidence >= ?');
      params.push(f.min_confidence);
    }
    if (f.action !== undefined) {
      parts.push('decision_action = ?');
      params.push(f.action);
    }
    // A literal 1: the partial index events_alert_ts serves only a query that names it.
    if (f.alert !== undefined) parts.push(f.alert ? 'decision_alert = 1' : 'decision_alert IS NOT 1');
    if (f.plate_text !== undefined && f.plate_text !== '') {
      const m = plateContains(f.plate_text);
      parts.push(m.sql);
      params.push(m.param);
    }
    return { sql: parts.length ? `WHERE ${parts.join(' AND ')}` : '', params };
  }

  list(f: EventFilter, sort: SortField, order: 'asc' | 'desc', skip: number, limit: number): { items: StoredEvent[]; total: number } {
    const { sql, params } = this.where(f);
    const dir = order === 'asc' ? 'ASC' : 'DESC';
    const col = sort === 'confidence' ? 'confidence' : sort === 'plate_text' ? 'plate_text' : 'ts';
    const items = this
      .prepared(`SELECT * FROM events ${sql} ORDER BY ${col} ${dir}, seq ${dir} LIMIT ? OFFSET ?`)
      .all(...params, limit, skip) as StoredEvent[];
    const total = countableByRollups(f)
      ? countEvents((q) => this.prepared(q), f)
      : (this.prepared(`SELECT COUNT(*) FROM events ${sql}`).pluck().get(...params) as number);
    return { items, total };
  }

  /** Statistics over [start, end] from the rollups (see event-stats.ts). */
  stats(f: Omit<EventFilter, 'plate_text' | 'min_confidence'>, interval: Interval, now = Date.now()): Stats {
    return computeStats(this.db, f, interval, now);
  }

  /** Events per minute and mean processing time over the last `minutes` minutes (rollups). */
  recentRate(minutes: number, now = Date.now()): { perMinute: number; avgProcessingMs: number | null } {
    return recentRate(this.db, minutes, now);
  }


  /**
   * One page of a long read (CSV export) by keyset: rows strictly after `after` in the
   * (sort key, seq) order. Each call is a short query, so a slow reader never holds the
   * connection or a snapshot, and memory stays one page whatever the result size.
   */
  /** Compiled statements (the filters make a few dozen shapes; an export reads hundreds of pages). */
  private readonly statements: StatementCache;
  private prepared(sql: string): Statement {
    return this.statements.get(sql);
  }

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
    const items = this
      .prepared(`SELECT * FROM events ${parts.join(' ')} ORDER BY ${key} ${dir}, seq ${dir} LIMIT ?`)
      .all(...args, limit) as StoredEvent[];
    return { items, next: nextCursor(items, sort, limit) };
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
      const text = correctedBody(row, plateText, by, reason, now);
      this.db.prepare('UPDATE events SET plate_text = ?, body = ? WHERE seq = ?').run(plateText, text, row.seq);
      this.recordPlate(plateText);
      return { ...row, plate_text: plateText, body: text };
      // IMMEDIATE: a read-then-write transaction must hold the write lock from BEGIN, or a
      // commit of the writer thread in between fails it with SQLITE_BUSY (docs/cloud-durability.md).
    }).immediate();
  }
}

/** Whether `list`'s total can be counted from the rollups: filters on camera, zone and time alone. */
export function countableByRollups(f: EventFilter): boolean {
  return Object.entries(f).every(([k, v]) => v === undefined || (k === 'plate_text' && v === '') || ROLLUP_FILTERS.has(k));
}

/** The cursor after a page of `pageAfter` (null when it was the last), in the order of `sort`. */
export function nextCursor(items: readonly StoredEvent[], sort: SortField, limit: number): ExportCursor | null {
  const last = items[items.length - 1];
  return items.length < limit || !last ? null : { key: sort === 'confidence' ? (last.confidence ?? -1) : sort === 'plate_text' ? last.plate_text : last.ts, seq: last.seq };
}

/**
 * The body of `row` once its plate text is corrected to `plateText`: `body.correction` keeps the
 * first read and appends this change (who, when, from, to, why) to its history.
 */
export function correctedBody(row: Pick<EventRow, 'body' | 'plate_text'>, plateText: string, by: string, reason: string | null, now: number): string {
  const body = JSON.parse(row.body) as Record<string, unknown> & { correction?: PlateCorrection };
  const prev = body.correction;
  const correction: PlateCorrection = {
    original_plate_text: prev?.original_plate_text ?? row.plate_text,
    corrected_by: by,
    corrected_at: new Date(now).toISOString(),
    history: [...(prev?.history ?? []), { from: row.plate_text, to: plateText, by, at: new Date(now).toISOString(), reason }],
  };
  body.correction = correction;
  // A body stored before depth bounds existed is kept clamped: stringify would overflow on it.
  return JSON.stringify(clampDepth(body));
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
