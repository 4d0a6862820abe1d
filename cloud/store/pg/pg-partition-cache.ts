/**
 * Which monthly partitions of `events` exist, as the writer needs to know before it inserts: a
 * month it has not seen is created (cloud/db/pg/partitions.ts `ensurePartitions`) before the
 * first batch holding one of its events, and remembered, so DDL runs once per month and replica.
 *
 * Guarantees:
 * - Months are created for events from `pastMonths` before the current month (UTC) to
 *   `aheadMonths` after it. Every batch also makes sure of the current month and the next
 *   (a cache lookup once they exist), so a month's partition is made a month before its first
 *   event and the turn of a month finds it there. An event outside
 *   that window (an edge clock years off, a backlog older than the window) goes to the default
 *   partition: stored and found as any other, only read more slowly. Its month gets a partition,
 *   and its events are moved there, once the month falls inside the window (or by retention).
 * - A failure to create a partition (its DDL waits at most 5 s for running queries) never fails
 *   an insert: it is logged, the events go to the default partition, and the month is tried again
 *   after `retryAfterMs`. Concurrent batches needing one month share one creation.
 * - The cache only ever skips DDL for months that exist or existed: a month dropped by retention
 *   afterwards takes late events into the default partition.
 */
import type pg from 'pg';
import { ensurePartitions, listPartitions, monthOf, type PartitionRange } from '../../db/pg/partitions.js';
import type { Logger } from '../../../shared/log.js';

export interface PartitionWindow {
  /** Whole months before the current one that get partitions (default 24). */
  pastMonths?: number;
  /** Whole months after the current one that get partitions (default 1). */
  aheadMonths?: number;
  /** Wait before trying a month whose creation failed again (default 60 s). */
  retryAfterMs?: number;
}

export class PartitionCache {
  private known: Promise<Set<string>> | null = null;
  private readonly creating = new Map<string, Promise<void>>();
  private readonly failedAt = new Map<string, number>();

  constructor(
    private readonly pool: pg.Pool,
    private readonly log: Logger,
    private readonly window: PartitionWindow = {},
    private readonly clock: () => number = Date.now,
  ) {}

  /** Makes sure the months of `timestamps` (inside the window) have their partitions; never rejects. */
  async ensureFor(timestamps: Iterable<number>): Promise<void> {
    const now = this.clock();
    const current = monthOf(now);
    if (!current) return;
    const d = new Date(current.from);
    const lo = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - (this.window.pastMonths ?? 24), 1);
    const hi = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + (this.window.aheadMonths ?? 1) + 1, 1);
    const months = new Map<string, PartitionRange>([[current.name, current]]);
    const next = monthOf(current.to);
    if (next) months.set(next.name, next);
    for (const ts of timestamps) {
      const m = ts >= lo && ts < hi ? monthOf(ts) : undefined;
      if (m) months.set(m.name, m);
    }
    const known = await this.existing();
    const waits: Array<Promise<void>> = [];
    for (const m of months.values()) {
      if (known.has(m.name) || now - (this.failedAt.get(m.name) ?? -Infinity) < (this.window.retryAfterMs ?? 60_000)) continue;
      let p = this.creating.get(m.name);
      if (!p) {
        p = this.create(m, known).finally(() => this.creating.delete(m.name));
        this.creating.set(m.name, p);
      }
      waits.push(p);
    }
    await Promise.all(waits);
  }

  private async create(m: PartitionRange, known: Set<string>): Promise<void> {
    try {
      if ((await ensurePartitions(this.pool, m.from, m.from)).length > 0) this.log.info({ partition: m.name }, 'events partition created');
      known.add(m.name);
      this.failedAt.delete(m.name);
    } catch (e) {
      this.failedAt.set(m.name, this.clock());
      this.log.warn({ partition: m.name, err: e }, 'could not create an events partition; its events go to the default partition for now');
    }
  }

  /** The partitions that existed at first use (read once; an unreadable list is an empty one). */
  private existing(): Promise<Set<string>> {
    this.known ??= listPartitions(this.pool).then(
      (ps) => new Set(ps.map((p) => p.name)),
      (e) => {
        this.log.warn({ err: e }, 'could not list the events partitions; each month is checked as it comes');
        return new Set<string>();
      },
    );
    return this.known;
  }
}
