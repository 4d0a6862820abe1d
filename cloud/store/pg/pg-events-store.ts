/**
 * Events on PostgreSQL: durable storage, search and statistics, with the answers of the SQLite
 * store (cloud/store/events-store.ts) for every call, proven against it by
 * test/cloud/store/events-contract.test.ts.
 *
 * Inserts are group-committed (pg-event-writer.ts) in transactions that also keep the rollups,
 * sketches and plates dictionary (pg-event-insert.ts), after the monthly partitions they need
 * exist (pg-partition-cache.ts). Reads are single statements on the pool: searches and exports
 * as SQLite's, totals and statistics from the rollups (pg-event-stats.ts). An event is found by
 * id through `event_ids`, which gives its ts and so the one partition to read.
 *
 * The pool is the caller's (shared by the stores of one backend); `close` settles the inserts
 * queued here and leaves the pool open. The schema must be migrated first (cloud/db/pg/migrations.ts).
 */
import type pg from 'pg';
import { silentLogger, type Logger } from '../../../shared/log.js';
import { inTransaction } from '../../db/pg/transaction.js';
import type { EventsStore } from '../contracts.js';
import type { Interval, Stats } from '../event-stats.js';
import { correctedBody, countableByRollups, nextCursor, type EventFilter, type EventRow, type ExportCursor, type SortField, type StoredEvent } from '../events-store.js';
import { filterSql, keysetColumn, listOrder, whereSql } from './pg-event-sql.js';
import { pgCountEvents, pgRecentRate, pgStats } from './pg-event-stats.js';
import { PgEventWriter, type GroupCommitOptions } from './pg-event-writer.js';
import { PartitionCache, type PartitionWindow } from './pg-partition-cache.js';
import { Params, query } from './sql.js';

type Row = StoredEvent & pg.QueryResultRow;

export interface PgEventsStoreOptions extends GroupCommitOptions {
  /** Which months get their own partition as events arrive (pg-partition-cache.ts). */
  partitions?: PartitionWindow;
}

/** The row of event `$1`, in the one partition its ts names. */
const BY_ID = 'FROM events WHERE event_id = $1 AND ts = (SELECT ts FROM event_ids WHERE event_id = $1)';

export class PgEventsStore implements EventsStore {
  private readonly writer: PgEventWriter;

  constructor(
    private readonly pool: pg.Pool,
    logger: Logger = silentLogger,
    opts: PgEventsStoreOptions = {},
  ) {
    const log = logger.child({ component: 'pg-events' });
    const partitions = new PartitionCache(pool, log, opts.partitions);
    this.writer = new PgEventWriter(pool, partitions, (ids) => this.getMany(ids), log, opts);
  }

  /**
   * Resolves once the row is committed durably, or says its event_id was already stored; rejects
   * with 503 SERVICE_UNAVAILABLE when the database cannot take it now (pg-event-writer.ts).
   */
  insert(row: EventRow): Promise<'inserted' | 'duplicate'> {
    return this.writer.insert(row);
  }

  /** Settles every queued insert; the pool stays open (it is the caller's). */
  close(): Promise<void> {
    return this.writer.close();
  }

  async get(eventId: string): Promise<StoredEvent | undefined> {
    return (await query<Row>(this.pool, `SELECT * ${BY_ID}`, [eventId]))[0];
  }

  private async getMany(eventIds: string[]): Promise<Map<string, StoredEvent>> {
    const rows = await query<Row>(
      this.pool,
      'SELECT e.* FROM event_ids i JOIN events e ON e.event_id = i.event_id AND e.ts = i.ts WHERE i.event_id = ANY($1::text[])',
      [eventIds],
    );
    return new Map(rows.map((r) => [r.event_id, r]));
  }

  async exists(eventId: string): Promise<boolean> {
    return (await query(this.pool, `SELECT 1 ${BY_ID}`, [eventId])).length > 0;
  }

