/**
 * Reads whose outbox save failed (disk full, EIO, an unwritable images directory) wait here, in
 * memory, and are retried with backoff until the save succeeds: a transient storage fault no
 * longer loses a confirmed read.
 *
 * - One FIFO for all cameras: while anything waits, new reads queue behind it instead of being
 *   saved directly, so the outbox's order (and so delivery order) per camera is the read order.
 * - Bounded by `maxItems` and `maxBytes`: past either, the oldest read is dropped, counted and
 *   logged (`onDropped`). Memory is what is left when the disk is not; a box that cannot write
 *   for long loses its oldest reads, never its newest, and never its process.
 * - A save that cannot ever succeed (the body fails the contract) is dropped at once, not
 *   retried forever; a DUPLICATE_RESOURCE means an earlier attempt did commit: saved, once.
 * - Nothing here survives a crash: the queue is a bridge over a storage fault, not storage.
 */
import type { EventIngest } from '../../shared/schemas/event.js';
import { isAppError } from '../../shared/errors.js';

export interface PendingSave<T = unknown> {
  body: EventIngest;
  images: { frame?: Buffer; crop?: Buffer };
  /** Caller's context (camera, decision…), handed back to onSaved/onDropped. */
  ctx: T;
  bytes: number;
  firstFailedAt: number;
  attempts: number;
}

export interface SaveQueueOptions<T> {
  /** The durable save (Outbox.add); throws when it did not commit. */
  save: (body: EventIngest, images: { frame?: Buffer; crop?: Buffer }) => number;
  /** Called once per read that is in the outbox (directly or after retries), in queue order. */
  onSaved: (item: PendingSave<T>, seq: number, retried: boolean) => void;
  /** Called once per read given up on: queue over its bounds, permanent error, or close(). */
  onDropped: (item: PendingSave<T>, reason: 'overflow' | 'invalid' | 'shutdown', err?: unknown) => void;
  /** Called on each failed attempt (first failure and retries). */
  onFailed?: (item: PendingSave<T>, err: unknown, depth: number) => void;
  /** At most this many reads wait (default 1000). */
  maxItems?: number;
  /** At most this many bytes (images + body) wait (default 256 MiB). */
  maxBytes?: number;
  /** First retry after this many ms, doubling up to maxBackoffMs (defaults 500 ms, 10 s). */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
}

const permanent = (e: unknown) => isAppError(e) && e.code === 'VALIDATION_ERROR';
const duplicate = (e: unknown) => isAppError(e) && e.code === 'DUPLICATE_RESOURCE';

export class SaveRetryQueue<T = unknown> {
  private items: Array<PendingSave<T>> = [];
  private bytesQueued = 0;
  private timer: NodeJS.Timeout | null = null;
  private failures = 0;
  private closed = false;
  readonly maxItems: number;
  readonly maxBytes: number;
  /** Reads dropped since start (overflow, invalid, shutdown). */
  dropped = 0;
  lastError: string | null = null;

  constructor(private readonly o: SaveQueueOptions<T>) {
    this.maxItems = Math.max(1, o.maxItems ?? 1000);
    this.maxBytes = Math.max(1, o.maxBytes ?? 256 * 1024 * 1024);
  }

  get depth(): number {
    return this.items.length;
  }

  get bytes(): number {
    return this.bytesQueued;
  }

  /** Saves now when nothing waits and the save works; otherwise queues the read for retry. */
  submit(body: EventIngest, images: { frame?: Buffer; crop?: Buffer }, ctx: T): void {
    const bytes = (images.frame?.length ?? 0) + (images.crop?.length ?? 0) + JSON.stringify(body).length;
    const item: PendingSave<T> = { body, images, ctx, bytes, firstFailedAt: 0, attempts: 0 };
    if (this.closed) return this.o.onDropped(item, 'shutdown');
    if (this.items.length === 0 && this.attempt(item) !== 'failed') return;
    item.firstFailedAt ||= Date.now();
    this.items.push(item);
    this.bytesQueued += bytes;
    while (this.items.length > this.maxItems || (this.bytesQueued > this.maxBytes && this.items.length > 1)) {
      const old = this.items.shift()!;
      this.bytesQueued -= old.bytes;
      this.dropped++;
      this.o.onDropped(old, 'overflow');
    }
    this.schedule();
  }

  /** Tries every waiting read in order until one fails; returns how many are left. */
  drain(): number {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    while (this.items.length) {
      const r = this.attempt(this.items[0]);
      if (r === 'failed') break;
      const done = this.items.shift()!;
      this.bytesQueued -= done.bytes;
    }
    if (this.items.length === 0) this.failures = 0;
    else this.schedule();
    return this.items.length;
  }

  /** Stops retrying; a last drain first, then every read still waiting is dropped ('shutdown'). */
  close(): number {
    if (this.closed) return 0;
    this.drain();
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const lost = this.items;
    this.items = [];
    this.bytesQueued = 0;
    for (const it of lost) {
      this.dropped++;
      this.o.onDropped(it, 'shutdown');
    }
    return lost.length;
  }

  private attempt(item: PendingSave<T>): 'saved' | 'dropped' | 'failed' {
    const retried = item.attempts > 0;
    item.attempts++;
    let seq: number;
    try {
      seq = this.o.save(item.body, item.images);
    } catch (e) {
      if (duplicate(e)) {
        // An earlier attempt committed (e.g. the error came after the commit): it is in, once.
        this.o.onSaved(item, -1, retried);
        return 'saved';
      }
      if (permanent(e)) {
        this.dropped++;
        this.o.onDropped(item, 'invalid', e);
        return 'dropped';
      }
      this.lastError = (e as Error).message;
      this.o.onFailed?.(item, e, this.items.length + (retried ? 0 : 1));
      return 'failed';
    }
    this.lastError = null;
    this.o.onSaved(item, seq, retried);
    return 'saved';
  }

  private schedule(): void {
    if (this.timer || this.closed || !this.items.length) return;
    const first = this.o.initialBackoffMs ?? 500;
    const max = this.o.maxBackoffMs ?? 10_000;
    const ceiling = Math.min(max, first * 2 ** Math.min(this.failures, 30));
    this.failures++;
    // Half fixed, half jitter: never a hot loop, never in lock-step with other retries.
    const delay = ceiling / 2 + Math.random() * (ceiling / 2);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.drain();
    }, delay);
    this.timer.unref();
  }
}
