/**
 * Group commit of event inserts on PostgreSQL, the counterpart of SQLite's writer thread
 * (cloud/store/event-writer.ts). Rows queue while up to `concurrency` batches are being
 * committed; when one is done, what is queued goes as the next batch (at most `maxBatch` rows).
 * At rest a row is sent at once; under load batches grow by themselves, and the round trips and
 * the WAL flush of a commit are shared.
 *
 * Guarantees:
 * - A promise resolves 'inserted' only after its row's transaction committed, durably
 *   (pg-event-insert.ts), and 'duplicate' only when the event_id was already stored.
 * - A row never fails because of another: a batch the database refuses for a reason of its
 *   content (a NUL in a text, a value out of range) is retried row by row, each in its own
 *   transaction, and only the offending row is refused. Serialization failures and deadlocks are
 *   retried by `inTransaction`.
 * - A batch whose outcome is unknown (the connection lost, possibly during COMMIT, with or without
 *   a SQLSTATE; the server shutting down; a statement timeout) is settled by what the database then says, as SQLite's
 *   writer settles a batch its dead thread held: this row stored → 'inserted'; another copy of its
 *   event_id → 'duplicate'; absent, or the database unreachable → 503 SERVICE_UNAVAILABLE with
 *   Retry-After, whose retry is a 202 or a 409, never a second copy.
 * - The partitions a batch needs are made before it is sent (pg-partition-cache.ts).
 * - `close` waits for every queued row to be settled; later inserts are refused with a 503.
 */
import type pg from 'pg';
import { AppError } from '../../../shared/errors.js';
import type { Logger } from '../../../shared/log.js';
import { inTransaction, PG_RETRY_AFTER_S, pgFailure } from '../../db/pg/transaction.js';
import { sameRow } from '../event-writer.js';
import type { EventRow } from '../events-store.js';
import { insertEvents, type InsertResult } from './pg-event-insert.js';
import type { PartitionCache } from './pg-partition-cache.js';

export interface GroupCommitOptions {
  /** Most rows in one transaction (default 256). */
  maxBatch?: number;
  /** Batches in flight at once (default 2): one can be built and sent while another commits. */
  concurrency?: number;
}

interface Pending {
  row: EventRow;
  resolve: (r: InsertResult) => void;
  reject: (e: unknown) => void;
}

const unavailable = (e: unknown) => e instanceof AppError && e.code === 'SERVICE_UNAVAILABLE';
/**
 * An error the server answered with, so the transaction was rolled back, not committed: a SQLSTATE,
 * or the API error `pgFailure` made of one (inTransaction maps them).
 */
const answeredByServer = (e: unknown) => e instanceof AppError || /^[0-9A-Z]{5}$/.test(String((e as { code?: unknown }).code));
const notConfirmed = () =>
  new AppError('SERVICE_UNAVAILABLE', 'The database did not confirm this event; it was not stored, retry it', { extra: { retry_after_seconds: PG_RETRY_AFTER_S } });

export class PgEventWriter {
  private queue: Pending[] = [];
  private running = 0;
  private closing = false;
  private idle: Array<() => void> = [];

  constructor(
    private readonly pool: pg.Pool,
    private readonly partitions: PartitionCache,
    /** The stored rows of these event ids (one query). */
    private readonly lookup: (eventIds: string[]) => Promise<Map<string, EventRow>>,
    private readonly log: Logger,
    private readonly opts: GroupCommitOptions = {},
  ) {}

  insert(row: EventRow): Promise<InsertResult> {
    if (this.closing) {
      return Promise.reject(new AppError('SERVICE_UNAVAILABLE', 'The event store is shutting down', { extra: { retry_after_seconds: PG_RETRY_AFTER_S } }));
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ row, resolve, reject });
      this.pump();
    });
  }

  /** Waits until every row inserted so far is settled, then refuses new ones. */
  async close(): Promise<void> {
    this.closing = true;
    if (this.running > 0 || this.queue.length > 0) await new Promise<void>((r) => this.idle.push(r));
  }

  private pump(): void {
    while (this.queue.length > 0 && this.running < Math.max(1, this.opts.concurrency ?? 2)) {
      const batch = this.queue.splice(0, Math.max(1, this.opts.maxBatch ?? 256));
      this.running++;
      void this.send(batch).finally(() => {
        this.running--;
        this.pump();
        if (this.running === 0 && this.queue.length === 0) this.idle.splice(0).forEach((r) => r());
      });
    }
  }

  private async send(batch: Pending[]): Promise<void> {
    try {
      await this.partitions.ensureFor(batch.map((p) => p.row.ts));
      await this.commit(batch);
    } catch (e) {
      // Not expected (commit settles every row itself); a row is never left waiting. Settling twice is a no-op.
      batch.forEach((p) => p.reject(pgFailure(e)));
    }
  }

  /** Commits `batch`, or isolates the row the database refused; settles every row. */
  private async commit(batch: Pending[]): Promise<void> {
    let results: InsertResult[];
    try {
      results = await inTransaction(this.pool, (tx) => insertEvents(tx, batch.map((p) => p.row)));
    } catch (e) {
      const err = pgFailure(e);
      // node-postgres's own failures ("Connection terminated unexpectedly", a query read timeout)
      // carry no SQLSTATE: the COMMIT may have been applied, so they are settled as a lost connection.
      if (unavailable(err) || !answeredByServer(e)) {
        this.log.warn({ err: e, rows: batch.length }, 'event batch not confirmed; settling each row by what the database holds');
        await this.settle(batch, unavailable(err) ? err : notConfirmed());
      } else if (batch.length > 1) {
        this.log.warn({ err: e, rows: batch.length }, 'event batch refused; storing its rows one by one');
        for (const p of batch) await this.commit([p]);
      } else {
        batch[0]!.reject(err);
      }
      return;
    }
    batch.forEach((p, i) => p.resolve(results[i]!));
  }

  /** The rows of a batch whose commit went unanswered: each answered by what is stored. */
  private async settle(batch: Pending[], err: unknown): Promise<void> {
    let stored: Map<string, EventRow>;
    try {
      stored = await this.lookup([...new Set(batch.map((p) => p.row.event_id))]);
    } catch {
      batch.forEach((p) => p.reject(err));
      return;
    }
    const claimed = new Set<string>();
    for (const p of batch) {
      const row = stored.get(p.row.event_id);
      if (!row) {
        p.reject(err);
      } else if (sameRow(row, p.row) && !claimed.has(p.row.event_id)) {
        claimed.add(p.row.event_id);
        p.resolve('inserted');
      } else {
        p.resolve('duplicate');
      }
    }
  }
}
