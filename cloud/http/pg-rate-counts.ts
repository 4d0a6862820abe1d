/**
 * The rate limits' counts shared by replicas through PostgreSQL (`rate_counts`), so that a
 * caller's requests spread over replicas count as if they reached one.
 *
 * Guarantees:
 * - A request is delayed by the database at most once per caller and window on each replica
 *   (the first, which reads the others' count); after that each replica counts locally at once
 *   and exchanges counts with the others every `syncMs` (default 250 ms: its new counts added,
 *   the totals of its callers' open windows read back) and at close. A limit therefore holds across replicas to within what the other replicas
 *   accepted for that caller since their last exchange.
 * - The database cannot take the exchange (down, too busy): the counts wait for the next one,
 *   and meanwhile each replica limits by its own counts (failure is logged once per outage).
 *   Limits are never made stricter by a failure.
 * - Rows of windows that ended are deleted once per window by each replica (idempotent).
 * - Rows are upserted in key order, so replicas exchanging at once cannot deadlock.
 */
import type pg from 'pg';
import type { Logger } from '../../shared/log.js';
import type { Category, PeerCounts } from './rate-limit.js';

type Key = string;
const keyOf = (category: Category, who: string, start: number): Key => JSON.stringify([category, who, start]);

export class PgRateCounts implements PeerCounts {
  /** This replica's counts not yet sent. */
  private pending = new Map<Key, number>();
  /** This replica's counts sent, per key of an open window. */
  private sent = new Map<Key, number>();
  /** The other replicas' counts, as last heard. */
  private others = new Map<Key, number>();
  /** Keys of this replica's callers with the end of their window. */
  private active = new Map<Key, number>();
  private readonly timer: NodeJS.Timeout;
  private syncing: Promise<void> | undefined;
  private failing = false;
  private sweptWindow = 0;
  private windowMs = 60_000;

  constructor(
    private readonly pool: pg.Pool,
    private readonly log: Logger,
    syncMs = 250,
  ) {
    this.timer = setInterval(() => void this.sync(), syncMs).unref();
  }

  of(category: Category, who: string, windowStart: number): number {
    return this.others.get(keyOf(category, who, windowStart)) ?? 0;
  }

  note(category: Category, who: string, windowStart: number, windowMs: number): void {
    const k = keyOf(category, who, windowStart);
    this.pending.set(k, (this.pending.get(k) ?? 0) + 1);
    this.active.set(k, windowStart + windowMs);
    this.windowMs = windowMs;
  }

  knows(category: Category, who: string, windowStart: number): boolean {
    return this.others.has(keyOf(category, who, windowStart));
  }

  async learn(category: Category, who: string, windowStart: number, windowMs: number): Promise<void> {
    const k = keyOf(category, who, windowStart);
    this.active.set(k, windowStart + windowMs);
    this.windowMs = windowMs;
    try {
      const r = await this.pool.query<{ n: number }>('SELECT n FROM rate_counts WHERE category = $1 AND who = $2 AND window_start = $3', [category, who, windowStart]);
      this.others.set(k, Math.max(0, (r.rows[0]?.n ?? 0) - (this.sent.get(k) ?? 0)));
    } catch (e) {
      // Taken as none for now (the next exchange may tell), so no later request waits on it.
      this.others.set(k, 0);
      if (!this.failing) this.log.warn({ err: e }, 'rate limits: cannot read the other replicas\' counts; limiting by this one\'s');
      this.failing = true;
    }
  }

  sync(): Promise<void> {
    // One exchange at a time; a caller during one waits for it and then runs its own.
    const run = (this.syncing ?? Promise.resolve()).then(() => this.exchange());
    this.syncing = run.finally(() => {
      if (this.syncing === run) this.syncing = undefined;
    });
    return run;
  }

  private async exchange(): Promise<void> {
    const now = Date.now();
    for (const [k, end] of this.active) {
      if (end > now) continue;
      this.active.delete(k);
      this.sent.delete(k);
      this.others.delete(k);
      this.pending.delete(k);
    }
    if (this.active.size === 0) return;
    const delta = this.pending;
    this.pending = new Map();
    const keys = [...this.active.keys()].sort();
    const cols = (ks: Key[]) => {
      const rows = ks.map((k) => JSON.parse(k) as [Category, string, number]);
      return [rows.map((x) => x[0]), rows.map((x) => x[1]), rows.map((x) => x[2])];
    };
    try {
      const changed = keys.filter((k) => delta.has(k));
      if (changed.length) {
        await this.pool.query(
          `INSERT INTO rate_counts (category, who, window_start, n)
           SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::integer[])
           ON CONFLICT (category, who, window_start) DO UPDATE SET n = rate_counts.n + excluded.n`,
          [...cols(changed), changed.map((k) => delta.get(k)!)],
        );
        for (const k of changed) this.sent.set(k, (this.sent.get(k) ?? 0) + delta.get(k)!);
      }
      // The totals of every open window this replica serves, its own counts included.
      const r = await this.pool.query<{ category: string; who: string; window_start: number; n: number }>(
        `SELECT category, who, window_start, n FROM rate_counts
         WHERE (category, who, window_start) IN (SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[]))`,
        cols(keys),
      );
      for (const row of r.rows) {
        const k = keyOf(row.category as Category, row.who, row.window_start);
        this.others.set(k, Math.max(0, row.n - (this.sent.get(k) ?? 0)));
      }
      if (this.failing) this.log.info('rate limits: exchanging counts with the other replicas again');
      this.failing = false;
      // Windows that ended: once per window, by whichever replica gets there.
      const current = Math.floor(now / this.windowMs) * this.windowMs;
      if (current > this.sweptWindow) {
        this.sweptWindow = current;
        await this.pool.query('DELETE FROM rate_counts WHERE window_start < $1', [current - this.windowMs]);
      }
    } catch (e) {
      // Kept for the next exchange.
      for (const [k, n] of delta) this.pending.set(k, (this.pending.get(k) ?? 0) + n);
      if (!this.failing) this.log.warn({ err: e }, 'rate limits: cannot exchange counts with the other replicas; each limits by its own until it can');
      this.failing = true;
    }
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.sync();
  }
}
