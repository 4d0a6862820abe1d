/**
 * Group commit through the writer thread (event-writer-worker.ts). Rows queue while a batch
 * is being committed; when it is done, everything queued goes as the next batch. Under
 * load, batches grow by themselves and the fsync cost is shared; at rest a row is sent at
 * once.
 *
 * Guarantees:
 * - A promise resolves 'inserted' only after its row's transaction has committed, and
 *   'duplicate' only when the event_id was already stored by another row.
 * - The thread may die (a native crash, out of memory, terminate()). Nothing then waits on
 *   a dead thread: once it has exited (its connection closed, so its last transaction is
 *   either committed or rolled back), every row of the batch it held is settled by what
 *   the database says: committed → 'inserted', another row with that event_id →
 *   'duplicate', absent → rejected with 503 SERVICE_UNAVAILABLE (retryable; the retry of
 *   the same event_id is then a 202 or a 409, never a second copy). Rows still queued were
 *   never sent and go to a fresh thread, started for them as the edge's inference host
 *   does (edge/inference/host.ts).
 * - A batch the database refuses (busy past busy_timeout, disk full, I/O error) is rolled
 *   back and each of its rows rejected with the same retryable 503.
 */
import { Worker } from 'node:worker_threads';
import { AppError } from '../../shared/errors.js';
import { silentLogger, type Logger } from '../../shared/log.js';
import { STORAGE_RETRY_AFTER_S, storageUnavailable } from '../db/open.js';
import type { EventRow } from './events-store.js';
import type { WriterReply, WriterRequest } from './event-writer-worker.js';

type Result = 'inserted' | 'duplicate';
interface Pending {
  row: EventRow;
  resolve: (r: Result) => void;
  reject: (e: unknown) => void;
}

/** What the database holds for an event_id (read on another connection after a crash). */
export type StoredLookup = (eventId: string) => EventRow | undefined;

/** Seconds a client is told to wait before retrying a refused insert. */
export const WRITER_RETRY_AFTER_S = STORAGE_RETRY_AFTER_S;

/** Whether a stored row is this very insert (not another copy of its event_id): settles a write whose commit went unanswered. */
export const sameRow = (a: EventRow, b: EventRow) =>
  a.created_at === b.created_at && a.body === b.body && a.frame_path === b.frame_path && a.crop_path === b.crop_path && a.ts === b.ts;

export class EventWriter {
  private worker?: Worker;
  private queue: Pending[] = [];
  private inflight: Pending[] | null = null;
  private seq = 0;
  private closing = false;
  private readonly log: Logger;

  constructor(
    private readonly dbFile: string,
    private readonly lookup: StoredLookup,
    logger: Logger = silentLogger,
  ) {
    this.log = logger.child({ component: 'event-writer' });
    this.ensureWorker();
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(new URL('../../shared/worker-boot.js', import.meta.url), {
      workerData: { entry: new URL('./event-writer-worker.ts', import.meta.url).href, dbFile: this.dbFile },
    });
    w.on('message', (m: WriterReply | 'closed') => {
      if (m === 'closed' || w !== this.worker) return;
      this.done(m);
    });
    w.on('error', (e) => this.log.error({ err: e }, 'event writer thread crashed'));
    w.on('exit', (code) => {
      if (w !== this.worker) return;
      this.worker = undefined;
      if (this.closing) return;
      this.log.warn({ code, in_flight: this.inflight?.length ?? 0, queued: this.queue.length }, 'event writer thread exited; starting a new one');
      this.settleLost();
      if (this.queue.length) this.send();
    });
    w.unref();
    this.worker = w;
    return w;
  }

  insert(row: EventRow): Promise<Result> {
    if (this.closing) return Promise.reject(new AppError('SERVICE_UNAVAILABLE', 'The event store is shutting down', { extra: { retry_after_seconds: WRITER_RETRY_AFTER_S } }));
    return new Promise((resolve, reject) => {
      this.queue.push({ row, resolve, reject });
      if (!this.inflight) this.send();
    });
  }

  private send(): void {
    if (this.queue.length === 0) return;
    const w = this.ensureWorker();
    this.inflight = this.queue;
    this.queue = [];
    w.ref();
    const msg: WriterRequest = { id: ++this.seq, rows: this.inflight.map((p) => p.row) };
    w.postMessage(msg);
  }

  private done(m: WriterReply): void {
    const batch = this.inflight ?? [];
    this.inflight = null;
    if ('error' in m) {
      this.log.error({ err: m.error, code: m.code, rows: batch.length }, 'event batch failed and was rolled back');
      batch.forEach((p) => p.reject(storageUnavailable(m.code) ?? new Error(m.error)));
    }
    else batch.forEach((p, i) => p.resolve(m.results[i]!));
    if (this.queue.length) this.send();
    else this.worker?.unref();
  }

  /** The thread died holding a batch: each row is answered by what was committed. */
  private settleLost(): void {
    const batch = this.inflight ?? [];
    this.inflight = null;
    const claimed = new Set<string>();
    for (const p of batch) {
      let stored: EventRow | undefined;
      try {
        stored = this.lookup(p.row.event_id);
      } catch (e) {
        p.reject(e);
        continue;
      }
      if (stored && sameRow(stored, p.row) && !claimed.has(p.row.event_id)) {
        claimed.add(p.row.event_id);
        p.resolve('inserted');
      } else if (stored) {
        p.resolve('duplicate');
      } else {
        p.reject(
          new AppError('SERVICE_UNAVAILABLE', 'The event store restarted while storing this event; it was not stored, retry it', {
            extra: { retry_after_seconds: WRITER_RETRY_AFTER_S },
          }),
        );
      }
    }
  }

  /** Waits for queued rows to commit, then stops the thread. */
  async close(): Promise<void> {
    while (this.inflight || this.queue.length) {
      await new Promise((r) => setTimeout(r, 5));
    }
    this.closing = true;
    const w = this.worker;
    if (!w) return;
    w.ref();
    await new Promise<void>((resolve) => {
      w.once('exit', () => resolve());
      w.once('message', () => void w.terminate());
      w.postMessage('close');
    });
  }
}