  /** Whether the stored event `eventId` points at the image `rel` (the image sweep). */
  async ownsImage(eventId: string, rel: string): Promise<boolean> {
    const [row] = await query<{ frame_path: string | null; crop_path: string | null }>(this.pool, `SELECT frame_path, crop_path ${BY_ID}`, [eventId]);
    return row !== undefined && (row.frame_path === rel || row.crop_path === rel);
  }

  /** From the day rollups, which commit with their events: COUNT(*) reads every row of every partition. */
  countAll(): Promise<number> {
    return pgCountEvents(this.pool, {});
  }

  async list(f: EventFilter, sort: SortField, order: 'asc' | 'desc', skip: number, limit: number): Promise<{ items: StoredEvent[]; total: number }> {
    const p = new Params();
    const where = whereSql(filterSql(f, p));
    const filterValues = [...p.values];
    const page = query<Row>(this.pool, `SELECT * FROM events ${where} ORDER BY ${listOrder(sort, order)} LIMIT ${p.add(limit)} OFFSET ${p.add(skip)}`, p.values);
    // Camera, zone and time alone are counted from the rollups; any other filter needs the rows.
    const total = countableByRollups(f)
      ? pgCountEvents(this.pool, f)
      : query<{ n: number }>(this.pool, `SELECT count(*) AS n FROM events ${where}`, filterValues).then((r) => r[0]!.n);
    const [items, n] = await Promise.all([page, total]);
    return { items, total: n };
  }

  /**
   * One page of a long read (CSV export) by keyset: rows strictly after `after` in the (sort key,
   * seq) order, NULL confidence lowest. Each page is one short query holding no snapshot.
   */
  async pageAfter(f: EventFilter, sort: SortField, order: 'asc' | 'desc', after: ExportCursor | null, limit: number): Promise<{ items: StoredEvent[]; next: ExportCursor | null }> {
    const p = new Params();
    const key = keysetColumn(sort);
    const dir = order === 'asc' ? 'ASC' : 'DESC';
    let conditions = filterSql(f, p);
    if (after) conditions += ` AND (${key}, seq) ${order === 'asc' ? '>' : '<'} (${p.add(after.key)}, ${p.add(after.seq)})`;
    const items = await query<Row>(this.pool, `SELECT * FROM events ${whereSql(conditions)} ORDER BY ${key} ${dir}, seq ${dir} LIMIT ${p.add(limit)}`, p.values);
    return { items, next: nextCursor(items, sort, limit) };
  }

  /** Statistics over [start, end] from the rollups (pg-event-stats.ts). */
  stats(f: Omit<EventFilter, 'plate_text' | 'min_confidence'>, interval: Interval, now = Date.now()): Promise<Stats> {
    return pgStats(this.pool, f, interval, now);
  }

  /** Events per minute and mean processing time over the last `minutes` minutes (rollups). */
  recentRate(minutes: number, now = Date.now()): Promise<{ perMinute: number; avgProcessingMs: number | null }> {
    return pgRecentRate(this.pool, minutes, now);
  }

  /**
   * Replaces an event's plate text (an operator's correction), keeping the original read and every
   * change in `body.correction` (correctedBody, shared with SQLite). The row is locked from read
   * to write, so concurrent corrections on any replica each append to the history; the commit is
   * durable. Counts and rollups do not change.
   */
  async correctPlate(eventId: string, plateText: string, by: string, reason: string | null, now = Date.now()): Promise<StoredEvent | undefined> {
    return inTransaction(this.pool, async (tx) => {
      await tx.query('SET LOCAL synchronous_commit = on');
      const [row] = (await tx.query(`SELECT * ${BY_ID} FOR UPDATE`, [eventId])).rows as StoredEvent[];
      if (!row) return undefined;
      const body = correctedBody(row, plateText, by, reason, now);
      await tx.query('UPDATE events SET plate_text = $1, body = $2 WHERE event_id = $3 AND ts = $4', [plateText, body, row.event_id, row.ts]);
      await tx.query('INSERT INTO plates (plate_text) VALUES ($1) ON CONFLICT (plate_text) DO NOTHING', [plateText]);
      return { ...row, plate_text: plateText, body };
    });
  }
}
