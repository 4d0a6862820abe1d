/**
 * A short, time-indexed memory of a sensor's readings, for "what did the sensor say while this
 * car passed" (`between(fromMs, toMs)`).
 *
 * Guarantees:
 * - Readings are kept in time order: a reading stamped before the newest one (the wall clock
 *   stepped back) is stamped with the newest one's time, so the order of arrival is kept and
 *   the index stays sorted.
 * - Bounded: readings older than `keepMs` (default 60 s) before the newest are dropped, and at
 *   most `maxReadings` (default 1000) are kept, oldest dropped first.
 * - `between` is inclusive at both ends and costs O(log n + answer).
 */

export interface Stamped {
  /** When the reading arrived, ms since the epoch. */
  at: number;
}

export interface ReadingBufferOptions {
  keepMs?: number;
  maxReadings?: number;
}

export class ReadingBuffer<T extends Stamped> {
  private items: T[] = [];
  private readonly keepMs: number;
  private readonly maxReadings: number;

  constructor(o: ReadingBufferOptions = {}) {
    this.keepMs = o.keepMs ?? 60_000;
    this.maxReadings = Math.max(1, o.maxReadings ?? 1000);
  }

  /** Adds a reading; returns it as stored (its `at` raised to the newest reading's when the clock stepped back). */
  push(r: T): T {
    const last = this.items[this.items.length - 1];
    const stored = last && r.at < last.at ? { ...r, at: last.at } : r;
    this.items.push(stored);
    const drop = Math.max(this.items.length - this.maxReadings, this.firstAtOrAfter(stored.at - this.keepMs));
    if (drop > 0) this.items.splice(0, drop);
    return stored;
  }

  /** Readings with `fromMs ≤ at ≤ toMs`, oldest first. */
  between(fromMs: number, toMs: number): T[] {
    if (!(toMs >= fromMs)) return [];
    return this.items.slice(this.firstAtOrAfter(fromMs), this.firstAfter(toMs));
  }

  /** The newest reading, if any. */
  latest(): T | undefined {
    return this.items[this.items.length - 1];
  }

  get size(): number {
    return this.items.length;
  }

  /** Index of the first reading with `at ≥ t`. */
  private firstAtOrAfter(t: number): number {
    return this.search((at) => at < t);
  }

  /** Index of the first reading with `at > t`. */
  private firstAfter(t: number): number {
    return this.search((at) => at <= t);
  }

  /** Binary search: the first index whose reading is not `before` (the readings are sorted by `at`). */
  private search(before: (at: number) => boolean): number {
    let lo = 0;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (before(this.items[mid]!.at)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
