/**
 * Refresh tokens: long-lived, single-use, rotated on every use.
 *
 * Guarantees:
 * - A token is `rt_<id>.<secret>`; only sha256(secret) is stored, so a copy of the database
 *   does not let anyone sign in.
 * - Each use returns a new token of the same family and marks the old one used.
 * - Reuse detection: presenting a token that was already used means it was copied (the
 *   legitimate client only ever holds the newest one), so the whole family is revoked and
 *   both holders must sign in again.
 * - Tokens stop working when their user is disabled, at expiry, and at sign-out.
 * - A revoked family also ends the access tokens issued for it (their `sid` claim,
 *   cloud/auth/middleware.ts).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Db } from '../db/open.js';
import { AppError } from '../../shared/errors.js';

const sha256 = (s: string) => createHash('sha256').update(s).digest();

/** Rows expired for this long are dropped; until then a late reuse is still recognised as one. */
export const SWEEP_AFTER_MS = 86_400_000;

/** A stored refresh token (one row of `refresh_tokens`), the same on every backend. */
export interface RefreshTokenRow {
  id: string;
  family_id: string;
  username: string;
  token_hash: string;
  created_at: number;
  expires_at: number;
  used_at: number | null;
  revoked_at: number | null;
}

export interface IssuedRefresh {
  token: string;
  expiresAt: number;
}

/** `token` split into the row id and the secret, or null when it is not `rt_<id>.<secret>`. */
export function parseRefreshToken(token: string): { id: string; secret: string } | null {
  const m = /^rt_([A-Za-z0-9_-]{1,32})\.([A-Za-z0-9_-]{16,128})$/.exec(token);
  return m ? { id: m[1]!, secret: m[2]! } : null;
}

/** Whether `secret` is the one whose sha256 (hex) `storedHex` holds, compared in constant time. */
export function secretMatches(storedHex: string, secret: string): boolean {
  const given = sha256(secret);
  const stored = Buffer.from(storedHex, 'hex');
  return stored.length === given.length && timingSafeEqual(stored, given);
}

/** A new token of family `familyId` for `username`: what the client gets, and the row to store. */
export function newRefreshToken(username: string, familyId: string, now: number, ttlMs: number): { issued: IssuedRefresh; row: RefreshTokenRow } {
  const id = randomBytes(9).toString('base64url');
  const secret = randomBytes(32).toString('base64url');
  const expiresAt = now + ttlMs;
  return {
    issued: { token: `rt_${id}.${secret}`, expiresAt },
    row: { id, family_id: familyId, username, token_hash: sha256(secret).toString('hex'), created_at: now, expires_at: expiresAt, used_at: null, revoked_at: null },
  };
}

/** A new family (sign-in) id. */
export const newFamilyId = (): string => randomBytes(9).toString('base64url');

/**
 * What presenting `secret` for `row` (undefined: no such row) at `now` means: 'invalid'
 * (unknown, wrong secret, revoked, expired), 'reused' (already rotated once: revoke the
 * family) or 'fresh' (rotate it).
 */
export function rotationVerdict(row: RefreshTokenRow | undefined, secret: string, now: number): 'invalid' | 'reused' | 'fresh' {
  if (!row || !secretMatches(row.token_hash, secret)) return 'invalid';
  if (row.revoked_at !== null || row.expires_at <= now) return 'invalid';
  return row.used_at !== null ? 'reused' : 'fresh';
}

export const invalidRefreshToken = () => new AppError('AUTHENTICATION_FAILED', 'Invalid or expired refresh token');
export const refreshTokenReused = () => new AppError('AUTHENTICATION_FAILED', 'Refresh token reuse detected; every session of this sign-in was ended');

export class SqliteRefreshTokenStore {
  private readonly db: Db;
  readonly ttlMs: number;

  constructor(db: Db, ttlMs: number) {
    this.db = db;
    this.ttlMs = ttlMs;
  }

  private insert(username: string, familyId: string, now: number): IssuedRefresh {
    const { issued, row } = newRefreshToken(username, familyId, now, this.ttlMs);
    this.db
      .prepare('INSERT INTO refresh_tokens (id, family_id, username, token_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(row.id, familyId, username, row.token_hash, now, row.expires_at);
    return issued;
  }

  /** Starts a new family (a sign-in). */
  issue(username: string, now = Date.now()): IssuedRefresh & { familyId: string } {
    this.sweep(now);
    const familyId = newFamilyId();
    return { ...this.insert(username, familyId, now), familyId };
  }

  /**
   * Consumes a token and returns its successor. Throws 401 for anything unknown, expired,
   * revoked or reused; reuse revokes the family first.
   */
  rotate(token: string, now = Date.now()): { username: string; next: IssuedRefresh; familyId: string } {
    const t = parseRefreshToken(token);
    if (!t) throw invalidRefreshToken();
    // The transaction returns instead of throwing so that a reuse's revocation commits.
    const r = this.db.transaction((): { username: string; next: IssuedRefresh; familyId: string } | 'invalid' | 'reused' => {
      const row = this.db.prepare('SELECT * FROM refresh_tokens WHERE id = ?').get(t.id) as RefreshTokenRow | undefined;
      const verdict = rotationVerdict(row, t.secret, now);
      if (verdict === 'invalid') return 'invalid';
      if (verdict === 'reused') {
        this.revokeFamily(row!.family_id, now);
        return 'reused';
      }
      this.db.prepare('UPDATE refresh_tokens SET used_at = ? WHERE id = ?').run(now, row!.id);
      return { username: row!.username, familyId: row!.family_id, next: this.insert(row!.username, row!.family_id, now) };
      // IMMEDIATE: reads then writes beside the events writer thread (docs/cloud-durability.md).
    }).immediate();
    if (r === 'invalid') throw invalidRefreshToken();
    if (r === 'reused') throw refreshTokenReused();
    return r;
  }

  /** Signs out the family of a token (if the token is genuine); returns its family when it was. */
  revokeByToken(token: string, now = Date.now()): string | null {
    const t = parseRefreshToken(token);
    if (!t) return null;
    const row = this.db.prepare('SELECT * FROM refresh_tokens WHERE id = ?').get(t.id) as RefreshTokenRow | undefined;
    if (!row || !secretMatches(row.token_hash, t.secret)) return null;
    this.revokeFamily(row.family_id, now);
    return row.family_id;
  }

  /** Whether a sign-in (family) is still on: its access tokens die with it. */
  familyActive(familyId: string): boolean {
    return this.db.prepare('SELECT 1 FROM refresh_tokens WHERE family_id = ? AND revoked_at IS NULL LIMIT 1').get(familyId) !== undefined;
  }

  revokeFamily(familyId: string, now = Date.now()): void {
    this.db.prepare('UPDATE refresh_tokens SET revoked_at = ? WHERE family_id = ? AND revoked_at IS NULL').run(now, familyId);
  }

  /** Ends every session of a user (disabled, password changed). */
  revokeUser(username: string, now = Date.now()): number {
    return this.db.prepare('UPDATE refresh_tokens SET revoked_at = ? WHERE username = ? AND revoked_at IS NULL').run(now, username).changes;
  }

  /** Drops rows expired for a day; kept a day so late reuse is still recognised as such. */
  private sweep(now: number): void {
    this.db.prepare('DELETE FROM refresh_tokens WHERE expires_at < ?').run(now - SWEEP_AFTER_MS);
  }
}
