/**
 * The sign-in throttle (login-throttle.ts) with its counters in PostgreSQL, so that guesses
 * spread over replicas count as if they reached one. Same rules and the same answers as the
 * in-process LoginThrottle; `maxEntries` is not needed (rows past `forgetMs` are deleted).
 *
 * Guarantees beyond login-throttle.ts:
 * - An attempt's check and its counting are one transaction holding both counters' rows, so
 *   parallel guesses on different replicas are counted one after the other, as on one.
 * - Counters past `forgetMs` are deleted at most once a minute per replica.
 */
import type pg from 'pg';
import { inTransaction } from '../db/pg/transaction.js';
import { DEFAULT_LOGIN_THROTTLE, lockedUntil, type LoginThrottleOptions, type SignInThrottle } from './login-throttle.js';

/** The account's counter has no address. */
const ACCOUNT = '';
const SWEEP_EVERY_MS = 60_000;

interface Row {
  ip: string;
  failures: number;
  locked_until: number;
  last_at: number;
}

export class PgLoginThrottle implements SignInThrottle {
  private readonly o: LoginThrottleOptions;
  private lastSweep = 0;

  constructor(
    private readonly pool: pg.Pool,
    opts: Partial<LoginThrottleOptions> = {},
  ) {
    this.o = { ...DEFAULT_LOGIN_THROTTLE, ...opts };
  }

  async begin(username: string, ip: string, now = Date.now()): Promise<number> {
    this.sweep(now);
    return inTransaction(this.pool, async (c) => {
      await c.query(
        `INSERT INTO login_failures (username, ip, failures, locked_until, last_at) VALUES ($1, $2, 0, 0, $4), ($1, $3, 0, 0, $4)
         ON CONFLICT (username, ip) DO NOTHING`,
        [username, ACCOUNT, ip, now],
      );
      const rows = (await c.query<Row>('SELECT ip, failures, locked_until, last_at FROM login_failures WHERE username = $1 AND ip IN ($2, $3) ORDER BY ip FOR UPDATE', [username, ACCOUNT, ip])).rows;
      // A counter not touched for `forgetMs` starts afresh.
      const live = rows.map((r) => (now - r.last_at <= this.o.forgetMs ? r : { ...r, failures: 0, locked_until: 0 }));
      const wait = Math.max(...live.map((r) => r.locked_until)) - now;
      if (wait > 0) return wait;
      for (const r of live) {
        const failures = r.failures + 1;
        const free = r.ip === ACCOUNT ? this.o.accountFreeFailures : this.o.freeFailures;
        const until = failures > free ? lockedUntil(failures, free, now, this.o) : r.locked_until;
        await c.query('UPDATE login_failures SET failures = $3, locked_until = $4, last_at = $5 WHERE username = $1 AND ip = $2', [username, r.ip, failures, until, now]);
      }
      return 0;
    });
  }

  async succeeded(username: string, ip: string): Promise<void> {
    await this.pool.query('DELETE FROM login_failures WHERE username = $1 AND ip IN ($2, $3)', [username, ACCOUNT, ip]);
  }

  private sweep(now: number): void {
    if (now - this.lastSweep < SWEEP_EVERY_MS) return;
    this.lastSweep = now;
    // Best effort: a failed sweep only leaves rows that are ignored anyway.
    this.pool.query('DELETE FROM login_failures WHERE last_at < $1', [now - this.o.forgetMs]).catch(() => {});
  }
}
