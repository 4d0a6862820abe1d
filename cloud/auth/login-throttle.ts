/**
 * Per-account sign-in throttling with exponential backoff, beside the per-address rate
 * limit (cloud/http/rate-limit.ts): an attacker spreading guesses over many addresses, or
 * sitting behind the same proxy as everyone else, is slowed per account instead.
 *
 * Guarantees:
 * - Two counters per account name (whether or not the account exists, so throttling tells
 *   nothing about which names exist): one per client address (`freeFailures` free) and one
 *   across all addresses (`accountFreeFailures` free, higher). Past its free failures, each
 *   further failure locks that counter for `baseMs`, then twice as long, … up to `maxMs`.
 *   An attacker guessing from one address locks only itself out of that account; guesses
 *   spread over many addresses lock the account for everyone, later and with the same cap.
 * - An attempt counts as a failure when it starts and is forgiven when it succeeds, so
 *   guesses sent in parallel cannot all slip through before the first one fails.
 * - While locked, a sign-in is refused (429 with Retry-After) before the password is hashed:
 *   guesses cost the attacker time, not the server CPU. The lock is capped, so an attacker
 *   can delay a real user by at most `maxMs` per lock, never lock them out for good.
 * - A successful sign-in clears both counters; counters are forgotten `forgetMs` after their
 *   last failure, and at most `maxEntries` are kept (the oldest go first).
 * - Only password sign-ins count: refreshing or ending a session never does.
 * - `LoginThrottle` keeps its counters in the process (one cloud on SQLite); PgLoginThrottle
 *   (pg-login-throttle.ts) keeps the same counters in PostgreSQL, so they hold across replicas.
 */

export interface LoginThrottleOptions {
  /** Free failures per account and client address. */
  freeFailures: number;
  /** Free failures per account across all addresses. */
  accountFreeFailures: number;
  baseMs: number;
  maxMs: number;
  forgetMs: number;
  maxEntries: number;
}

export const DEFAULT_LOGIN_THROTTLE: LoginThrottleOptions = {
  freeFailures: 5,
  accountFreeFailures: 20,
  baseMs: 1000,
  maxMs: 5 * 60_000,
  forgetMs: 60 * 60_000,
  maxEntries: 20_000,
};

/** Both implementations: what the sign-in routes call. */
export interface SignInThrottle {
  /**
   * Starts a sign-in attempt for `username` from `ip`: resolves to 0 and counts the attempt as a
   * failure (until `succeeded`), or to the milliseconds the account stays locked for this address.
   */
  begin(username: string, ip: string, now?: number): Promise<number>;
  /** The attempt was right: the account starts afresh. */
  succeeded(username: string, ip: string): Promise<void>;
}

/** The two counters of an attempt: the account's, and the account's from this address. */
export function throttleKeys(username: string, ip: string): { account: string; pair: string } {
  return { account: `a\u0000${username}`, pair: `p\u0000${username}\u0000${ip}` };
}

/** When a counter that has just reached `failures` unlocks (`now` while it is within its free ones). */
export function lockedUntil(failures: number, free: number, now: number, o: LoginThrottleOptions): number {
  const over = failures - free;
  return over > 0 ? now + Math.min(o.maxMs, o.baseMs * 2 ** Math.min(over - 1, 30)) : now;
}

interface Entry {
  failures: number;
  lockedUntil: number;
  lastAt: number;
}

export class LoginThrottle implements SignInThrottle {
  private readonly o: LoginThrottleOptions;
  // Insertion order is age order: an entry is re-inserted on each failure.
  private readonly entries = new Map<string, Entry>();

  constructor(opts: Partial<LoginThrottleOptions> = {}) {
    this.o = { ...DEFAULT_LOGIN_THROTTLE, ...opts };
  }

  private live(key: string, now: number): Entry | undefined {
    const e = this.entries.get(key);
    return e && now - e.lastAt <= this.o.forgetMs ? e : undefined;
  }

  private fail(key: string, free: number, now: number): void {
    const e = this.live(key, now) ?? { failures: 0, lockedUntil: 0, lastAt: now };
    e.failures++;
    e.lastAt = now;
    if (e.failures > free) e.lockedUntil = lockedUntil(e.failures, free, now, this.o);
    this.entries.delete(key);
    this.entries.set(key, e);
    if (this.entries.size > this.o.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }

  async begin(username: string, ip: string, now = Date.now()): Promise<number> {
    const { account, pair } = throttleKeys(username, ip);
    const wait = Math.max(this.live(account, now)?.lockedUntil ?? 0, this.live(pair, now)?.lockedUntil ?? 0) - now;
    if (wait > 0) return wait;
    this.fail(account, this.o.accountFreeFailures, now);
    this.fail(pair, this.o.freeFailures, now);
    return 0;
  }

  async succeeded(username: string, ip: string): Promise<void> {
    const { account, pair } = throttleKeys(username, ip);
    this.entries.delete(account);
    this.entries.delete(pair);
  }
}
