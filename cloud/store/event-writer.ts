/**
 * Group commit through the writer thread (event-writer-worker.ts). Rows queue while a batch
 * is being committed; when it is done, everything queued goes as the next batch. Under
 * load, batches grow by themselves and the fsync cost is shared; at rest a row is sent at
 * once. A promise resolves only after its row's transaction has committed.
 */
import { Worker } from 'node:worker_threads';
import type { EventRow } from './events-store.js';
import type { WriterReply, WriterRequest } from './event-writer-worker.js';

type Result = 'inserted' | 'duplicate';
interface Pending {
  row: EventRow;
  resolve: (r: Result) => void;
  reject: (e: unknown) => void;
}

export class EventWriter {
  private readonly worker: Worker;
  private queue: Pending[] = [];
  private inflight: Pending[] | null = null;
  private seq = 0;
  private ready: Promise<void>;
  private closing = false;

  constructor(dbFile: string) {
    this.worker = new Worker(new URL('../../shared/worker-boot.js', import.meta.url), {
      workerData: { entry: new URL('./event-writer-worker.ts', import.meta.url).href, dbFile },
    });
    this.worker.on('message', (m: WriterReply | 'closed') => {
      if (m === 'closed') return;
      this.done(m);
    });
    this.ready = new Promise((resolve, reject) => {
      this.worker.once('online', () => resolve());
      this.worker.once('error', reject);
    });
    this.worker.on('error', (e) => this.failAll(e));
    this.worker.on('exit', (code) => {
      if (!this.closing) this.failAll(new Error(`event writer thread exited (${code})`));
    });
    this.worker.unref();
  }

  insert(row: EventRow): Promise<Result> {
    if (this.closing) return Promise.reject(new Error('event writer is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ row, resolve, reject });
      if (!this.inflight) this.send();
    });
  }

  private send(): void {
    if (this.queue.length === 0) return;
    this.inflight = this.queue;
    this.queue = [];
    this.worker.ref();
    const msg: WriterRequest = { id: ++this.seq, rows: this.inflight.map((p) => p.row) };
    this.worker.postMessage(msg);
  }

  private done(m: WriterReply): void {
    const batch = this.inflight ?? [];
    this.inflight = null;
    if ('error' in m) batch.forEach((p) => p.reject(new Error(m.error)));
    else batch.forEach((p, i) => p.resolve(m.results[i]!));
    if (this.queue.length) this.send();
    else this.worker.unref();
  }

  private failAll(e: unknown): void {
    for (const p of [...(this.inflight ?? []), ...this.queue]) p.reject(e);
    this.inflight = null;
    this.queue = [];
  }

  /** Waits for queued rows to commit, then stops the thread. */
  async close(): Promise<void> {
    await this.ready.catch(() => {});
    while (this.inflight || this.queue.length) {
      await new Promise((r) => setTimeout(r, 5));
    }
    this.closing = true;
    this.worker.ref();
    await new Promise<void>((resolve) => {
      this.worker.once('exit', () => resolve());
      this.worker.once('message', () => void this.worker.terminate());
      this.worker.postMessage('close');
    });
  }
}
