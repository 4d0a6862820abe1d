/**
 * Per-account sign-in throttling with exponential backoff, beside the per-address rate
 * limit (cloud/http/rate-limit.ts): an attacker spreading guesses over many addresses, or
 * sitting behind the same proxy as everyone else, is slowed per account instead.
 *
 * Guarantees:
 * - An account (by name, whether or not it exists, so throttling tells nothing about which
 *   names exist) gets `freeFailures` failed sign-ins for free; each further failure locks its
 *   sign-in for `baseMs`, then twice as long, … up to `maxMs`, whoever tries from wherever.
 * - An attempt counts as a failure when it starts and is forgiven when it succeeds, so
 *   guesses sent in parallel cannot all slip through before the first one fails.
 * - While locked, a sign-in is refused (429 with Retry-After) before the password is hashed:
 *   guesses cost the attacker time, not the server CPU. The lock is capped, so an attacker
 *   can delay a real user by at most `maxMs`, never lock them out for good.
 * - A successful sign-in clears the account's record; records are forgotten `forgetMs` after
 *   their last failure, and at most `maxEntries` are kept (the oldest go first).
 * - Only password sign-ins count: refreshing or ending a session never does.
 */

export interface LoginThrottleOptions {
  freeFailures: number;
  baseMs: number;
  maxMs: number;
  forgetMs: number;
  maxEntries: number;
}

export const DEFAULT_LOGIN_THROTTLE: LoginThrottleOptions = { freeFailures: 5, baseMs: 1000, maxMs: 5 * 60_000, forgetMs: 60 * 60_000, maxEntries: 10_000 };

interface Entry {
  failures: number;
  lockedUntil: number;
  lastAt: number;
}

export class LoginThrottle {
  private readonly o: LoginThrottleOptions;
  // Insertion order is age order: an entry is re-inserted on each failure.
  private readonly entries = new Map<string, Entry>();

  constructor(opts: Partial<LoginThrottleOptions> = {}) {
    this.o = { ...DEFAULT_LOGIN_THROTTLE, ...opts };
  }

  /**
   * Starts a sign-in attempt for `username`: returns 0 and counts the attempt as a failure
   * (until `succeeded`), or the milliseconds the account stays locked.
   */
  begin(username: string, now = Date.now()): number {
    let e = this.entries.get(username);
    if (e && now - e.lastAt > this.o.forgetMs) e = undefined;
    if (e && e.lockedUntil > now) return e.lockedUntil - now;
    e ??= { failures: 0, lockedUntil: 0, lastAt: now };
    e.failures++;
    e.lastAt = now;
    const over = e.failures - this.o.freeFailures;
    if (over > 0) e.lockedUntil = now + Math.min(this.o.maxMs, this.o.baseMs * 2 ** Math.min(over - 1, 30));
    this.entries.delete(username);
    this.entries.set(username, e);
    if (this.entries.size > this.o.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    return 0;
  }

  /** The attempt was right: the account starts afresh. */
  succeeded(username: string): void {
    this.entries.delete(username);
  }
}
