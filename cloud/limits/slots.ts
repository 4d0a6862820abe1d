/**
 * Counted slots for work that costs memory or CPU while it runs (exports, ffmpeg, recognition).
 * Guarantees:
 *  - at most `total` holders at once, and at most `perKey` for one key (one user);
 *  - at most `queue` callers wait for a slot, in arrival order; anyone beyond is refused at
 *    once with a 429 `CONCURRENCY_LIMIT_EXCEEDED` (`SlotsFull`), so nothing grows without bound;
 *  - a release is counted once, however often it is called.
 */
import { AppError } from '../../shared/errors.js';

export type Release = () => void;

/** 429 CONCURRENCY_LIMIT_EXCEEDED: `what` is busy; try again after `retryAfterS`. */
export class SlotsFull extends AppError {
  readonly retryAfterS: number;
  constructor(what: string, limit: number, retryAfterS: number) {
    super('CONCURRENCY_LIMIT_EXCEEDED', `Too many ${what} at once (limit ${limit}); try again later`, {
      extra: { retry_after_seconds: retryAfterS, limit },
    });
    this.retryAfterS = retryAfterS;
  }
}

export interface SlotsOptions {
  /** Words for the error: "CSV exports", "ffmpeg processes". */
  what: string;
  total: number;
  perKey?: number;
  /** Callers that may wait for a free slot (default 0: refuse at once). */
  queue?: number;
  /** Retry-After of a refusal, seconds. */
  retryAfterS: number;
}

export class Slots {
  private running = 0;
  private readonly byKey = new Map<string, number>();
  private readonly waiting: Array<{ key: string; grant: (r: Release) => void }> = [];

  constructor(private readonly opts: SlotsOptions) {}

  get inUse(): number {
    return this.running;
  }

  get queued(): number {
    return this.waiting.length;
  }

  private fits(key: string): boolean {
    return this.running < this.opts.total && (this.byKey.get(key) ?? 0) < (this.opts.perKey ?? Infinity);
  }

  private take(key: string): Release {
    this.running++;
    this.byKey.set(key, (this.byKey.get(key) ?? 0) + 1);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.running--;
      const n = (this.byKey.get(key) ?? 1) - 1;
      if (n) this.byKey.set(key, n);
      else this.byKey.delete(key);
      this.grantWaiting();
    };
  }

  private grantWaiting(): void {
    for (let i = 0; i < this.waiting.length; i++) {
      const w = this.waiting[i]!;
      if (!this.fits(w.key)) continue;
      this.waiting.splice(i, 1);
      w.grant(this.take(w.key));
      return;
    }
  }

  private full(): SlotsFull {
    return new SlotsFull(this.opts.what, this.opts.perKey !== undefined ? Math.min(this.opts.perKey, this.opts.total) : this.opts.total, this.opts.retryAfterS);
  }

  /** A slot now, or SlotsFull thrown. */
  tryAcquire(key = ''): Release {
    if (!this.fits(key)) throw this.full();
    return this.take(key);
  }

  /** A slot now or after waiting in line; SlotsFull (rejected) when the line is full too. */
  acquire(key = ''): Promise<Release> {
    if (this.fits(key) && this.waiting.length === 0) return Promise.resolve(this.take(key));
    if (this.waiting.length >= (this.opts.queue ?? 0)) return Promise.reject(this.full());
    return new Promise((grant) => this.waiting.push({ key, grant }));
  }
}
