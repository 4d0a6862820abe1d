/**
 * Rate limits of the contract, fixed one-minute windows per category and caller:
 * events 1000/min per edge worker, config and exporters 100/min per user, health unlimited.
 * Unauthenticated callers are counted by address: `auth` counts password sign-ins
 * (/auth/token, /auth/login), `session` counts refreshes and sign-outs, apart, so failed
 * sign-ins from an address never starve its users' session refreshes.
 * Every limited response carries X-RateLimit-Limit/-Remaining/-Reset; over the limit the
 * answer is 429 with the contract's body and Retry-After.
 * With replicas on PostgreSQL, each counts locally and adds what the others counted in the same
 * window (`PeerCounts`: cloud/http/pg-rate-counts.ts), so the limits hold across replicas.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { AppError } from '../../shared/errors.js';
import { errorBody } from './errors.js';
import type { Env, Principal } from './types.js';

export interface RateLimits {
  events: number;
  config: number;
  exporters: number;
  auth: number;
  session: number;
  windowMs: number;
}

export const DEFAULT_RATE_LIMITS: RateLimits = { events: 1000, config: 100, exporters: 100, auth: 30, session: 300, windowMs: 60_000 };

/**
 * Limits from the environment: `ANPR_RATE_LIMIT_EVENTS`, `_CONFIG`, `_EXPORTERS`, `_AUTH`, `_SESSION`
 * (requests per minute). A site whose edges must drain long backlogs quickly raises the
 * events limit; the contract's figures are the defaults.
 */
export function rateLimitsFromEnv(env: NodeJS.ProcessEnv): Partial<RateLimits> {
  const out: Partial<RateLimits> = {};
  for (const k of ['events', 'config', 'exporters', 'auth', 'session'] as const) {
    const name = `ANPR_RATE_LIMIT_${k.toUpperCase()}`;
    const v = env[name];
    if (v === undefined || v === '') continue;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new AppError('CONFIG_INVALID', `${name} must be a positive integer (requests per minute), got '${v}'`);
    out[k] = n;
  }
  return out;
}

export type Category = 'events' | 'config' | 'exporters' | 'auth' | 'session';

/** What other replicas counted, per category, caller and window (absent with one process). */
export interface PeerCounts {
  /** Requests the other replicas counted for `who` in the window starting at `windowStart`, as last heard. */
  of(category: Category, who: string, windowStart: number): number;
  /** This replica counted one request (shared with the others at the next exchange). */
  note(category: Category, who: string, windowStart: number, windowMs: number): void;
  /** Whether this replica has heard the others' counts for `who`'s window (else `learn` first). */
  knows(category: Category, who: string, windowStart: number): boolean;
  /** Fetches the others' counts for `who`'s window; never rejects (a failure counts them as 0 until the next exchange). */
  learn(category: Category, who: string, windowStart: number, windowMs: number): Promise<void>;
  /** Exchanges counts with the other replicas now. */
  sync(): Promise<void>;
  close(): Promise<void>;
}

export class RateLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();
  readonly limits: RateLimits;
  private sweepAt = 0;
  private readonly peers: PeerCounts | undefined;

  constructor(limits: RateLimits, peers?: PeerCounts) {
    this.limits = limits;
    this.peers = peers;
  }

  /** Exchanges counts with the other replicas now (nothing to do with one process). */
  async sync(): Promise<void> {
    await this.peers?.sync();
  }

  async close(): Promise<void> {
    await this.peers?.close();
  }

  /**
   * Counts one request; returns the numbers for the headers. With replicas, the first request of
   * a caller's window on this replica first asks the others' counts (one query per caller and
   * window); later ones use what the periodic exchange heard.
   */
  async take(category: Category, who: string): Promise<{ limit: number; remaining: number; resetMs: number; allowed: boolean }> {
    if (this.peers) {
      const w = this.limits.windowMs;
      const start = Math.floor(Date.now() / w) * w;
      if (!this.peers.knows(category, who, start)) await this.peers.learn(category, who, start, w);
    }
    return this.hit(category, who);
  }

  /** Counts one request with what is known now; returns the numbers for the headers. */
  hit(category: Category, who: string, now = Date.now()): { limit: number; remaining: number; resetMs: number; allowed: boolean } {
    const limit = this.limits[category];
    const w = this.limits.windowMs;
    const start = Math.floor(now / w) * w;
    if (now > this.sweepAt) {
      for (const [k, v] of this.windows) if (v.start < start) this.windows.delete(k);
      this.sweepAt = start + w;
    }
    const key = `${category}\u0000${who}`;
    let e = this.windows.get(key);
    if (!e || e.start !== start) {
      e = { start, count: 0 };
      this.windows.set(key, e);
    }
    e.count++;
    let count = e.count;
    if (this.peers) {
      this.peers.note(category, who, start, w);
      count += this.peers.of(category, who, start);
    }
    return { limit, remaining: Math.max(0, limit - count), resetMs: start + w, allowed: count <= limit };
  }
}

export function principalKey(p: Principal | undefined, ip: string): string {
  if (!p) return `ip:${ip}`;
  return p.kind === 'edge' ? `key:${p.keyId}` : `user:${p.username}`;
}

/** The contract's 429: error body, `retry_after_seconds` and a Retry-After header. */
export function tooManyRequests(c: Context<Env>, detail: string, retryS: number, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}): Response {
  return c.json(errorBody(c, 'RATE_LIMIT_EXCEEDED', detail, { retry_after_seconds: retryS, ...extra }), 429, { ...headers, 'Retry-After': String(retryS) });
}

export function rateLimit(limiter: RateLimiter, category: Category, clientIp: (c: Parameters<MiddlewareHandler<Env>>[0]) => string): MiddlewareHandler<Env> {
  return async (c, next) => {
    const r = await limiter.take(category, principalKey(c.get('principal'), clientIp(c)));
    const resetS = Math.ceil(r.resetMs / 1000);
    const headers = {
      'X-RateLimit-Limit': String(r.limit),
      'X-RateLimit-Remaining': String(r.remaining),
      'X-RateLimit-Reset': String(resetS),
    };
    if (!r.allowed) {
      const retry = Math.max(1, resetS - Math.floor(Date.now() / 1000));
      return tooManyRequests(c, 'Rate limit exceeded', retry, { limit: r.limit, window_seconds: limiter.limits.windowMs / 1000 }, headers);
    }
    await next();
    for (const [k, v] of Object.entries(headers)) c.res.headers.set(k, v);
  };
}
