/**
 * De-duplication window: the same plate on the same camera within `windowMs` is one event.
 * "Same" is look-alike aware (canonical forms equal, or one confusion apart), so `0B5123`
 * after `OB5123` is not a new event.
 */
import { canonicalPlate } from '../../shared/plate/index.js';
import { plateDistance } from '../read/align.js';

export class DedupWindow {
  private readonly seen = new Map<string, { text: string; ts: number }>();

  constructor(private readonly windowMs: number) {}

  /** Records the plate and says whether it repeats one seen within the window. */
  check(text: string, ts: number): boolean {
    this.expire(ts);
    const key = canonicalPlate(text);
    let dup = this.seen.has(key);
    if (!dup) for (const s of this.seen.values()) if (plateDistance(s.text, text) <= 1 && Math.min(s.text.length, text.length) >= 5) dup = true;
    // A repeat extends the window: a car parked in view stays one event.
    this.seen.set(key, { text, ts });
    return dup;
  }

  private expire(now: number) {
    for (const [k, v] of this.seen) if (now - v.ts > this.windowMs) this.seen.delete(k);
  }
}
